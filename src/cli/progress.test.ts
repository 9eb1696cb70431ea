import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatElapsed, type JobState, ProgressBar } from './progress.ts';

class Capture extends Writable {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void) {
    this.text += String(chunk);
    done();
  }
}

const state = (status: JobState['status'], current: number, total = 100): JobState => ({
  status,
  progress: { current, total, percentage: total ? (current / total) * 100 : 0, message: null },
});

describe('ProgressBar', () => {
  it('off a terminal: a line per status change or 10% step, nothing in between', () => {
    const out = new Capture(false);
    let now = 0;
    const bar = new ProgressBar(out, 'Job', () => now);
    bar.update(state('PENDING', 0));
    for (const current of [0, 3, 9, 10, 15, 19, 20, 55, 56, 99]) {
      now += 1000;
      bar.update(state('PROCESSING', current));
    }
    bar.finish(state('COMPLETED', 100));
    expect(out.text.trim().split('\n')).toEqual([
      'Job: PENDING 0% 0/100 (0:00)',
      'Job: PROCESSING 0% 0/100 (0:01)',
      'Job: PROCESSING 10% 10/100 (0:04)',
      'Job: PROCESSING 20% 20/100 (0:07)',
      'Job: PROCESSING 55% 55/100 (0:08)',
      'Job: PROCESSING 99% 99/100 (0:10)',
      'Job: COMPLETED 100% 100/100 (0:10)',
    ]);
  });

  it('on a terminal: one line redrawn in place, cut to the width, ended by a newline', () => {
    const out = new Capture(true, 70);
    const bar = new ProgressBar(out, 'Importing', () => 0);
    bar.update({
      ...state('PROCESSING', 50),
      progress: { ...state('PROCESSING', 50).progress, message: 'Imported 50 of 100 rows' },
    });
    bar.finish(state('COMPLETED', 100));
    const frames = out.text.split('\r\x1b[2K').filter(Boolean);
    expect(frames[0]).toMatch(/^Importing \[#{10}\.{10}\] {2}50% 50\/100/);
    expect(frames[0]!.length).toBeLessThanOrEqual(69);
    expect(frames.at(-1)).toMatch(/^Importing \[#{20}\] 100% 100\/100 COMPLETED 0:00\n$/);
  });

  it('formats elapsed time', () => {
    expect(formatElapsed(5_000)).toBe('0:05');
    expect(formatElapsed(65_000)).toBe('1:05');
    expect(formatElapsed(3_725_000)).toBe('1:02:05');
  });
});
