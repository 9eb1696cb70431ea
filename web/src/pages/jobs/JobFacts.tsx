import { useFormat, useT } from '../../i18n/i18n.tsx';
import type { Job } from '../../live/types.ts';
import { jobsMessages } from './messages.ts';

function showValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

/** A job's record: who, when, attempts, and the metadata it was started with. */
export function JobFacts({ job, userName }: { job: Job; userName?: string | undefined }) {
  const t = useT(jobsMessages);
  const format = useFormat();
  const metadata = Object.entries(job.metadata).filter(([key]) => key !== 'origin');
  return (
    <>
      <dl className="details job-facts">
        <dt>{t('jobId')}</dt>
        <dd>
          <code>{job.id}</code>
        </dd>
        <dt>{t('owner')}</dt>
        <dd>
          {job.user_id === null
            ? t('systemUser')
            : (userName ?? t('userNumber', { id: job.user_id }))}
        </dd>
        <dt>{t('created')}</dt>
        <dd>{format.dateTime(job.created_at)}</dd>
        <dt>{t('started')}</dt>
        <dd>{format.dateTime(job.started_at)}</dd>
        <dt>{t('finished')}</dt>
        <dd>{format.dateTime(job.completed_at)}</dd>
        <dt>{t('priority')}</dt>
        <dd>{format.number(job.priority)}</dd>
        <dt>{t('attempts')}</dt>
        <dd>
          {t('attemptsValue', {
            attempts: format.number(job.attempts),
            max: format.number(job.max_attempts),
          })}
        </dd>
        {job.expires_at ? (
          <>
            <dt>{t('expires')}</dt>
            <dd>{format.dateTime(job.expires_at)}</dd>
          </>
        ) : null}
      </dl>
      {metadata.length ? (
        <>
          <h3>{t('metadata')}</h3>
          <dl className="details job-facts">
            {metadata.map(([key, value]) => (
              <div key={key} className="job-fact">
                <dt>
                  <code>{key}</code>
                </dt>
                <dd>{showValue(value)}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : null}
    </>
  );
}
