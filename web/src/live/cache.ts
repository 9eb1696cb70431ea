import type { QueryClient } from '@tanstack/react-query';
import type { Job, JobList } from './types.ts';

/** The screens whose data an import of each type changes. */
const IMPORTED_RESOURCES: Record<string, string[]> = {
  students: ['students'],
  courses: ['courses'],
  enrollments: ['enrollments', 'students', 'courses'],
  grades: ['grades', 'students'],
  attendance: ['attendance', 'students'],
  daily_performances: ['performances', 'students'],
  highlights: ['highlights', 'students'],
};

function isJobList(value: unknown): value is JobList {
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as { jobs?: unknown }).jobs)
  );
}

const pending = new WeakMap<QueryClient, Set<string>>();

/**
 * Refetches the lists of these resources once, shortly: a snapshot of hundreds of jobs, or a
 * burst of events, costs one request per list instead of one per job.
 */
function invalidateSoon(queryClient: QueryClient, resources: string[]): void {
  let batch = pending.get(queryClient);
  if (!batch) {
    const created = new Set<string>();
    batch = created;
    pending.set(queryClient, created);
    setTimeout(() => {
      pending.delete(queryClient);
      for (const resource of created) void queryClient.invalidateQueries({ queryKey: [resource] });
    }, 200);
  }
  for (const resource of resources) batch.add(resource);
}

const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * Copies of a job reach the page by several roads (the socket, a poll, the answer to the
 * page's own cancel or retry) and in any order, so a late copy must not replace a newer one.
 * A job only moves forward: its attempts never go down (a claim counts one); within one
 * attempt a finished job does not run again, a cancel once asked stays asked, and progress
 * only grows. (The answer to Cancel can arrive after the event saying the job was cancelled.)
 */
function isOlder(incoming: Job, known: Job | undefined): boolean {
  if (!known) return false;
  if (incoming.attempts !== known.attempts) return incoming.attempts < known.attempts;
  if (incoming.status !== 'PROCESSING') return false;
  if (FINISHED.has(known.status)) return true;
  if (known.status !== 'PROCESSING') return false;
  if (known.cancel_requested_at && !incoming.cancel_requested_at) return true;
  return incoming.progress.current < known.progress.current;
}

/**
 * Of a copy just read (GET /jobs/{id}) and the copy already in the cache, the newer: a read
 * answered after an event that overtook it (the job ended meanwhile) must not undo the event.
 */
export function newerJob(incoming: Job, known: Job | undefined): Job {
  return known && isOlder(incoming, known) ? known : incoming;
}

/**
 * Puts a job the server reported (socket, SSE or a poll) into the query cache: the job's own
 * entry ['job', id] is replaced, the lists ['jobs', …] that show it are patched in place, and
 * when its status changed the lists are refetched (it may now match other filters). A finished
 * import refreshes the records it wrote.
 */
export function applyJob(queryClient: QueryClient, job: Job): void {
  const known = queryClient.getQueryData<Job>(['job', job.id]);
  if (isOlder(job, known)) return;
  queryClient.setQueryData(['job', job.id], job);
  queryClient.setQueriesData({ queryKey: ['jobs'] }, (list: unknown) => {
    if (!isJobList(list)) return list;
    const index = list.jobs.findIndex((item) => item.id === job.id);
    if (index < 0) return list;
    const jobs = [...list.jobs];
    jobs[index] = job;
    return { ...list, jobs };
  });
  const statusChanged = known?.status !== job.status;
  if (statusChanged) invalidateSoon(queryClient, ['jobs']);
  if (statusChanged && job.status === 'COMPLETED' && job.job_type === 'bulk_import') {
    const importType = String(job.metadata.import_type ?? '');
    invalidateSoon(queryClient, [...(IMPORTED_RESOURCES[importType] ?? []), 'dashboard']);
  }
}

/** A job removed on the server: gone from its entry and from every list. */
export function forgetJob(queryClient: QueryClient, id: string): void {
  queryClient.removeQueries({ queryKey: ['job', id], exact: true });
  void queryClient.invalidateQueries({ queryKey: ['jobs'] });
}
