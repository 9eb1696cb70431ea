import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { Link } from '../../app/router.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { JobProgressMonitor } from '../../components/JobProgressMonitor.tsx';
import {
  Drawer,
  ErrorBanner,
  Field,
  Loading,
  Page,
  Pagination,
  StatusBadge,
} from '../../components/ui.tsx';
import { useSearchState } from '../../components/useSearchState.ts';
import { common } from '../../i18n/common.ts';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { type JobMessageKey, jobMessages } from '../../live/job-messages.ts';
import { useJob, useJobActions, useSocketState } from '../../live/LiveJobEvents.tsx';
import {
  isFinished,
  JOB_STATUSES,
  JOB_TYPES,
  type Job,
  type JobListQuery,
  type JobStatus,
  type JobType,
} from '../../live/types.ts';
import { JobFacts } from './JobFacts.tsx';
import { jobsMessages } from './messages.ts';
import './jobs.css';

const PAGE_SIZE = 25;
/** While the socket is down, lists refresh this often. */
const LIST_POLL_MS = 5_000;

const FILTERS = { status: '', job_type: '', user_id: '', from: '', to: '', page: '1', job: '' };

/** A day picked in the browser's time zone, as the instant it starts (or ends). */
function dayBoundary(day: string, end: boolean): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const [year, month, date] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
  const instant = end
    ? new Date(year, month, date, 23, 59, 59, 999)
    : new Date(year, month, date, 0, 0, 0, 0);
  return instant.toISOString();
}

/** The list query for the filters on screen (the API's names and formats). */
export function jobListQuery(filters: typeof FILTERS, canManage: boolean): JobListQuery {
  const query: JobListQuery = {
    page: Math.max(1, Number(filters.page) || 1),
    page_size: PAGE_SIZE,
  };
  if (filters.status) query.status = filters.status as JobStatus;
  if (filters.job_type) query.job_type = filters.job_type as JobType;
  if (canManage && /^\d+$/.test(filters.user_id)) query.user_id = Number(filters.user_id);
  const from = dayBoundary(filters.from, false);
  const to = dayBoundary(filters.to, true);
  if (from) query.created_from = from;
  if (to) query.created_to = to;
  return query;
}

function useUserNames(enabled: boolean): Map<number, string> {
  const { client } = useApi();
  const users = useQuery({
    queryKey: ['users', { page_size: 500, purpose: 'names' }],
    enabled,
    staleTime: 5 * 60_000,
    queryFn: async () =>
      unwrap(await client.GET('/api/v1/users', { params: { query: { page_size: 500 } } })),
  });
  const names = new Map<number, string>();
  for (const user of users.data?.items ?? []) names.set(user.id, user.full_name || user.email);
  return names;
}

function ProgressCell({ job }: { job: Job }) {
  const t = useT(jobMessages);
  const format = useFormat();
  if (job.status === 'PENDING') return <>—</>;
  return (
    <>
      <span className="job-progress-cell">
        <span className="job-mini-bar" aria-hidden="true">
          <span style={{ width: `${Math.min(100, Math.max(0, job.progress.percentage))}%` }} />
        </span>
        {format.percent(job.progress.percentage / 100)}
      </span>
      <div className="job-sub">
        {t('itemsValue', {
          current: format.number(job.progress.current),
          total: format.number(job.progress.total),
        })}
      </div>
    </>
  );
}

function DrawerBody({ id, names }: { id: string; names: Map<number, string> }) {
  const t = useT(jobsMessages);
  const { job } = useJob(id);
  return (
    <>
      <JobProgressMonitor jobId={id} />
      {job ? (
        <JobFacts job={job} userName={job.user_id === null ? undefined : names.get(job.user_id)} />
      ) : null}
      <p>
        <Link to={`/jobs/${id}`}>{t('openPage')}</Link>
      </p>
    </>
  );
}

/**
 * The jobs: one's own (an admin's: everyone's, with a user filter), filtered by status, type
 * and date, updated live; cancel, run again, delete (admins) and a details drawer.
 */
export function JobsPage() {
  const t = useT(jobsMessages);
  const tJob = useT(jobMessages);
  const tc = useT(common);
  const format = useFormat();
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const canManage = can('jobs:manage');
  const socketState = useSocketState();
  const [filters, setFilters] = useSearchState(FILTERS);
  const [notice, setNotice] = useState<string | null>(null);
  const { cancel, retry, remove } = useJobActions();
  const names = useUserNames(canManage && can('users:read'));
  const query = jobListQuery(filters, canManage);

  const list = useQuery({
    queryKey: ['jobs', query],
    placeholderData: keepPreviousData,
    refetchInterval: socketState === 'open' ? false : LIST_POLL_MS,
    queryFn: async ({ signal }) =>
      unwrap(await client.GET('/api/v1/jobs', { params: { query }, signal })),
  });

  const setFilter = (patch: Partial<typeof FILTERS>) => {
    setNotice(null);
    setFilters({ ...patch, page: '1' }, { replace: true });
  };
  // The drawer refocuses when its onClose changes: keep one function for its lifetime.
  const latestSetFilters = useRef(setFilters);
  latestSetFilters.current = setFilters;
  const closeDrawer = useCallback(() => latestSetFilters.current({ job: '' }), []);
  const open = list.data?.jobs.find((job) => job.id === filters.job);
  const actionError = cancel.error ?? retry.error ?? remove.error;

  return (
    <Page
      title={canManage ? t('titleAll') : t('titleMine')}
      actions={
        <span className="live-note">{socketState === 'open' ? t('live') : t('notLive')}</span>
      }
    >
      <p className="page-intro">{t('intro')}</p>
      <form
        className="toolbar"
        aria-label={tc('filters')}
        onSubmit={(event) => event.preventDefault()}
      >
        <Field label={t('status')}>
          {(props) => (
            <select
              {...props}
              value={filters.status}
              onChange={(event) => setFilter({ status: event.target.value })}
            >
              <option value="">{t('anyStatus')}</option>
              {JOB_STATUSES.map((status) => (
                <option key={status} value={status}>
                  {tc(`status${status}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('type')}>
          {(props) => (
            <select
              {...props}
              value={filters.job_type}
              onChange={(event) => setFilter({ job_type: event.target.value })}
            >
              <option value="">{t('anyType')}</option>
              {JOB_TYPES.map((type) => (
                <option key={type} value={type}>
                  {tJob(`type_${type}` as JobMessageKey)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {canManage ? (
          names.size > 0 ? (
            <Field label={t('user')}>
              {(props) => (
                <select
                  {...props}
                  value={filters.user_id}
                  onChange={(event) => setFilter({ user_id: event.target.value })}
                >
                  <option value="">{t('anyUser')}</option>
                  {[...names].map(([id, name]) => (
                    <option key={id} value={String(id)}>
                      {name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : (
            <Field label={t('userId')}>
              {(props) => (
                <input
                  {...props}
                  type="number"
                  min={1}
                  inputMode="numeric"
                  value={filters.user_id}
                  onChange={(event) => setFilter({ user_id: event.target.value })}
                />
              )}
            </Field>
          )
        ) : null}
        <Field label={t('from')}>
          {(props) => (
            <input
              {...props}
              type="date"
              value={filters.from}
              max={filters.to || undefined}
              onChange={(event) => setFilter({ from: event.target.value })}
            />
          )}
        </Field>
        <Field label={t('to')}>
          {(props) => (
            <input
              {...props}
              type="date"
              value={filters.to}
              min={filters.from || undefined}
              onChange={(event) => setFilter({ to: event.target.value })}
            />
          )}
        </Field>
        <button
          type="button"
          onClick={() =>
            setFilter({ status: '', job_type: '', user_id: '', from: '', to: '', job: '' })
          }
        >
          {tc('clearFilters')}
        </button>
      </form>

      {notice ? (
        <p className="banner banner-success" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorBanner error={actionError} />
      <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />
      {list.isLoading ? <Loading /> : null}
      {list.data ? (
        list.data.jobs.length === 0 ? (
          <p className="banner">{t('noJobs')}</p>
        ) : (
          <>
            <div className="jobs-table-frame">
              <table className="data jobs-table">
                <thead>
                  <tr>
                    <th scope="col">{t('type')}</th>
                    <th scope="col">{t('status')}</th>
                    <th scope="col">{t('progress')}</th>
                    {canManage ? <th scope="col">{t('user')}</th> : null}
                    <th scope="col">{t('created')}</th>
                    <th scope="col">{t('actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.jobs.map((job) => {
                    const typeLabel = tJob(`type_${job.job_type}` as JobMessageKey);
                    const finished = isFinished(job.status);
                    return (
                      <tr key={job.id}>
                        <td>
                          <Link to={`/jobs/${job.id}`}>{typeLabel}</Link>
                          {typeof job.metadata.file_name === 'string' ? (
                            <div className="job-sub">{job.metadata.file_name}</div>
                          ) : null}
                        </td>
                        <td>
                          <StatusBadge status={job.status} />
                          {job.completed_at ? (
                            <div className="job-sub">
                              {t('finishedAt', { time: format.dateTime(job.completed_at) })}
                            </div>
                          ) : null}
                        </td>
                        <td>
                          <ProgressCell job={job} />
                        </td>
                        {canManage ? (
                          <td>
                            {job.user_id === null
                              ? t('systemUser')
                              : (names.get(job.user_id) ?? t('userNumber', { id: job.user_id }))}
                          </td>
                        ) : null}
                        <td>{format.dateTime(job.created_at)}</td>
                        <td>
                          <div className="row-actions">
                            <button
                              type="button"
                              aria-label={`${t('details')}: ${typeLabel}, ${format.dateTime(job.created_at)}`}
                              onClick={() => {
                                // The drawer starts from the row's copy, then follows the job.
                                if (!queryClient.getQueryData(['job', job.id])) {
                                  queryClient.setQueryData(['job', job.id], job);
                                }
                                setFilters({ job: job.id });
                              }}
                            >
                              {t('details')}
                            </button>
                            {!finished ? (
                              <button
                                type="button"
                                disabled={cancel.isPending || Boolean(job.cancel_requested_at)}
                                onClick={() => cancel.mutate(job.id)}
                              >
                                {t('cancelJob')}
                              </button>
                            ) : null}
                            {job.status === 'FAILED' || job.status === 'CANCELLED' ? (
                              <button
                                type="button"
                                disabled={retry.isPending}
                                onClick={() => retry.mutate(job.id)}
                              >
                                {t('retryJob')}
                              </button>
                            ) : null}
                            {canManage && job.status !== 'PROCESSING' ? (
                              <ConfirmButton
                                label={t('deleteJob')}
                                question={t('deleteQuestion')}
                                busy={remove.isPending}
                                onConfirm={() =>
                                  remove.mutate(job.id, {
                                    onSuccess: () => setNotice(t('deleted')),
                                  })
                                }
                              />
                            ) : null}
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pagination
              page={list.data.page}
              pageSize={list.data.page_size}
              total={list.data.total}
              hasNext={list.data.has_next}
              onPage={(page) => setFilters({ page: String(page) })}
            />
          </>
        )
      ) : null}

      {filters.job ? (
        <Drawer
          title={open ? tJob(`type_${open.job_type}` as JobMessageKey) : t('jobTitle')}
          onClose={closeDrawer}
        >
          <DrawerBody id={filters.job} names={names} />
        </Drawer>
      ) : null}
    </Page>
  );
}
