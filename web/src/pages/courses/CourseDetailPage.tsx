import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { Link, navigate } from '../../app/router.tsx';
import { AuditHistory } from '../../components/AuditHistory.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { type TabItem, Tabs } from '../../components/Tabs.tsx';
import { ErrorBanner, Loading, Page } from '../../components/ui.tsx';
import { useSearchState } from '../../components/useSearchState.ts';
import { common } from '../../i18n/common.ts';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { CourseStatus } from './CoursesPage.tsx';
import {
  CourseAttendanceTab,
  CourseGradesTab,
  CourseResultsTab,
  CourseStudentsTab,
} from './CourseTabs.tsx';
import { type CourseMessageKey, courseMessages } from './messages.ts';
import type { Course } from './useCourseIndex.ts';
import './courses.css';

const TAB_IDS = ['details', 'students', 'grades', 'attendance', 'results', 'history'];

export function CourseDetailPage({ id }: { id: number }) {
  const t = useT(courseMessages);
  const tc = useT(common);
  const format = useFormat();
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const [state, update] = useSearchState({ tab: 'details' });
  const fieldLabel = (name: string) =>
    name in courseMessages.en ? t(name as CourseMessageKey) : name.replaceAll('_', ' ');

  const course = useQuery({
    queryKey: ['course', id],
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/courses/{id}', {
          params: { path: { id }, query: { include_deleted: 'true' } },
        }),
      ),
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['courses'] });
    void queryClient.invalidateQueries({ queryKey: ['course', id] });
    void queryClient.invalidateQueries({ queryKey: ['audit', 'history', 'COURSE', String(id)] });
  };
  const remove = useMutation({
    mutationFn: async () =>
      unwrap(await client.DELETE('/api/v1/courses/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      refresh();
      navigate('/courses');
    },
  });
  const restore = useMutation({
    mutationFn: async () =>
      unwrap(await client.POST('/api/v1/courses/{id}/restore', { params: { path: { id } } })),
    onSuccess: (restored) => {
      queryClient.setQueryData(['course', id], restored);
      refresh();
    },
  });

  if (course.isPending) return <Loading />;
  if (course.isError)
    return <ErrorBanner error={course.error} onRetry={() => void course.refetch()} />;
  const record = course.data;
  const deleted = Boolean(record.deleted_at);
  const name = `${record.course_code} · ${record.course_name}`;

  const tabs: TabItem[] = [
    { id: 'details', label: t('tabDetails'), render: () => <CourseDetails course={record} /> },
  ];
  if (can('enrollments:read') && !deleted)
    tabs.push({
      id: 'students',
      label: t('tabStudents'),
      render: () => <CourseStudentsTab courseId={id} />,
    });
  if (can('grades:read') && can('enrollments:read') && !deleted)
    tabs.push({
      id: 'grades',
      label: t('tabGrades'),
      render: () => <CourseGradesTab course={record} />,
    });
  if (can('attendance:read') && can('enrollments:read') && !deleted)
    tabs.push({
      id: 'attendance',
      label: t('tabAttendance'),
      render: () => <CourseAttendanceTab courseId={id} />,
    });
  if (can('grades:read') && !deleted)
    tabs.push({
      id: 'results',
      label: t('tabResults'),
      render: () => <CourseResultsTab courseId={id} />,
    });
  if (can('audit:read'))
    tabs.push({
      id: 'history',
      label: t('tabHistory'),
      render: () => <AuditHistory resource="COURSE" resourceId={id} fieldLabel={fieldLabel} />,
    });
  const selected = TAB_IDS.includes(state.tab) ? state.tab : 'details';

  return (
    <Page
      title={name}
      actions={
        can('courses:write') ? (
          deleted ? (
            <button
              type="button"
              className="primary"
              disabled={restore.isPending}
              onClick={() => restore.mutate()}
            >
              {tc('restore')}
            </button>
          ) : (
            <>
              <Link to={`/courses/${id}/edit`} className="button">
                {tc('edit')}
              </Link>
              <ConfirmButton
                label={tc('delete')}
                question={t('deleteQuestion', { name: record.course_code })}
                busy={remove.isPending}
                onConfirm={() => remove.mutate()}
              />
            </>
          )
        ) : null
      }
    >
      <p className="record-meta">
        <span>
          {t('semester')}: <strong>{record.semester}</strong>
        </span>
        {deleted ? <CourseStatus deleted /> : null}
        <Link to="/courses">{t('listTitle')}</Link>
      </p>
      {deleted ? (
        <p className="banner banner-warning" role="status">
          {t('deletedBanner', { date: format.dateTime(record.deleted_at) })}
        </p>
      ) : null}
      {restore.isSuccess ? (
        <p className="banner banner-success" role="status">
          {t('restoredBanner')}
        </p>
      ) : null}
      <ErrorBanner error={remove.error ?? restore.error} />
      <Tabs
        label={t('courseTabs')}
        tabs={tabs}
        selected={selected}
        onSelect={(tab) => update({ tab }, { replace: true })}
      />
    </Page>
  );
}

function CourseDetails({ course }: { course: Course }) {
  const t = useT(courseMessages);
  const format = useFormat();
  const row = (label: string, value: string | number) => (
    <div className="details-row" key={label}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
  return (
    <>
      <dl className="details">
        {row(t('course_code'), course.course_code)}
        {row(t('course_name'), course.course_name)}
        {row(t('semester'), course.semester)}
        {row(t('credits'), format.number(course.credits))}
        {row(t('hours_per_week'), format.number(course.hours_per_week))}
        {row(t('absence_penalty'), format.number(course.absence_penalty))}
        {row(t('description'), course.description ?? '—')}
        {row(t('created_at'), format.dateTime(course.created_at))}
        {row(t('updated_at'), format.dateTime(course.updated_at))}
      </dl>
      <h2>{t('evaluation_rules')}</h2>
      {course.evaluation_rules.length === 0 ? (
        <p>{t('noRules')}</p>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('category')}</th>
              <th scope="col" className="number">
                {t('weight')}
              </th>
            </tr>
          </thead>
          <tbody>
            {course.evaluation_rules.map((rule) => (
              <tr key={rule.category}>
                <td>{rule.category}</td>
                <td className="number">{format.number(rule.weight)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('teaching_schedule')}</h2>
      {course.teaching_schedule.length === 0 ? (
        <p>{t('noSchedule')}</p>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('day')}</th>
              <th scope="col">{t('startTime')}</th>
              <th scope="col">{t('endTime')}</th>
              <th scope="col">{t('room')}</th>
            </tr>
          </thead>
          <tbody>
            {course.teaching_schedule.map((slot) => (
              <tr key={`${slot.day}-${slot.start_time}-${slot.room ?? ''}`}>
                <td>
                  {`weekday_${slot.day}` in courseMessages.en
                    ? t(`weekday_${slot.day}` as CourseMessageKey)
                    : slot.day}
                </td>
                <td>{slot.start_time}</td>
                <td>{slot.end_time}</td>
                <td>{slot.room ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
