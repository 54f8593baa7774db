// Builds the web UI into web/dist, which the service serves at /. Everything is
// bundled (no CDN): the UI must work on hosts without internet access.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    // `npx vite web` during development: API calls go to a running `wirescope serve`.
    proxy: { '/api': 'http://127.0.0.1:5000', '/json': 'http://127.0.0.1:5000' },
  },
});
