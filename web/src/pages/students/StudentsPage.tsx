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
import { studentMessages } from './messages.ts';
import './students.css';

type StudentQuery = QueryOf<'/api/v1/students', 'get'>;

const DEFAULTS = {
  search: '',
  study_year: '',
  is_active: '',
  academic_year: '',
  class_division: '',
  include_deleted: 'false',
  sort: 'last_name',
  page: '1',
  page_size: '50',
};

const PAGE_SIZES = ['25', '50', '100'];
const YEARS = Array.from({ length: 12 }, (_, index) => String(index + 1));

/** The URL's filters as the API's query (only what is set). */
export function studentListQuery(state: typeof DEFAULTS): StudentQuery {
  const query: StudentQuery = {
    sort: state.sort,
    page: Number(state.page) || 1,
    page_size: Number(state.page_size) || 50,
  };
  if (state.search) query.search = state.search;
  if (state.study_year) query.study_year = Number(state.study_year);
  if (state.is_active === 'true' || state.is_active === 'false') query.is_active = state.is_active;
  if (state.academic_year) query.academic_year = state.academic_year;
  if (state.class_division) query.class_division = state.class_division;
  if (state.include_deleted === 'true') query.include_deleted = 'true';
  return query;
}

export function StudentsPage() {
  const t = useT(studentMessages);
  const tc = useT(common);
  const format = useFormat();
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const [state, update] = useSearchState(DEFAULTS);
  const query = studentListQuery(state);

  // Text filters are typed first and applied on Enter or Search; the URL keeps the applied ones.
  const [draft, setDraft] = useState({
    search: state.search,
    academic_year: state.academic_year,
    class_division: state.class_division,
  });
  useEffect(() => {
    setDraft({
      search: state.search,
      academic_year: state.academic_year,
      class_division: state.class_division,
    });
  }, [state.search, state.academic_year, state.class_division]);

  const list = useQuery({
    queryKey: ['students', query],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await client.GET('/api/v1/students', { params: { query } })),
  });

  const restore = useMutation({
    mutationFn: async (id: number) =>
      unwrap(await client.POST('/api/v1/students/{id}/restore', { params: { path: { id } } })),
    onSuccess: (student) => {
      void queryClient.invalidateQueries({ queryKey: ['students'] });
      void queryClient.invalidateQueries({ queryKey: ['student', student.id] });
    },
  });

  const applyText = (event: FormEvent) => {
    event.preventDefault();
    update({ ...draft, page: '1' }, { replace: true });
  };
  const filtered =
    state.search ||
    state.study_year ||
    state.is_active ||
    state.academic_year ||
    state.class_division ||
    state.include_deleted === 'true';
  const sortLabels: Record<string, string> = {
    last_name: t('last_name'),
    first_name: t('first_name'),
    student_id: t('student_id'),
    study_year: t('study_year'),
    enrollment_date: t('enrollment_date'),
    created_at: t('created_at'),
  };
  const onSort = (sort: string) => update({ sort, page: '1' }, { replace: true });

  return (
    <Page
      title={t('listTitle')}
      actions={
        can('students:write') ? (
          <Link to="/students/new" className="button primary">
            {t('newStudent')}
          </Link>
        ) : null
      }
    >
      <search aria-label={tc('filters')}>
        <form className="toolbar" onSubmit={applyText}>
          <Field label={t('searchLabel')} hint={t('searchHint')}>
            {(props) => (
              <input
                {...props}
                type="search"
                value={draft.search}
                onChange={(event) => setDraft({ ...draft, search: event.target.value })}
              />
            )}
          </Field>
          <Field label={t('study_year')}>
            {(props) => (
              <select
                {...props}
                value={state.study_year}
                onChange={(event) =>
                  update({ study_year: event.target.value, page: '1' }, { replace: true })
                }
              >
                <option value="">{t('allYears')}</option>
                {YEARS.map((year) => (
                  <option key={year} value={year}>
                    {t('yearOption', { year })}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('activeFilter')}>
            {(props) => (
              <select
                {...props}
                value={state.is_active}
                onChange={(event) =>
                  update({ is_active: event.target.value, page: '1' }, { replace: true })
                }
              >
                <option value="">{t('allStatuses')}</option>
                <option value="true">{t('onlyActive')}</option>
                <option value="false">{t('onlyInactive')}</option>
              </select>
            )}
          </Field>
          <Field label={t('class_division')}>
            {(props) => (
              <input
                {...props}
                className="narrow-input"
                value={draft.class_division}
                onChange={(event) => setDraft({ ...draft, class_division: event.target.value })}
              />
            )}
          </Field>
          <Field label={t('academic_year')} hint={t('academicYearHint')}>
            {(props) => (
              <input
                {...props}
                className="narrow-input"
                value={draft.academic_year}
                onChange={(event) => setDraft({ ...draft, academic_year: event.target.value })}
              />
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
                  {
                    search: '',
                    study_year: '',
                    is_active: '',
                    academic_year: '',
                    class_division: '',
                    include_deleted: 'false',
                    page: '1',
                  },
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
                  label={t('student_id')}
                  column="student_id"
                  sort={state.sort}
                  onSort={onSort}
                />
                <SortHeader
                  label={t('last_name')}
                  column="last_name"
                  sort={state.sort}
                  onSort={onSort}
                />
                <SortHeader
                  label={t('first_name')}
                  column="first_name"
                  sort={state.sort}
                  onSort={onSort}
                />
                <SortHeader
                  label={t('study_year')}
                  column="study_year"
                  sort={state.sort}
                  onSort={onSort}
                  className="number"
                />
                <th scope="col">{t('class_division')}</th>
                <th scope="col">{t('academic_year')}</th>
                <SortHeader
                  label={t('enrollment_date')}
                  column="enrollment_date"
                  sort={state.sort}
                  onSort={onSort}
                />
                <th scope="col">{t('status')}</th>
                {can('students:write') && state.include_deleted === 'true' ? (
                  <th scope="col">{t('actions')}</th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((student) => (
                <tr key={student.id} className={student.deleted_at ? 'row-deleted' : undefined}>
                  <td className="nowrap">{student.student_id}</td>
                  <td>
                    <Link to={`/students/${student.id}`}>{student.last_name}</Link>
                  </td>
                  <td>{student.first_name}</td>
                  <td className="number">{format.number(student.study_year)}</td>
                  <td>{student.class_division ?? '—'}</td>
                  <td>{student.academic_year ?? '—'}</td>
                  <td className="nowrap">{format.date(student.enrollment_date)}</td>
                  <td>
                    <StudentStatus
                      active={student.is_active}
                      deleted={Boolean(student.deleted_at)}
                    />
                  </td>
                  {can('students:write') && state.include_deleted === 'true' ? (
                    <td>
                      {student.deleted_at ? (
                        <button
                          type="button"
                          disabled={restore.isPending}
                          onClick={() => restore.mutate(student.id)}
                          aria-label={`${tc('restore')}: ${student.last_name} ${student.first_name}`}
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
            <p className="banner">{filtered ? t('noStudents') : tc('noResults')}</p>
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

/** Active, inactive or deleted, as an icon and a word. */
export function StudentStatus({ active, deleted }: { active: boolean; deleted: boolean }) {
  const t = useT(studentMessages);
  if (deleted) {
    return (
      <span className="badge badge-failed">
        <span aria-hidden="true">🗑</span> {t('deleted')}
      </span>
    );
  }
  return active ? (
    <span className="badge badge-completed">
      <span aria-hidden="true">●</span> {t('active')}
    </span>
  ) : (
    <span className="badge badge-pending">
      <span aria-hidden="true">○</span> {t('inactive')}
    </span>
  );
}
