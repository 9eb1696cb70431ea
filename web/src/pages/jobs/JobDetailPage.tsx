import { Link } from '../../app/router.tsx';
import { JobProgressMonitor } from '../../components/JobProgressMonitor.tsx';
import { Page } from '../../components/ui.tsx';
import { useT } from '../../i18n/i18n.tsx';
import { type JobMessageKey, jobMessages } from '../../live/job-messages.ts';
import { useJob } from '../../live/LiveJobEvents.tsx';
import { JobFacts } from './JobFacts.tsx';
import { jobsMessages } from './messages.ts';
import './jobs.css';

/** One job on its own page (/jobs/:id): the live monitor and the job's record. */
export function JobDetailPage({ id }: { id: string }) {
  const t = useT(jobsMessages);
  const tJob = useT(jobMessages);
  const { job } = useJob(id);
  const title = job
    ? `${t('jobTitle')}: ${tJob(`type_${job.job_type}` as JobMessageKey)}`
    : t('jobTitle');
  return (
    <Page title={title} actions={<Link to="/jobs">{t('backToJobs')}</Link>}>
      <JobProgressMonitor jobId={id} />
      {job ? <JobFacts job={job} /> : null}
    </Page>
  );
}
