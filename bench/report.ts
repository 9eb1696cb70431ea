// What the benchmarks share when they measure and report: rounding, units, sizes from the
// environment, and the machine a figure was taken on.
import os from 'node:os';

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
export const mb = (bytes: number) => round(bytes / 1_048_576);
export const seconds = (since: number) => (performance.now() - since) / 1000;
export const loadAverage = () => os.loadavg().map((value) => round(value, 2));

/** A positive integer size from the environment (BENCH_STUDENTS=10000), or the fallback. */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw.trim() === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
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
