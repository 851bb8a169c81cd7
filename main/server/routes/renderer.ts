// The built UI at /: static files from dist/renderer/, index.html for the UI's own paths (SPA fallback), and
// a plain page saying how to build the UI when it is not built. Other unknown paths get a JSON 404.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendError } from '../errors.js';
import { isUnder, pathOf } from '../paths.js';

export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>BranchLens</title></head>
<body>
<h1>BranchLens: the UI is not built</h1>
<p>The server is running and its API answers (see docs/http-api.md), but the UI's files
(dist/renderer/index.html) do not exist yet. Build them with <code>npm run build:renderer</code> (or start the app with <code>npm start</code>, which builds them), then reload this page.</p>
<p lang="zh-CN">界面尚未构建：请运行 <code>npm run build:renderer</code>（或用 <code>npm start</code> 启动），然后刷新本页。</p>
</body>
</html>
`;

/** Roots that belong to the API (the app's, Seldon's, KServe's V1 and V2), never to the UI. */
const API_ROOTS = ['/api', '/health', '/metrics', '/metadata', '/v1', '/v2'];

/** Whether a path is one of the API's roots or lies under one. */
function isApiPath(path: string): boolean {
  return isUnder(path, API_ROOTS);
}

/** A GET for a UI route (no file extension) outside the API: answered with the UI's index.html. */
function wantsUi(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = pathOf(request.url);
  const last = path.slice(path.lastIndexOf('/') + 1);
  return !isApiPath(path) && !last.includes('.');
}

export async function registerRenderer(app: FastifyInstance, dir: string): Promise<void> {
  const index = join(dir, 'index.html');
  if (existsSync(index)) {
    await app.register(async (scope) => {
      // The UI's files are the same in every installation and hold no data: no token needed to load them.
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, public: true, uiFile: true };
      });
      await scope.register(fastifyStatic, {
        root: dir,
        wildcard: true,
        index: ['index.html'],
        dotfiles: 'deny',
        decorateReply: false,
      });
    });
  }
  app.setNotFoundHandler(async (request, reply) => {
    if (wantsUi(request)) {
      const html = existsSync(index) ? await readFile(index) : NOT_BUILT_PAGE;
      return reply.type('text/html; charset=utf-8').send(html);
    }
    const path = pathOf(request.url).slice(0, 200);
    return sendError(reply, {
      ok: false,
      status: 404,
      body: {
        error: 'not_found',
        message: `no such endpoint: ${request.method} ${path} (see docs/http-api.md)`,
      },
    });
  });
}
