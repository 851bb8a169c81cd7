// The built UI at /: static files from dist/renderer/, index.html for the UI's own paths (SPA fallback), and
// a plain page saying how to build the UI when it is not built. Other unknown paths get a JSON 404, and a path
// that is an endpoint for other methods a 405 with Allow.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isApiMethod } from '../../core/api.js';
import { invalidRequest, sendError } from '../errors.js';
import { isApiPath, isUnder, pathOf } from '../paths.js';

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

/** A GET for a UI route (no file extension) outside the API: answered with the UI's index.html. */
function wantsUi(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = pathOf(request.url);
  const last = path.slice(path.lastIndexOf('/') + 1);
  return !isApiPath(path) && !last.includes('.');
}

/** The methods a 405's Allow header may list, in the order it lists them. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
/** KServe V1's verbs: `/v1/models/<name>:predict` and `:explain` take POST only. */
const V1_VERB = /:(?:predict|explain)$/;

/**
 * Whether a route the path matched by its pattern is an endpoint for these params: `/api/app/:method` for a
 * method of the contract only, KServe V1's POST `/v1/models/:target` for a verb only and its GET
 * `/v1/models/:name` (the model's probe) for anything else.
 */
function endpointFor(path: string, params: Record<string, string | undefined>): boolean {
  if (params.method !== undefined) return isApiMethod(params.method);
  if (params.target !== undefined) return V1_VERB.test(params.target);
  if (params.name !== undefined && isUnder(path, ['/v1'])) return !V1_VERB.test(params.name);
  return true;
}

/** The methods that have an endpoint at `path`, the UI's catch-all for its files aside: a 405's Allow header. */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  return METHODS.filter((method) => {
    const found = app.findRoute({ method, url: path });
    if (found === null) return false;
    const params = found.params as Record<string, string | undefined>;
    return params['*'] === undefined && endpointFor(path, params);
  });
}

/** The JSON 404 of a path that is no endpoint (under KServe's roots in their shape, as every error there). */
function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = pathOf(request.url).slice(0, 200);
  return sendError(reply, {
    ok: false,
    status: 404,
    body: {
      error: 'not_found',
      message: `no such endpoint: ${request.method} ${path} (see docs/http-api.md)`,
    },
  });
}

export async function registerRenderer(app: FastifyInstance, dir: string): Promise<void> {
  const index = join(dir, 'index.html');
  if (existsSync(index)) {
    await app.register(async (scope) => {
      // The UI's files are the same in every installation and hold no data: no token needed to load them. Their
      // wildcard route also matches every GET under the API's roots, which is no file of the UI: there, as on every
      // endpoint, a request without the token learns nothing (not which methods a path takes, nor a 404) but 401.
      const open = (request: FastifyRequest) => !isApiPath(request.url);
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, public: open, uiFile: true };
      });
      // A path the static files refuse (a dot file, `..`, `//`) is no file of the UI: 404, as any other path
      // that is none. 403 is the Host check's alone.
      scope.setErrorHandler((error: FastifyError, request, reply) => {
        if (error.statusCode === 403) return sendNotFound(request, reply);
        throw error;
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
    const path = pathOf(request.url);
    // A path that is an endpoint for other methods: 405 naming them, never the UI's page or a 404.
    const allowed = allowedMethods(app, path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        invalidRequest(405, {
          field: 'method',
          code: 'invalid',
          message: `${request.method} is not allowed on ${path.slice(0, 200)}: it takes ${allowed.join(', ')}`,
        }),
      );
    }
    if (wantsUi(request)) {
      const html = existsSync(index) ? await readFile(index) : NOT_BUILT_PAGE;
      return reply.type('text/html; charset=utf-8').send(html);
    }
    return sendNotFound(request, reply);
  });
}
