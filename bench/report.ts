// What the benchmarks share when they measure and report: rounding, units, sizes from the
// environment, and the machine a figure was taken on.
import os from 'node:os';

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
export const mb = (bytes: number) => round(bytes / 1_048_576);
export const seconds = (since: number) => (performance.now() - since) / 1000;
export const loadAverage = () => os.loadavg().map((value) => round(value, 2));

/**
 * A positive integer size from the environment (BENCH_STUDENTS=10000), or the fallback;
 * `allowZero` for a size whose 0 means "skip this part".
 */
export function envCount(name: string, fallback: number, allowZero = false): number {
  const raw = process.env[name];
  const value = raw === undefined || raw.trim() === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  }
  return value;
}

/** The middle value; the mean of the two middle ones for an even count (0 for none). */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The machine block of a report: what ran it and how loaded it was at both ends. */
export function machine(loadAtStart: number[]) {
  return {
    cpu_count: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    node_version: process.version,
    load_average_start: loadAtStart,
    load_average_end: loadAverage(),
  };
}
