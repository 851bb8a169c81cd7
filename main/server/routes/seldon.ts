// Seldon Core's v1 protocol: POST /api/v1.0/predictions and POST /api/v1.0/explain (see ../seldon.ts).
import type { FastifyInstance } from 'fastify';
import type { BranchLensService } from '../../core/service.js';
import {
  namingRequestFields,
  predictionNames,
  predictionRows,
  seldonApplicants,
  seldonMeta,
  seldonQuerySchema,
  seldonRequestSchema,
  type SeldonRequest,
} from '../seldon.js';

export function registerSeldon(app: FastifyInstance, service: BranchLensService): void {
  const schema = { body: seldonRequestSchema, querystring: seldonQuerySchema };

  app.post('/api/v1.0/predictions', { schema }, async (request) => {
    const req = request.body as SeldonRequest;
    const applicants = seldonApplicants(req, service.schema);
    const predictions = await namingRequestFields(req, applicants.length, () => service.predict(applicants));
    const output = service.schema.output;
    return {
      data: {
        names: predictionNames(output, predictions[0]?.length ?? 1),
        ndarray: predictionRows(output, predictions),
      },
      meta: seldonMeta(service.model, service.backend, req.puid),
    };
  });

  app.post('/api/v1.0/explain', { schema }, async (request, reply) => {
    const req = request.body as SeldonRequest;
    const applicants = seldonApplicants(req, service.schema);
    const documents = await namingRequestFields(req, applicants.length, () =>
      service.explainJson(applicants),
    );
    const meta = JSON.stringify(seldonMeta(service.model, service.backend, req.puid));
    // The documents are signed JSON text already: sent as they are.
    return reply
      .type('application/json; charset=utf-8')
      .send(`{"documents":[${documents.join(',')}],"meta":${meta}}`);
  });
}
