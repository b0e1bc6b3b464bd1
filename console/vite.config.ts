/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Relative URLs only: the console calls /api/v1/... on the origin that served it (nginx).
// `npm run dev` proxies them to a local nginx (MONITOR_CONSOLE_API, default http://127.0.0.1:8080).
export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': process.env.MONITOR_CONSOLE_API ?? 'http://127.0.0.1:8080' } },
  test: { environment: 'happy-dom', include: ['src/**/*.test.ts'] },
});
