// The PWA's linter (make test and make lint run it): eslint's recommended rules on the app, the
// service worker, the build scripts and the unit tests; JSX parsed, Preact's automatic runtime.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['dist/**', 'node_modules/**', 'dev-dist/**'] },
  js.configs.recommended,
  {
    files: ['**/*.{js,jsx}'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      parserOptions: { ecmaFeatures: { jsx: true } },
      globals: { ...globals.browser, __APP_VERSION__: 'readonly' },
    },
    rules: {
      // JSX components are used only inside JSX, which core eslint does not see as a use
      'no-unused-vars': ['error', { varsIgnorePattern: '^[A-Z]', argsIgnorePattern: '^_',
        caughtErrors: 'none' }],
    },
  },
  { files: ['src/sw.js'], languageOptions: { globals: { ...globals.serviceworker } } },
  { files: ['*.config.js', 'scripts/**', 'tests/**'], languageOptions: { globals: { ...globals.node } } },
];
