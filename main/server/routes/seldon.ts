// Seldon Core's v1 protocol (see ../seldon.ts): POST /api/v1.0/predictions and /api/v1.0/feedback (and their
// /api/v0.1 twins, where SeldonClient's gateway="seldon" posts), and POST /predict, POST /send-feedback and
// GET /metadata, the paths on which Seldon Core's executor calls a MODEL unit of its graph; POST /api/v1.0/explain
// for explanations.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BranchLensService } from '../../core/service.js';
import type { ServerMetrics } from '../metrics.js';
import {
  feedbackEcho,
  namingRequestFields,
  predictionData,
  seldonApplicants,
  seldonMeta,
  seldonModelMetadata,
  seldonFeedbackSchema,
  seldonQuerySchema,
  seldonRequestSchema,
  type SeldonFeedback,
  type SeldonRequest,
} from '../seldon.js';

export function registerSeldon(
  app: FastifyInstance,
  service: BranchLensService,
  metrics: Pick<ServerMetrics, 'observeFeedback'>,
): void {
  const schema = { body: seldonRequestSchema, querystring: seldonQuerySchema };

  const predictions = async (request: FastifyRequest) => {
    const req = request.body as SeldonRequest;
    const modelSchema = service.schema;
    const applicants = seldonApplicants(req, modelSchema);
    // Labelled with the model that computed them, which an activation may have replaced meanwhile.
    const { model, output, predictions } = await namingRequestFields(
      req,
      applicants.length,
      () => service.predictWithModel(applicants),
      modelSchema,
    );
    // In the form asked: a tensor for a tensor, else an ndarray.
    return {
      data: predictionData(req.form, output, predictions),
      meta: seldonMeta(model, service.backend, req),
    };
  };
  app.post('/api/v1.0/predictions', { schema }, predictions);
  app.post('/api/v0.1/predictions', { schema }, predictions);
  app.post('/predict', { schema }, predictions);

  // Feedback is taken, counted in the metrics and answered 200, as Seldon's wrapper answers it for a model
  // without a feedback method: this model does not learn from it, and it is not audited (no decision is made).
  const feedback = async (request: FastifyRequest) => {
    const message = request.body as SeldonFeedback;
    metrics.observeFeedback(message.reward);
    return { meta: seldonMeta(service.model, service.backend, feedbackEcho(message)) };
  };
  const feedbackSchema = { body: seldonFeedbackSchema, querystring: seldonQuerySchema };
  // The executor passes /api/v1.0/feedback on to a MODEL unit's /send-feedback.
  for (const path of ['/api/v1.0/feedback', '/api/v0.1/feedback', '/send-feedback']) {
    app.post(path, { schema: feedbackSchema }, feedback);
  }
  // What Seldon's executor asks a MODEL unit for on /api/v1.0/metadata/<model>.
  app.get('/metadata', async () => seldonModelMetadata(service.model, service.schema, service.backend));

  app.post('/api/v1.0/explain', { schema }, async (request, reply) => {
    const req = request.body as SeldonRequest;
    const modelSchema = service.schema;
    const applicants = seldonApplicants(req, modelSchema);
    // The model asked (each document names the one that computed it, which an activation may have changed).
    const model = service.model;
    const documents = await namingRequestFields(
      req,
      applicants.length,
      () => service.explainJson(applicants),
      modelSchema,
    );
    const meta = JSON.stringify(seldonMeta(model, service.backend, req));
    // The documents are signed JSON text already: sent as they are.
    return reply
      .type('application/json; charset=utf-8')
      .send(`{"documents":[${documents.join(',')}],"meta":${meta}}`);
  });
}
