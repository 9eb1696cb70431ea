import { type ReactNode, useEffect, useId, useState } from 'react';
import { downloadFile } from '../api/download.ts';
import { useApi } from '../app/api-context.tsx';
import { Link } from '../app/router.tsx';
import { useFormat, useLanguage, useT } from '../i18n/i18n.tsx';
import { estimateRemaining, formatDuration } from '../live/duration.ts';
import { type JobMessageKey, jobMessages } from '../live/job-messages.ts';
import { useJob, useJobActions } from '../live/LiveJobEvents.tsx';
import { isFinished, type Job } from '../live/types.ts';
import { ErrorBanner, Loading, StatusBadge } from './ui.tsx';
import './JobProgressMonitor.css';

/** Where the records of each import type are listed. */
const IMPORTED_SCREENS: Record<string, string> = {
  students: '/students',
  courses: '/courses',
};

/** The current time, ticking every second while `running`. */
function useNow(running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

/** A problem the job listed: an import's {row_number, issues}, a string, or anything else. */
function Issue({ item }: { item: unknown }) {
  const t = useT(jobMessages);
  if (typeof item === 'string') return <>{item}</>;
  if (item && typeof item === 'object' && 'row_number' in item) {
    const row = item as { row_number: number; issues?: { field: string; message: string }[] };
    return (
      <>
        <strong>{t('rowIssue', { row: row.row_number })}</strong>
        {': '}
        {(row.issues ?? []).map((issue, index) => (
          <span key={`${issue.field}:${issue.message}`}>
            {index > 0 ? '; ' : ''}
            <code>{issue.field}</code> — {issue.message}
          </span>
        ))}
      </>
    );
  }
  if (item && typeof item === 'object' && 'message' in item) {
    return <>{String((item as { message: unknown }).message)}</>;
  }
  return <code>{JSON.stringify(item)}</code>;
}

function IssueList({ title, items }: { title: string; items: unknown[] }) {
  if (items.length === 0) return null;
  return (
    <details className="job-issues">
      <summary>{title}</summary>
      <ul>
        {items.slice(0, 200).map((item, index) => (
          // Problems have no id of their own; their order is stable.
          // biome-ignore lint/suspicious/noArrayIndexKey: the list never reorders
          <li key={index}>
            <Issue item={item} />
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The finished job's figures and what to do next. */
function Summary({ job }: { job: Job }) {
  const t = useT(jobMessages);
  const format = useFormat();
  const api = useApi();
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const [downloaded, setDownloaded] = useState<string | null>(null);
  const data = job.result?.data ?? {};
  const statistics = job.result?.statistics ?? {};
  const download = async (path: string, fallback: string) => {
    setDownloadError(null);
    try {
      setDownloaded(await downloadFile(api, path, fallback));
    } catch (error) {
      setDownloadError(error);
    }
  };

  const links: ReactNode[] = [];
  if (job.job_type === 'bulk_import' && job.status !== 'FAILED') {
    const importType = String(data.import_type ?? job.metadata.import_type ?? '');
    links.push(
      <Link key="records" to={IMPORTED_SCREENS[importType] ?? '/students'} className="button">
        {t('viewImported')}
      </Link>,
    );
    const previewId = data.preview_id ?? job.metadata.preview_id;
    if (typeof previewId === 'string' && (statistics.errors ?? 0) > 0) {
      links.push(
        <button
          key="errors"
          type="button"
          onClick={() =>
            void download(`/api/v1/imports/${previewId}/errors.csv`, 'import-problems.csv')
          }
        >
          {t('downloadErrors')}
        </button>,
      );
    }
  }
  if (job.job_type === 'export_large' && job.status === 'COMPLETED') {
    links.push(
      <button
        key="file"
        type="button"
        className="primary"
        onClick={() =>
          void download(
            `/api/v1/exports/${job.id}/download`,
            typeof data.file === 'string' ? data.file : 'export',
          )
        }
      >
        {t('downloadFile')}
      </button>,
    );
  }
  if (job.job_type === 'backup_restore' && job.status === 'COMPLETED') {
    links.push(
      <Link key="backups" to="/backups" className="button">
        {t('openBackups')}
      </Link>,
    );
  }

  const figures = Object.entries(statistics);
  const tone =
    job.status === 'COMPLETED'
      ? 'banner-success'
      : job.status === 'FAILED'
        ? 'banner-error'
        : 'banner-warning';
  const title =
    job.status === 'COMPLETED'
      ? t('completedTitle')
      : job.status === 'FAILED'
        ? t('failedTitle')
        : t('cancelledTitle');
  return (
    <div className="job-summary">
      <div className={`banner ${tone}`}>
        <strong>{title}</strong>
        {job.result?.message ? <p>{job.result.message}</p> : null}
        {job.error_message && job.error_message !== job.result?.message ? (
          <p>{job.error_message}</p>
        ) : null}
      </div>
      {figures.length ? (
        <dl className="cards job-figures">
          {figures.map(([key, value]) => {
            const label = `stat_${key}`;
            return (
              <div className="card" key={key}>
                <dt className="card-label">
                  {label in jobMessages.en ? t(label as JobMessageKey) : key}
                </dt>
                <dd className="card-value">{format.number(value)}</dd>
              </div>
            );
          })}
        </dl>
      ) : null}
      {links.length ? <div className="job-links">{links}</div> : null}
      {downloaded ? <p role="status">{t('downloaded', { name: downloaded })}</p> : null}
      <ErrorBanner error={downloadError} />
    </div>
  );
}

/**
 * A job as it runs: status, a progress bar, items done, the job's message, time taken and an
 * estimate of the time left, its errors and warnings, and Cancel. Live over the job socket
 * (Server-Sent Events or polling when the socket cannot connect). A finished job shows its
 * summary with links: the imported records, the error report, the exported file.
 */
export function JobProgressMonitor({
  jobId,
  actions,
}: {
  jobId: string;
  /** More buttons or links shown under a finished job (e.g. "Import another file"). */
  actions?: ReactNode;
}) {
  const t = useT(jobMessages);
  const format = useFormat();
  const { locale } = useLanguage();
  const titleId = useId();
  const { job, transport, error, isLoading } = useJob(jobId);
  const { cancel, retry } = useJobActions();
  const running = job?.status === 'PROCESSING';
  const now = useNow(running);

  if (isLoading) return <Loading />;
  if (!job) return <ErrorBanner error={error ?? new Error(t('unknownJob'))} />;

  const { progress } = job;
  const finished = isFinished(job.status);
  const percentage = Math.max(0, Math.min(100, progress.percentage));
  const started = job.started_at ? Date.parse(job.started_at) : null;
  const ended = job.completed_at ? Date.parse(job.completed_at) : now;
  const elapsedSeconds = started === null ? null : Math.max(0, (ended - started) / 1000);
  const remaining =
    running && elapsedSeconds !== null
      ? estimateRemaining(progress.current, progress.total, elapsedSeconds)
      : null;
  const valueText =
    job.status === 'PENDING'
      ? t('progressWaiting')
      : t('progressValue', {
          percent: format.percent(percentage / 100),
          current: format.number(progress.current),
          total: format.number(progress.total),
        });
  const cancelRequested = Boolean(job.cancel_requested_at) && !finished;
  const errors = job.result?.errors ?? [];
  const warnings = job.result?.warnings ?? [];

  return (
    <section className="job-monitor" aria-labelledby={titleId}>
      <header className="job-monitor-header">
        <h2 id={titleId}>{t(`type_${job.job_type}` as JobMessageKey)}</h2>
        <StatusBadge status={job.status} />
        {!finished ? (
          <span className={`job-transport job-transport-${transport}`}>
            {t(`transport_${transport}` as JobMessageKey)}
          </span>
        ) : null}
      </header>
      <div
        className={`job-bar job-bar-${job.status.toLowerCase()}`}
        role="progressbar"
        aria-label={t('progressLabel')}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={job.status === 'PENDING' ? undefined : Math.round(percentage)}
        aria-valuetext={valueText}
      >
        <div className="job-bar-fill" style={{ width: `${percentage}%` }} />
        <span className="job-bar-text" aria-hidden="true">
          {valueText}
        </span>
      </div>
      <dl className="details job-details">
        <dt>{t('items')}</dt>
        <dd>
          {t('itemsValue', {
            current: format.number(progress.current),
            total: format.number(progress.total),
          })}
        </dd>
        {progress.message ? (
          <>
            <dt>{t('message')}</dt>
            <dd>{progress.message}</dd>
          </>
        ) : null}
        {elapsedSeconds !== null ? (
          <>
            <dt>{t('elapsed')}</dt>
            <dd>{formatDuration(elapsedSeconds, locale)}</dd>
          </>
        ) : null}
        {remaining !== null ? (
          <>
            <dt>{t('remaining')}</dt>
            <dd>{t('remainingValue', { duration: formatDuration(remaining, locale) })}</dd>
          </>
        ) : null}
        {progress.failed_items > 0 ? (
          <>
            <dt>{t('failedItems')}</dt>
            <dd>{format.number(progress.failed_items)}</dd>
          </>
        ) : null}
        {progress.skipped_items > 0 ? (
          <>
            <dt>{t('skippedItems')}</dt>
            <dd>{format.number(progress.skipped_items)}</dd>
          </>
        ) : null}
      </dl>
      {cancelRequested ? <p className="banner banner-warning">{t('cancelRequested')}</p> : null}
      <div role="status" aria-live="polite" className="job-outcome">
        {finished ? <Summary job={job} /> : null}
      </div>
      <IssueList title={t('errorsTitle', { count: errors.length })} items={errors} />
      <IssueList title={t('warningsTitle', { count: warnings.length })} items={warnings} />
      <ErrorBanner error={cancel.error ?? retry.error} />
      <div className="job-actions">
        {!finished ? (
          <button
            type="button"
            disabled={cancel.isPending || cancelRequested}
            onClick={() => cancel.mutate(job.id)}
          >
            {cancel.isPending || cancelRequested ? t('cancelling') : t('cancelJob')}
          </button>
        ) : null}
        {job.status === 'FAILED' || job.status === 'CANCELLED' ? (
          <button type="button" disabled={retry.isPending} onClick={() => retry.mutate(job.id)}>
            {t('retryJob')}
          </button>
        ) : null}
        {finished ? actions : null}
      </div>
    </section>
  );
}
