import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));
// `npm run dev` serves the UI on :5173 and passes API calls (and the job WebSocket) to a
// Registrar started with `npm start` on :8000.
const api = process.env.REGISTRAR_API ?? 'http://localhost:8000';

export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api/v1/ws': { target: api, ws: true },
      '/api': api,
      '/docs': api,
      '/openapi.json': api,
    },
  },
});
