import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { unwrap } from '../../api/client.ts';
import type { ResponseBody } from '../../api/types.ts';
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
import { STUDENT_FIELDS, type StudentMessageKey, studentMessages } from './messages.ts';
import { StudentStatus } from './StudentsPage.tsx';
import {
  StudentAttendanceTab,
  StudentEnrollmentsTab,
  StudentGradesTab,
  StudentHighlightsTab,
  StudentResultsTab,
} from './StudentTabs.tsx';
import './students.css';

export type Student = ResponseBody<'/api/v1/students/{id}', 'get'>;

const TAB_IDS = [
  'details',
  'enrollments',
  'grades',
  'attendance',
  'highlights',
  'results',
  'history',
] as const;

/** The field's label for the history table; unknown columns keep their own name. */
export function useStudentFieldLabel() {
  const t = useT(studentMessages);
  return (name: string) =>
    name in studentMessages.en ? t(name as StudentMessageKey) : name.replaceAll('_', ' ');
}

export function StudentDetailPage({ id }: { id: number }) {
  const t = useT(studentMessages);
  const tc = useT(common);
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const format = useFormat();
  const fieldLabel = useStudentFieldLabel();
  const [state, update] = useSearchState({ tab: 'details' });

  const student = useQuery({
    queryKey: ['student', id],
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/students/{id}', {
          params: { path: { id }, query: { include_deleted: 'true' } },
        }),
      ),
  });

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['students'] });
    void queryClient.invalidateQueries({ queryKey: ['student', id] });
    void queryClient.invalidateQueries({ queryKey: ['audit', 'history', 'STUDENT', String(id)] });
  };
  const remove = useMutation({
    mutationFn: async () =>
      unwrap(await client.DELETE('/api/v1/students/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      refresh();
      navigate('/students');
    },
  });
  const restore = useMutation({
    mutationFn: async () =>
      unwrap(await client.POST('/api/v1/students/{id}/restore', { params: { path: { id } } })),
    onSuccess: (restored) => {
      queryClient.setQueryData(['student', id], restored);
      refresh();
    },
  });

  if (student.isPending) return <Loading />;
  if (student.isError)
    return <ErrorBanner error={student.error} onRetry={() => void student.refetch()} />;
  const record = student.data;
  const name = `${record.first_name} ${record.last_name}`;
  const deleted = Boolean(record.deleted_at);

  const tabs: TabItem[] = [
    { id: 'details', label: t('tabDetails'), render: () => <StudentDetails student={record} /> },
  ];
  if (can('enrollments:read') && !deleted)
    tabs.push({
      id: 'enrollments',
      label: t('tabEnrollments'),
      render: () => <StudentEnrollmentsTab studentId={id} />,
    });
  if (can('grades:read') && !deleted)
    tabs.push({
      id: 'grades',
      label: t('tabGrades'),
      render: () => <StudentGradesTab studentId={id} />,
    });
  if (can('attendance:read') && !deleted)
    tabs.push({
      id: 'attendance',
      label: t('tabAttendance'),
      render: () => <StudentAttendanceTab studentId={id} />,
    });
  if (can('highlights:read') && !deleted)
    tabs.push({
      id: 'highlights',
      label: t('tabHighlights'),
      render: () => <StudentHighlightsTab studentId={id} />,
    });
  if (can('grades:read') && !deleted)
    tabs.push({
      id: 'results',
      label: t('tabResults'),
      render: () => <StudentResultsTab studentId={id} />,
    });
  if (can('audit:read'))
    tabs.push({
      id: 'history',
      label: t('tabHistory'),
      render: () => <AuditHistory resource="STUDENT" resourceId={id} fieldLabel={fieldLabel} />,
    });
  const selected = TAB_IDS.includes(state.tab as (typeof TAB_IDS)[number]) ? state.tab : 'details';

  return (
    <Page
      title={name}
      actions={
        can('students:write') ? (
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
              <Link to={`/students/${id}/edit`} className="button">
                {tc('edit')}
              </Link>
              <ConfirmButton
                label={tc('delete')}
                question={t('deleteQuestion', { name })}
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
          {t('student_id')}: <strong>{record.student_id}</strong>
        </span>
        <StudentStatus active={record.is_active} deleted={deleted} />
        <Link to="/students">{t('listTitle')}</Link>
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
        label={t('studentTabs')}
        tabs={tabs}
        selected={selected}
        onSelect={(tab) => update({ tab }, { replace: true })}
      />
    </Page>
  );
}

function StudentDetails({ student }: { student: Student }) {
  const t = useT(studentMessages);
  const tc = useT(common);
  const format = useFormat();
  const value = (name: (typeof STUDENT_FIELDS)[number]) => {
    switch (name) {
      case 'is_active':
        return student.is_active ? tc('yes') : tc('no');
      case 'enrollment_date':
        return format.date(student.enrollment_date);
      case 'study_year':
        return format.number(student.study_year);
      default:
        return student[name] ?? '—';
    }
  };
  return (
    <dl className="details">
      {STUDENT_FIELDS.map((name) => (
        <div key={name} className="details-row">
          <dt>{t(name)}</dt>
          <dd>{value(name)}</dd>
        </div>
      ))}
      <div className="details-row">
        <dt>{t('created_at')}</dt>
        <dd>{format.dateTime(student.created_at)}</dd>
      </div>
      <div className="details-row">
        <dt>{t('updated_at')}</dt>
        <dd>{format.dateTime(student.updated_at)}</dd>
      </div>
    </dl>
  );
}
