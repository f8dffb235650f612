// Unit tests of the PWA's logic (the outbox, the sync coordinator, the back-off and the status)
// in Node: IndexedDB from fake-indexeddb, fetch replaced per test. The browser tests (pytest +
// Chromium, tests/browser/) cover the screens.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  test: {
    include: ['tests/unit/**/*.test.js'],
    environment: 'node',
    setupFiles: ['tests/unit/setup.js'],
  },
});
