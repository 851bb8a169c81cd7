// KServe's V1 protocol and the Open Inference Protocol (V2) (see ../kserve.ts). Their errors, whoever answers
// them (these routes, the app's hooks, the not-found handler), are sent by sendError in the protocols' shape,
// {"error": "<message>"}, with the problems beside it and the same statuses as every other route.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExplanationDocument } from '../../../shared/explanation.js';
import { appRoot } from '../../core/paths.js';
import { fixPrecision } from '../../core/records/watermark.js';
import type { BranchLensService } from '../../core/service.js';
import { invalidRequest, sendError } from '../errors.js';
import {
  checkRequestedOutputs,
  namingFields,
  v1Applicants,
  v1RequestSchema,
  v2Applicants,
  v2InferRequestSchema,
  v2ListParameter,
  v2ModelMetadata,
  v2Output,
  type V1Request,
  type V2InferRequest,
} from '../kserve.js';
import { predictionRows } from '../seldon.js';

const V1_VERBS = ['predict', 'explain'] as const;

function serverVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * `modelName` (`serve --model-name`): a name the routes also answer under, besides the model's bundle id. KServe
 * builds a predictor's paths and status URL from the InferenceService's name (`/v1/models/<name>:predict`), not
 * from the bundle's id.
 */
export async function registerKServe(
  app: FastifyInstance,
  service: BranchLensService,
  modelName?: string,
): Promise<void> {
  const version = serverVersion();
  /** The --model-name, when one is set and differs from the active model's id (read on each request). */
  const alias = (): string | undefined => (modelName === service.model.id ? undefined : modelName);
  /** The names the model answers under: the --model-name (KServe's) first, then the bundle's id. */
  const names = (): string[] => [alias(), service.model.id].filter((n): n is string => n !== undefined);
  /** A readiness probe's answer: 200 with `"ready": true`, or 503 with false, from one reading of the health. */
  const readiness = (reply: FastifyReply, body: Record<string, unknown>) => {
    const ready = service.health().status === 'ok';
    return reply.code(ready ? 200 : 503).send({ ...body, ready });
  };

  /** null when `name` (and `version`, when given) is the model this server serves; else the 404's message. */
  const otherModel = (name: string, modelVersion?: string): string | null => {
    const { id, version: active } = service.model;
    if (names().includes(name) && (modelVersion === undefined || modelVersion === active)) return null;
    const asked = modelVersion === undefined ? `"${name}"` : `"${name}" version "${modelVersion}"`;
    const also = alias() === undefined ? '' : ` (also as "${alias()}")`;
    return `model ${asked} is not served here: this server serves "${id}" version "${active}"${also}`;
  };
  const notFound = (reply: FastifyReply, message: string) =>
    sendError(reply, { ok: false, status: 404, body: { error: 'not_found', message } });

  await app.register(async (scope) => {
    const probe = { config: { public: true } };
    // V2's binary data extension sends a JSON header followed by raw tensors: refused before the body is read,
    // with a 415 that says so, rather than a 400 for JSON that does not parse.
    scope.addHook('onRequest', async (request, reply) => {
      if (request.headers['inference-header-content-length'] === undefined) return;
      return sendError(
        reply,
        invalidRequest(415, {
          field: 'inference-header-content-length',
          code: 'invalid',
          message: 'the binary data extension is not supported; send the tensors as JSON',
        }),
      );
    });

    // ---- V1 ---------------------------------------------------------------------------------------------
    scope.get('/v1/models', async () => ({ models: names() }));
    // The model's probe; `<name>:predict` and `:explain` are no probe, and need the token like their POSTs.
    const v1Verb = (name: string) => V1_VERBS.find((v) => name.endsWith(`:${v}`));
    const v1Probe = {
      config: { public: (request: FastifyRequest) => !v1Verb((request.params as { name: string }).name) },
    };
    scope.get<{ Params: { name: string } }>('/v1/models/:name', v1Probe, async (request, reply) => {
      const verb = v1Verb(request.params.name);
      if (verb) {
        reply.header('allow', 'POST');
        return sendError(
          reply,
          invalidRequest(405, {
            field: 'method',
            code: 'invalid',
            message: `:${verb} takes POST with {"instances": [...]}, not GET`,
          }),
        );
      }
      const other = otherModel(request.params.name);
      if (other) return notFound(reply, other);
      return readiness(reply, { name: request.params.name });
    });
    /** `<name>:<verb>` split on its last colon, or the 404's message for another endpoint or model. */
    const v1Target = (target: string): { verb: (typeof V1_VERBS)[number] } | { missing: string } => {
      const at = target.lastIndexOf(':');
      const verb = target.slice(at + 1);
      if (at < 0 || !(V1_VERBS as readonly string[]).includes(verb)) {
        return {
          missing: `no such endpoint: POST /v1/models/<name>:predict or /v1/models/<name>:explain (got ${JSON.stringify(target)})`,
        };
      }
      const other = otherModel(target.slice(0, at));
      return other ? { missing: other } : { verb: verb as (typeof V1_VERBS)[number] };
    };
    scope.post<{ Params: { target: string } }>(
      '/v1/models/:target',
      {
        schema: { body: v1RequestSchema },
        // Another endpoint or model is a 404 whatever the body holds: checked before the body is read.
        onRequest: async (request, reply) => {
          const target = v1Target((request.params as { target: string }).target);
          if ('missing' in target) return notFound(reply, target.missing);
        },
      },
      async (request, reply) => {
        const target = v1Target(request.params.target);
        if ('missing' in target) return notFound(reply, target.missing);
        const { verb } = target;
        const read = v1Applicants(request.body as V1Request, service.schema);
        const output = service.schema.output;
        if (verb === 'predict') {
          const done = await namingFields(read, () => service.predictWithModel(read.applicants));
          return { predictions: predictionRows(done.output, done.predictions) };
        }
        const texts = await namingFields(read, () => service.explainJson(read.applicants));
        // The documents' probabilities, at the documents' precision (1 − p is computed here).
        const predictions = fixPrecision(
          predictionRows(
            output,
            texts.map((t) => (JSON.parse(t) as ExplanationDocument).predictions),
          ),
        );
        // The documents are signed JSON text already: sent as they are.
        return reply
          .type('application/json; charset=utf-8')
          .send(`{"predictions":${JSON.stringify(predictions)},"explanations":[${texts.join(',')}]}`);
      },
    );

    // ---- V2 (Open Inference Protocol) ------------------------------------------------------------------
    scope.get('/v2', async () => ({ name: 'branchlens', version, extensions: [] }));
    scope.get('/v2/health/live', probe, async () => ({ live: true }));
    scope.get('/v2/health/ready', probe, async (_request, reply) => readiness(reply, {}));

    type ModelParams = { name: string; version?: string };
    for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
      scope.get<{ Params: ModelParams }>(base, async (request, reply) => {
        const other = otherModel(request.params.name, request.params.version);
        if (other) return notFound(reply, other);
        return v2ModelMetadata(service.model, service.schema, service.backend, request.params.name);
      });
      scope.get<{ Params: ModelParams }>(`${base}/ready`, probe, async (request, reply) => {
        const other = otherModel(request.params.name, request.params.version);
        if (other) return notFound(reply, other);
        return readiness(reply, { name: request.params.name });
      });
      scope.post<{ Params: ModelParams }>(
        `${base}/infer`,
        {
          schema: { body: v2InferRequestSchema },
          // Another model or version is a 404 whatever the body holds: checked before the body is read.
          onRequest: async (request, reply) => {
            const { name, version: modelVersion } = request.params as ModelParams;
            const other = otherModel(name, modelVersion);
            if (other) return notFound(reply, other);
          },
        },
        async (request, reply) => {
          const other = otherModel(request.params.name, request.params.version);
          if (other) return notFound(reply, other);
          const req = request.body as V2InferRequest;
          const { schema } = service;
          checkRequestedOutputs(req, schema.output);
          const read = v2Applicants(req, schema);
          // Labelled with the model that computed them, which an activation may have replaced meanwhile.
          const { model, output, predictions } = await namingFields(read, () =>
            service.predictWithModel(read.applicants),
          );
          const rows = predictionRows(output, predictions);
          const out = v2Output(output);
          // Asked by the --model-name, answered by it: that name stays while activations change the model.
          const asked = request.params.name;
          return {
            model_name: asked === alias() ? asked : model.id,
            model_version: model.version,
            id: req.id ?? randomUUID(),
            parameters: { model_sha256: model.sha256, backend: service.backend },
            outputs: [
              {
                name: out.name,
                datatype: 'FP64',
                shape: [rows.length, out.width],
                ...(out.classes ? { parameters: { classes: v2ListParameter(out.classes) } } : {}),
                data: rows.flat(),
              },
            ],
          };
        },
      );
    }
  });
}
