import { useQuery } from '@tanstack/react-query';
import { unwrap } from '../../api/client.ts';
import type { QueryOf } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { Link } from '../../app/router.tsx';
import { useAuditActionLabel } from '../../components/AuditHistory.tsx';
import { ErrorBanner, Loading, Page, StatusBadge } from '../../components/ui.tsx';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { type JobMessageKey, jobMessages } from '../../live/job-messages.ts';
import { type DashboardMessageKey, dashboardMessages } from './messages.ts';
import './dashboard.css';

type AuditQuery = QueryOf<'/api/v1/audit/logs', 'get'>;

/** One count: a list's `total`, asked for with page_size=1. */
function useTotal(
  key: string,
  enabled: boolean,
  load: () => Promise<{ total: number }>,
  filters: Record<string, unknown> = {},
) {
  return useQuery({
    queryKey: [key, { page_size: 1, ...filters }],
    enabled,
    queryFn: load,
    select: (page) => page.total,
  });
}

function CountCard({
  label,
  value,
  to,
}: {
  label: string;
  value: { data?: number | undefined; isError: boolean; isPending: boolean };
  to: string;
}) {
  const format = useFormat();
  return (
    <li className="card">
      <Link to={to} className="card-link">
        <span className="card-value">
          {value.isError ? '—' : value.isPending ? '…' : format.number(value.data)}
        </span>
        <span className="card-label">{label}</span>
      </Link>
    </li>
  );
}

function Counts() {
  const t = useT(dashboardMessages);
  const { client } = useApi();
  const { can, user } = useAuth();
  const students = useTotal('students', can('students:read'), async () =>
    unwrap(await client.GET('/api/v1/students', { params: { query: { page_size: 1 } } })),
  );
  const active = useTotal(
    'students',
    can('students:read'),
    async () =>
      unwrap(
        await client.GET('/api/v1/students', {
          params: { query: { page_size: 1, is_active: 'true' } },
        }),
      ),
    { is_active: 'true' },
  );
  const courses = useTotal('courses', can('courses:read'), async () =>
    unwrap(await client.GET('/api/v1/courses', { params: { query: { page_size: 1 } } })),
  );
  const enrollments = useTotal('enrollments', can('enrollments:read'), async () =>
    unwrap(await client.GET('/api/v1/enrollments', { params: { query: { page_size: 1 } } })),
  );
  const runningQuery = {
    page_size: 1,
    status: 'PROCESSING' as const,
    ...(can('jobs:manage') || !user ? {} : { user_id: user.id }),
  };
  const running = useTotal(
    'jobs',
    can('jobs:read'),
    async () => {
      const list = unwrap(await client.GET('/api/v1/jobs', { params: { query: runningQuery } }));
      return { total: list.total };
    },
    runningQuery,
  );
  return (
    <section aria-labelledby="dashboard-counts">
      <h2 id="dashboard-counts">{t('counts')}</h2>
      <ul className="cards dashboard-cards">
        {can('students:read') ? (
          <>
            <CountCard label={t('students')} value={students} to="/students" />
            <CountCard label={t('activeStudents')} value={active} to="/students?is_active=true" />
          </>
        ) : null}
        {can('courses:read') ? (
          <CountCard label={t('courses')} value={courses} to="/courses" />
        ) : null}
        {can('enrollments:read') ? (
          <CountCard label={t('enrollments')} value={enrollments} to="/courses" />
        ) : null}
        {can('jobs:read') ? (
          <CountCard label={t('runningJobs')} value={running} to="/jobs?status=PROCESSING" />
        ) : null}
      </ul>
    </section>
  );
}

function MyJobs() {
  const t = useT(dashboardMessages);
  const tj = useT(jobMessages);
  const format = useFormat();
  const { client } = useApi();
  const { user } = useAuth();
  const query = { page_size: 5, ...(user ? { user_id: user.id } : {}) };
  // ['jobs', …]: the live job events keep this list fresh.
  const jobs = useQuery({
    queryKey: ['jobs', query],
    queryFn: async () => unwrap(await client.GET('/api/v1/jobs', { params: { query } })),
  });
  return (
    <section aria-labelledby="dashboard-jobs" className="dashboard-panel">
      <div className="panel-header">
        <h2 id="dashboard-jobs">{t('myJobs')}</h2>
        <Link to="/jobs">{t('allJobs')}</Link>
      </div>
      {jobs.isPending ? <Loading /> : null}
      <ErrorBanner error={jobs.error} onRetry={() => void jobs.refetch()} />
      {jobs.data && jobs.data.jobs.length === 0 ? <p>{t('noJobs')}</p> : null}
      {jobs.data && jobs.data.jobs.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('job')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('progress')}</th>
              <th scope="col">{t('started')}</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data.jobs.map((job) => {
              const type = tj(`type_${job.job_type}` as JobMessageKey);
              const percent = Math.max(0, Math.min(100, job.progress.percentage));
              return (
                <tr key={job.id}>
                  <td>
                    <Link to={`/jobs/${job.id}`}>{type}</Link>
                  </td>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td className="progress-cell">
                    <progress
                      className="progress"
                      max={100}
                      value={percent}
                      aria-label={t('progressOf', { job: type })}
                    />
                    <span>{format.percent(percent / 100)}</span>
                  </td>
                  <td className="nowrap">{format.dateTime(job.started_at ?? job.created_at)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function useAuditLogs(query: AuditQuery) {
  const { client } = useApi();
  return useQuery({
    queryKey: ['audit', 'logs', query],
    queryFn: async () => unwrap(await client.GET('/api/v1/audit/logs', { params: { query } })),
  });
}

function RecentAudit() {
  const t = useT(dashboardMessages);
  const format = useFormat();
  const actionLabel = useAuditActionLabel();
  const logs = useAuditLogs({ page_size: 8 });
  const resource = (name: string) =>
    `resource${name}` in dashboardMessages.en ? t(`resource${name}` as DashboardMessageKey) : name;
  return (
    <section aria-labelledby="dashboard-audit" className="dashboard-panel">
      <div className="panel-header">
        <h2 id="dashboard-audit">{t('recentAudit')}</h2>
        <Link to="/audit">{t('auditLog')}</Link>
      </div>
      {logs.isPending ? <Loading /> : null}
      <ErrorBanner error={logs.error} onRetry={() => void logs.refetch()} />
      {logs.data && logs.data.logs.length === 0 ? <p>{t('noAudit')}</p> : null}
      {logs.data && logs.data.logs.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('when')}</th>
              <th scope="col">{t('who')}</th>
              <th scope="col">{t('action')}</th>
              <th scope="col">{t('record')}</th>
              <th scope="col">{t('result')}</th>
            </tr>
          </thead>
          <tbody>
            {logs.data.logs.map((entry) => (
              <tr key={entry.id}>
                <td className="nowrap">{format.dateTime(entry.timestamp)}</td>
                <td>{entry.user_email ?? t('system')}</td>
                <td>{actionLabel(entry.action)}</td>
                <td>
                  {resource(entry.resource)}
                  {entry.resource_id ? ` #${entry.resource_id}` : ''}
                </td>
                <td>
                  {entry.success ? (
                    <span className="badge badge-completed">
                      <span aria-hidden="true">✓</span> {t('ok')}
                    </span>
                  ) : (
                    <span className="badge badge-failed">
                      <span aria-hidden="true">✕</span> {t('failed')}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function FailedSignIns() {
  const t = useT(dashboardMessages);
  const format = useFormat();
  const logs = useAuditLogs({ action: 'LOGIN', success: 'false', page_size: 8 });
  return (
    <section aria-labelledby="dashboard-failed" className="dashboard-panel">
      <div className="panel-header">
        <h2 id="dashboard-failed">{t('failedSignIns')}</h2>
        <Link to="/audit?action=LOGIN&success=false">{t('auditLog')}</Link>
      </div>
      {logs.isPending ? <Loading /> : null}
      <ErrorBanner error={logs.error} onRetry={() => void logs.refetch()} />
      {logs.data && logs.data.logs.length === 0 ? <p>{t('noFailedSignIns')}</p> : null}
      {logs.data && logs.data.logs.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('when')}</th>
              <th scope="col">{t('who')}</th>
              <th scope="col">{t('address')}</th>
              <th scope="col">{t('reason')}</th>
            </tr>
          </thead>
          <tbody>
            {logs.data.logs.map((entry) => (
              <tr key={entry.id}>
                <td className="nowrap">{format.dateTime(entry.timestamp)}</td>
                <td>{entry.user_email ?? '—'}</td>
                <td>{entry.ip_address ?? '—'}</td>
                <td>{entry.error_message ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function DashboardPage() {
  const t = useT(dashboardMessages);
  const { user, can } = useAuth();
  return (
    <Page title={t('title')}>
      {user ? (
        <p className="summary">{t('welcome', { name: user.full_name || user.email })}</p>
      ) : null}
      <Counts />
      <div className="dashboard-grid">
        {can('jobs:read') ? <MyJobs /> : null}
        {can('audit:read') ? <RecentAudit /> : null}
        {can('audit:read') ? <FailedSignIns /> : null}
      </div>
    </Page>
  );
}
