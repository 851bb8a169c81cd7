// Error bodies of bounded size, for every transport alike (HTTP answers, IPC replies): a request's names and
// values are quoted cut short, and long problem lists are cut with the count of the rest.
import type { ApiErrorBody } from '../../shared/contract.js';
import { MAX_QUOTED_CHARS, shortened, type Problem } from '../../shared/problems.js';

/** The most problems one error answer lists; how many more there were is `problems_omitted`. */
export const MAX_PROBLEMS_ANSWERED = 100;
/** The longest `message` an error answer carries. */
export const MAX_MESSAGE_CHARS = 4000;

/** The longest `field` (a path of names) or param an error answer carries. */
export const MAX_FIELD_CHARS = 256;

/**
 * A run of text with no white space, quote or punctuation of paths and lists in it, longer than a problem
 * quotes: a name or value from the request (a key, a category, a URL), never the server's own wording, which
 * such runs leave whole (a feature list, a file path, a sha256).
 */
const LONG_RUN = new RegExp(`[^\\s"'\`.,:;()[\\]{}/\\\\=]{${MAX_QUOTED_CHARS + 1},}`, 'gu');

/** `text` with each long run of it cut (see `shortened`), wherever the core or a route quoted it from. */
function quotingShort(text: string): string {
  return text.length <= MAX_QUOTED_CHARS ? text : text.replace(LONG_RUN, (run) => shortened(run));
}

function boundedProblem(p: Problem): Problem {
  const out: Problem = {
    ...p,
    field: shortened(quotingShort(p.field), MAX_FIELD_CHARS),
    message: shortened(quotingShort(p.message), MAX_MESSAGE_CHARS),
  };
  if (p.params) {
    out.params = Object.fromEntries(
      Object.entries(p.params).map(([k, v]) => [
        k,
        typeof v === 'string' ? shortened(quotingShort(v), MAX_FIELD_CHARS) : v,
      ]),
    );
  }
  return out;
}

/**
 * An error body of bounded size, whatever the request: a 10 KB body with 8,000 wrong values would otherwise be
 * answered with megabytes (each problem, and the message joining them all), and a 1 MB key name with that key
 * in full, in the field, the message and Seldon's `info`. The names and values a problem quotes are cut here,
 * for every route and every part of the core alike.
 */
export function boundedErrorBody(body: ApiErrorBody): ApiErrorBody {
  let out: ApiErrorBody = { ...body, message: quotingShort(body.message) };
  let total: number | undefined;
  if (out.error === 'invalid_request') {
    total = out.problems.length;
    out = {
      ...out,
      problems: out.problems.slice(0, MAX_PROBLEMS_ANSWERED).map(boundedProblem),
      ...(total > MAX_PROBLEMS_ANSWERED ? { problems_omitted: total - MAX_PROBLEMS_ANSWERED } : {}),
    };
  }
  if (out.message.length > MAX_MESSAGE_CHARS) {
    const all = total !== undefined && total > MAX_PROBLEMS_ANSWERED ? ` (${total} problems in all)` : '';
    out = { ...out, message: `${out.message.slice(0, MAX_MESSAGE_CHARS)}…${all}` };
  }
  return out;
}
