import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const shared = {
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

// Every suite runs on PGlite, and again on PostgreSQL when TEST_DATABASE_URL is set; the web
// UI's component tests run once, in jsdom.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        plugins: [react()],
        test: {
          name: 'web',
          include: ['web/src/**/*.test.tsx'],
          environment: 'jsdom',
          setupFiles: ['web/src/test/setup.ts'],
          testTimeout: 30_000,
        },
      },
      { test: { ...shared, name: 'pglite', env: { TEST_DB_KIND: 'pglite' } } },
      ...(process.env.TEST_DATABASE_URL
        ? [{ test: { ...shared, name: 'postgres', env: { TEST_DB_KIND: 'postgres' } } }]
        : []),
      // End-to-end in Debian's Chromium against the real server, once per run (embedded, and
      // distributed too when TEST_DATABASE_URL and TEST_REDIS_URL are set); one file at a time.
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 360_000,
          maxWorkers: 1,
        },
      },
    ],
  },
});
