import type { JobProgress, JobStatus } from '../modules/jobs/jobs.constants.ts';
import type { Output } from './io.ts';

/** What the bar needs of a job (GET /jobs/{id} and the WebSocket both give it). */
export interface JobState {
  status: JobStatus;
  progress: Pick<JobProgress, 'current' | 'total' | 'percentage' | 'message'>;
}

const BAR_WIDTH = 20;
/** A non-terminal gets a line each time the percentage moves this much. */
const LINE_STEP = 10;

export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function percentOf(job: JobState): number {
  return Math.max(0, Math.min(100, Math.floor(job.progress.percentage)));
}

/**
 * Job progress on stderr: on a terminal one line redrawn in place (and each second, so the
 * elapsed time moves); elsewhere (logs, CI) a plain line per 10% or change of status.
 */
export class ProgressBar {
  private readonly startedAt: number;
  private last: JobState | undefined;
  private printed: { status: JobStatus; percent: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(
    private readonly stream: Output,
    private readonly label: string,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Before the first state arrives: on a terminal the elapsed time starts running. */
  start(): void {
    if (!this.stream.isTTY) return;
    this.draw();
    this.startTimer();
  }

  update(job: JobState): void {
    this.last = job;
    if (this.stream.isTTY) {
      this.draw();
      this.startTimer();
      return;
    }
    const percent = percentOf(job);
    const moved =
      !this.printed ||
      this.printed.status !== job.status ||
      Math.abs(percent - this.printed.percent) >= LINE_STEP;
    if (moved) {
      this.printed = { status: job.status, percent };
      this.stream.write(`${this.line(job)}\n`);
    }
  }

  /** Draws the final state and leaves the terminal on a fresh line. */
  finish(job?: JobState): void {
    if (job) this.update(job);
    this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  /** Writes a message on its own line without breaking the bar. */
  note(text: string): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.stream.write(`${text}\n`);
    if (this.drawn) this.draw();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }

  private draw(): void {
    let text = this.last
      ? this.line(this.last)
      : `${this.label} waiting for the server… ${formatElapsed(this.now() - this.startedAt)}`;
    // A pseudo-terminal may report 0 columns.
    const columns = this.stream.columns || 80;
    if (text.length > columns - 1) text = `${text.slice(0, Math.max(0, columns - 2))}…`;
    // \r and "erase line": redraw in place.
    this.stream.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }

  private line(job: JobState): string {
    const percent = percentOf(job);
    const elapsed = formatElapsed(this.now() - this.startedAt);
    const { current, total, message } = job.progress;
    const counts = total > 0 ? ` ${current}/${total}` : '';
    const status = job.status === 'PROCESSING' ? '' : ` ${job.status}`;
    if (this.stream.isTTY) {
      const filled = Math.round((percent / 100) * BAR_WIDTH);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
      return `${this.label} ${bar} ${String(percent).padStart(3)}%${counts}${status} ${elapsed}${message ? ` ${message}` : ''}`;
    }
    return `${this.label}:${status || ' PROCESSING'} ${percent}%${counts}${message ? ` - ${message}` : ''} (${elapsed})`;
  }
}
