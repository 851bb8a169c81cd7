// Fastify's schema validation with the project's one schema library: a route's `schema` parts are zod
// schemas, and a failure is an InputError whose problems name the fields (answered 400 like any bad input).
import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { InputError, problemsFromZod } from '../../shared/problems.js';

const PART_PREFIX: Record<string, string> = { body: '', querystring: 'query.', params: 'path.', headers: '' };

export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const prefix = PART_PREFIX[httpPart ?? 'body'] ?? '';
  return (data: unknown) => {
    const parsed = schema.safeParse(data);
    return parsed.success
      ? { value: parsed.data }
      : { error: new InputError(problemsFromZod(parsed.error, prefix)) };
  };
};
