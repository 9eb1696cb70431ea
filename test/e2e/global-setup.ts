import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { isCi, missingBrowserReason, REPO_ROOT } from './support/env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why the end-to-end tests skip on this machine ('' when they run). */
    e2eSkipReason: string;
  }
}

/**
 * Once per run of the e2e project: checks for Debian's Chromium (a missing browser fails the
 * run on CI and skips it, loudly, elsewhere) and builds the web UI the server will serve.
 */
export default async function setup(project: TestProject) {
  const missing = missingBrowserReason();
  if (missing) {
    if (isCi()) throw new Error(`${missing}: on CI the end-to-end tests must run, not skip.`);
    process.stderr.write(`\n[e2e] ${missing}: end-to-end tests skipped.\n\n`);
    project.provide('e2eSkipReason', `${missing}: end-to-end tests skipped.`);
    return;
  }

  const started = performance.now();
  const scripts = (
    JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    }
  ).scripts;
  if (!scripts?.build) {
    // No script (yet): Vite's own build API with the UI's configuration.
    const { build } = await import('vite');
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        configFile: path.join(REPO_ROOT, 'web/vite.config.ts'),
        mode: 'production',
        logLevel: 'warn',
      });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    process.stderr.write(`[e2e] web UI built in ${Math.round(performance.now() - started)} ms\n`);
    project.provide('e2eSkipReason', '');
    return;
  }
  const result = spawnSync('npm', ['run', '--silent', 'build'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) {
    throw new Error(
      `npm run build failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  process.stderr.write(`[e2e] web UI built in ${Math.round(performance.now() - started)} ms\n`);
  project.provide('e2eSkipReason', '');
}
