import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import type { QueryOf } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { Link } from '../../app/router.tsx';
import { SortHeader } from '../../components/SortHeader.tsx';
import { ErrorBanner, Field, Loading, Page, Pagination } from '../../components/ui.tsx';
import { useSearchState } from '../../components/useSearchState.ts';
import { common } from '../../i18n/common.ts';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { courseMessages } from './messages.ts';

type CourseQuery = QueryOf<'/api/v1/courses', 'get'>;

const DEFAULTS = {
  search: '',
  semester: '',
  include_deleted: 'false',
  sort: 'course_code',
  page: '1',
  page_size: '50',
};

const PAGE_SIZES = ['25', '50', '100'];

export function courseListQuery(state: typeof DEFAULTS): CourseQuery {
  const query: CourseQuery = {
    sort: state.sort,
    page: Number(state.page) || 1,
    page_size: Number(state.page_size) || 50,
  };
  if (state.search) query.search = state.search;
  if (state.semester) query.semester = state.semester;
  if (state.include_deleted === 'true') query.include_deleted = 'true';
  return query;
}

/** The semester labels in use, for filters and pickers. */
export function useSemesters() {
  const { client } = useApi();
  return useQuery({
    queryKey: ['courses', 'semesters'],
    staleTime: 60_000,
    queryFn: async () => unwrap(await client.GET('/api/v1/sessions/semesters')),
  });
}

/** Current or deleted, as an icon and a word. */
export function CourseStatus({ deleted }: { deleted: boolean }) {
  const t = useT(courseMessages);
  return deleted ? (
    <span className="badge badge-failed">
      <span aria-hidden="true">🗑</span> {t('deleted')}
    </span>
  ) : (
    <span className="badge badge-completed">
      <span aria-hidden="true">●</span> {t('live')}
    </span>
  );
}

export function CoursesPage() {
  const t = useT(courseMessages);
  const tc = useT(common);
  const format = useFormat();
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const [state, update] = useSearchState(DEFAULTS);
  const query = courseListQuery(state);
  const semesters = useSemesters();
  const [search, setSearch] = useState(state.search);
  useEffect(() => setSearch(state.search), [state.search]);

  const list = useQuery({
    queryKey: ['courses', query],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await client.GET('/api/v1/courses', { params: { query } })),
  });
  const restore = useMutation({
    mutationFn: async (id: number) =>
      unwrap(await client.POST('/api/v1/courses/{id}/restore', { params: { path: { id } } })),
    onSuccess: (course) => {
      void queryClient.invalidateQueries({ queryKey: ['courses'] });
      void queryClient.invalidateQueries({ queryKey: ['course', course.id] });
    },
  });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    update({ search, page: '1' }, { replace: true });
  };
  const onSort = (sort: string) => update({ sort, page: '1' }, { replace: true });
  const filtered = state.search || state.semester || state.include_deleted === 'true';
  const writable = can('courses:write');
  const showActions = writable && state.include_deleted === 'true';
  const sortLabels: Record<string, string> = {
    course_code: t('course_code'),
    course_name: t('course_name'),
    semester: t('semester'),
    credits: t('credits'),
    created_at: t('created_at'),
  };

  return (
    <Page
      title={t('listTitle')}
      actions={
        writable ? (
          <Link to="/courses/new" className="button primary">
            {t('newCourse')}
          </Link>
        ) : null
      }
    >
      <search aria-label={tc('filters')}>
        <form className="toolbar" onSubmit={apply}>
          <Field label={t('searchLabel')} hint={t('searchHint')}>
            {(props) => (
              <input
                {...props}
                type="search"
                value={search}
                onChange={(event) => setSearch(event.target.value)}
              />
            )}
          </Field>
          <Field label={t('semester')}>
            {(props) => (
              <select
                {...props}
                value={state.semester}
                onChange={(event) =>
                  update({ semester: event.target.value, page: '1' }, { replace: true })
                }
              >
                <option value="">{t('allSemesters')}</option>
                {(semesters.data?.semesters ?? []).map((semester) => (
                  <option key={semester} value={semester}>
                    {semester}
                  </option>
                ))}
                {state.semester && !semesters.data?.semesters.includes(state.semester) ? (
                  <option value={state.semester}>{state.semester}</option>
                ) : null}
              </select>
            )}
          </Field>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={state.include_deleted === 'true'}
              onChange={(event) =>
                update(
                  { include_deleted: event.target.checked ? 'true' : 'false', page: '1' },
                  { replace: true },
                )
              }
            />
            {t('showDeleted')}
          </label>
          <button type="submit" className="primary">
            {tc('search')}
          </button>
          {filtered ? (
            <button
              type="button"
              onClick={() =>
                update(
                  { search: '', semester: '', include_deleted: 'false', page: '1' },
                  { replace: true },
                )
              }
            >
              {tc('clearFilters')}
            </button>
          ) : null}
        </form>
      </search>

      <ErrorBanner error={list.error ?? restore.error} onRetry={() => void list.refetch()} />
      {list.isPending ? <Loading /> : null}
      {list.data ? (
        <>
          <table className="data" aria-busy={list.isFetching}>
            <caption className="visually-hidden">
              {t('tableCaption', { sort: sortLabels[state.sort.replace(/^-/, '')] ?? state.sort })}
            </caption>
            <thead>
              <tr>
                <SortHeader
                  label={t('course_code')}
                  column="course_code"
                  sort={state.sort}
                  onSort={onSort}
                />
                <SortHeader
                  label={t('course_name')}
                  column="course_name"
                  sort={state.sort}
                  onSort={onSort}
                />
                <SortHeader
                  label={t('semester')}
                  column="semester"
                  sort={state.sort}
                  onSort={onSort}
                />
                <SortHeader
                  label={t('credits')}
                  column="credits"
                  sort={state.sort}
                  onSort={onSort}
                  className="number"
                />
                <th scope="col" className="number">
                  {t('hours_per_week')}
                </th>
                {state.include_deleted === 'true' ? <th scope="col">{t('status')}</th> : null}
                {showActions ? <th scope="col">{t('actions')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((course) => (
                <tr key={course.id} className={course.deleted_at ? 'row-deleted' : undefined}>
                  <td className="nowrap">{course.course_code}</td>
                  <td>
                    <Link to={`/courses/${course.id}`}>{course.course_name}</Link>
                  </td>
                  <td>{course.semester}</td>
                  <td className="number">{format.number(course.credits)}</td>
                  <td className="number">{format.number(course.hours_per_week)}</td>
                  {state.include_deleted === 'true' ? (
                    <td>
                      <CourseStatus deleted={Boolean(course.deleted_at)} />
                    </td>
                  ) : null}
                  {showActions ? (
                    <td>
                      {course.deleted_at ? (
                        <button
                          type="button"
                          disabled={restore.isPending}
                          onClick={() => restore.mutate(course.id)}
                          aria-label={`${tc('restore')}: ${course.course_code}`}
                        >
                          {tc('restore')}
                        </button>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
          {list.data.items.length === 0 ? (
            <p className="banner">{filtered ? t('noCourses') : tc('noResults')}</p>
          ) : null}
          <div className="list-footer">
            <Pagination
              page={list.data.page}
              pageSize={list.data.page_size}
              total={list.data.total}
              hasNext={list.data.has_next}
              onPage={(page) => update({ page: String(page) })}
            />
            <Field label={tc('pageSize')}>
              {(props) => (
                <select
                  {...props}
                  value={state.page_size}
                  onChange={(event) =>
                    update({ page_size: event.target.value, page: '1' }, { replace: true })
                  }
                >
                  {PAGE_SIZES.map((size) => (
                    <option key={size} value={size}>
                      {size}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
        </>
      ) : null}
    </Page>
  );
}
