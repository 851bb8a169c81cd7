// The branch UI's build: React + TypeScript from renderer/, into dist/renderer/ (served by `branchlens serve` at /
// and by the desktop app as app://branchlens/). Relative asset paths, so the same files work under both.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const repoRoot = fileURLToPath(new URL('.', import.meta.url));

/**
 * The built page carries its own Content-Security-Policy as well as the server's header: scripts and everything
 * else from the app only. Development keeps Vite's inline preamble working, so the meta tag is build-only.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'branchlens-csp',
    apply: 'build',
    transformIndexHtml: (html) =>
      html.replace(
        '<meta charset="UTF-8" />',
        `<meta charset="UTF-8" />\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`,
      ),
  };
}

/**
 * The Explain page is the first page: its chunk (and the chunks it imports) are preloaded from index.html, so the
 * browser fetches them alongside the entry instead of after it has run.
 */
function preloadFirstPage(): Plugin {
  return {
    name: 'branchlens-preload-first-page',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const chunks = Object.values(ctx.bundle ?? {}).filter((c) => c.type === 'chunk');
        const page = chunks.find((c) => c.facadeModuleId?.endsWith('/pages/explain/ExplainPage.tsx'));
        if (!page) return html;
        const files = [page.fileName, ...page.imports].filter((f) => !html.includes(f));
        const links = files.map((f) => `    <link rel="modulepreload" crossorigin href="./${f}">`).join('\n');
        return html.replace(/\s*<\/head>/, `\n${links}\n  </head>`);
      },
    },
  };
}

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), contentSecurityPolicy(), preloadFirstPage()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    manifest: true,
    sourcemap: false,
    // The one-page report and every chart are local; no asset is inlined as a data: URL script.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
    // ECharts (~550 kB, ~190 kB gzipped) is its own chunk, loaded after the first paint: see renderer/src/charts.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // shared/ and assets/samples/ live outside renderer/.
    fs: { allow: [repoRoot] },
    // `npm run dev:renderer` next to `branchlens serve` on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
