// An engine's answer request for the default explain options, as the service builds one for a request that names
// no options (the demo model's single output as target).
import { answerOptions } from '../../main/core/explain-pipeline.js';
import type { AnswerRequest } from '../../main/core/records/answer.js';
import { documentParams, engineOptions, parseExplainOptions } from '../../main/core/service.js';

export function answerRequest(): AnswerRequest {
  const options = parseExplainOptions({});
  return { options: engineOptions(options), answer: answerOptions(options, documentParams(options, null)) };
}
