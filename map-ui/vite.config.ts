import { defineConfig } from 'vitest/config';

// `npm run dev` proxies the API to a local `gridpatrol serve` (port 18090 by default).
const api = process.env.GRIDPATROL_API ?? 'http://127.0.0.1:18090';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 800,
    // the desk map at /, the field app at /field/
    rollupOptions: {
      input: { main: 'index.html', field: 'field/index.html' },
    },
  },
  server: {
    proxy: {
      '/api': api,
      '/health': api,
      '/ui-config.json': api,
    },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
  },
});
