// The form's problems as the page keeps them: codes and the values given, not sentences, so that they are worded
// when shown, in the language of the moment (switching the language rewords the errors already on screen). Pure.
import { fieldMessages, serverProblems, type FieldIssue } from '../../lib/problem-text.js';
import type { FieldProblem } from '../../lib/validate.js';

export type { FieldIssue };

export interface FormProblems {
  /** By feature name. */
  byField: Record<string, FieldIssue>;
  /** Problems with no field of the form: the server's own words (`field: message`). */
  other: string[];
}

export const NO_PROBLEMS: FormProblems = { byField: {}, other: [] };

/** The form's own checks, by field. */
export function checkedProblems(problems: readonly FieldProblem[]): Record<string, FieldIssue> {
  const out: Record<string, FieldIssue> = {};
  for (const p of problems)
    out[p.field] = { code: p.code, ...(p.given !== undefined ? { given: p.given } : {}) };
  return out;
}

export { fieldMessages, serverProblems };
