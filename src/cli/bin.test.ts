import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/registrar.js', import.meta.url));

describe('the registrar command', () => {
  it('has the client commands wired in', async () => {
    const { stdout } = await run(process.execPath, [bin, 'import', '--help'], { timeout: 60_000 });
    expect(stdout).toContain('--type <type>');
    expect(stdout).toContain('--yes');
    const jobs = await run(process.execPath, [bin, 'jobs', '--help'], { timeout: 60_000 });
    expect(jobs.stdout).toMatch(/list[\s\S]*watch[\s\S]*cancel/);
  });

  it('exits 2 on a usage mistake', async () => {
    const failure = await run(process.execPath, [bin, 'import', 'file.csv'], {
      timeout: 60_000,
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failure && failure.code).toBe(2);
    expect('stderr' in failure && failure.stderr).toContain("required option '--type <type>'");
  });
});
