/** The eight job types (a contract with the API and the UI). */
export const JOB_TYPES = [
  'bulk_import',
  'bulk_update',
  'export_large',
  'backup_restore',
  'data_migration',
  'cleanup',
  'recompute',
  'email_batch',
] as const;

export type JobType = (typeof JOB_TYPES)[number];

export const JOB_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job in one of these states will not change again unless someone retries it. */
export const FINISHED_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export interface JobProgress {
  current: number;
  total: number;
  percentage: number;
  message: string | null;
  processed_items: number;
  failed_items: number;
  skipped_items: number;
}

export interface JobResult {
  success: boolean;
  message: string | null;
  data: Record<string, unknown> | null;
  errors: unknown[];
  warnings: unknown[];
  statistics: Record<string, number> | null;
}

export const EMPTY_PROGRESS: JobProgress = {
  current: 0,
  total: 0,
  percentage: 0,
  message: null,
  processed_items: 0,
  failed_items: 0,
  skipped_items: 0,
};
