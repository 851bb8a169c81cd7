// Lint enforces the layering of ../shared/STYLE.md: a file's folder says which runtime it may touch.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const domGlobals = [
  'window',
  'document',
  'navigator',
  'localStorage',
  'sessionStorage',
  'HTMLElement',
  'Element',
  'Node',
  'location',
  'history',
  'alert',
  'requestAnimationFrame',
];

const noElectron = { name: 'electron', message: 'Only main/electron/ may import electron.' };
/** The layering: the core serves every transport and imports none; a transport does not import another. */
const notFrom = (message, ...dirs) => ({ group: dirs.map((d) => `**/${d}/**`), message });
const coreLayer = notFrom(
  'main/core imports no transport (server, electron, cli).',
  'server',
  'electron',
  'cli',
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'renderer/dist/**', 'test-results/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [noElectron] }],
    },
  },
  {
    // Engine, records, transports and the shared contract never touch the DOM.
    files: ['main/**/*.ts', 'shared/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-globals': [
        'error',
        ...domGlobals.map((name) => ({ name, message: 'No DOM outside renderer/.' })),
      ],
    },
  },
  {
    files: ['main/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron], patterns: [coreLayer] }] },
  },
  {
    files: ['main/server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron],
          patterns: [notFrom('main/server imports no other transport.', 'electron', 'cli')],
        },
      ],
    },
  },
  {
    // The one folder that may import electron; it shares the core with the other transports, not their code.
    files: ['main/electron/**/*.ts', 'main/electron/**/*.cts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [notFrom('main/electron imports no other transport.', 'server', 'cli')] },
      ],
    },
  },
  {
    // The UI and the shared contract run in a browser: no Node built-ins, no Electron.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron, ...nodeBuiltins.map((name) => ({ name, message: 'No Node built-ins here.' }))],
          patterns: [{ group: ['node:*'], message: 'No Node built-ins here.' }],
        },
      ],
    },
  },
  {
    files: ['shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-globals': [
        'error',
        ...domGlobals.map((name) => ({ name, message: 'shared/ is plain TypeScript: no DOM.' })),
        { name: 'process', message: 'shared/ is plain TypeScript: no Node.' },
        { name: 'Buffer', message: 'shared/ is plain TypeScript: no Node.' },
        { name: 'require', message: 'shared/ is plain TypeScript: no Node.' },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js', '.ci/**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
);
