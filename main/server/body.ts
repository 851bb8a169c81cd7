// Request bodies: JSON only, parsed once, and refused before any handler sees them when they nest deeper than
// any request needs (deep structures overflow the stack of whatever walks them next) or carry keys that
// reach an object's prototype (`__proto__`, `constructor`).
import { InputError, type Problem } from '../../shared/problems.js';
import { describeRepeatedKey, repeatedKeys } from '../core/json-keys.js';

/** Deeper than any request of the contract or of Seldon's protocol (those need ≤ 8). */
export const MAX_BODY_DEPTH = 32;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PROBLEMS = 20;

/** A body the server cannot read as sent (compressed, or not UTF-8): answered 415, naming the header. */
export class UnsupportedBodyError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.field}: ${problem.message}`);
    this.name = 'UnsupportedBodyError';
  }
}

/**
 * The body's encoding as its headers declare it: identity and UTF-8 only (JSON is UTF-8, RFC 8259). Anything
 * else would be read as garbled text, or worse, as different numbers.
 */
export function checkBodyEncoding(headers: Record<string, string | string[] | undefined>): void {
  const encoding = String(headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new UnsupportedBodyError({
      field: 'content-encoding',
      code: 'invalid',
      message: `${JSON.stringify(encoding)} is not supported: send the JSON body uncompressed`,
    });
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(String(headers['content-type'] ?? ''))?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new UnsupportedBodyError({
      field: 'content-type',
      code: 'invalid',
      message: `charset ${JSON.stringify(charset)} is not supported: JSON bodies are UTF-8`,
    });
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A body's bytes as text: UTF-8 only, a byte-order mark dropped (RFC 8259 §8.1 lets a parser ignore it), and
 * bytes that are not UTF-8 refused rather than read as U+FFFD, which would silently change a category's code.
 */
export function decodeBody(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new InputError([
      { field: 'body', code: 'invalid', message: 'is not valid UTF-8 (JSON bodies are UTF-8 text)' },
    ]);
  }
}

/** Parses a request body's text as JSON; every problem names where it is (`body`, `body.applicants[0]…`). */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new InputError([
      { field: 'body', code: 'missing', message: 'is empty: send a JSON document (see docs/http-api.md)' },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError([
      {
        field: 'body',
        code: 'invalid',
        message: `is not valid JSON (${(e as Error).message}); NaN and Infinity are not JSON`,
      },
    ]);
  }
  const problems = inspect(value);
  // A repeated key (`{"Amount": 99999, …, "Amount": 1500}`) would be read as its last value: say so instead.
  if (problems.length === 0 && value !== null && typeof value === 'object') {
    for (const r of repeatedKeys(text)) {
      problems.push({ field: r.path || 'body', code: 'invalid', message: describeRepeatedKey(r) });
    }
  }
  if (problems.length) throw new InputError(problems);
  return value;
}

interface Frame {
  value: object;
  parent: Frame | null;
  key: string | number;
  depth: number;
}

/** Where a frame is, as problems name fields: `applicants[0].Amount`; the root is `body`. */
function pathOf(frame: Frame | null, key?: string | number): string {
  const parts: (string | number)[] = key === undefined ? [] : [key];
  for (let f = frame; f && f.parent; f = f.parent) parts.unshift(f.key);
  return (
    parts
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
      .join('')
      .replace(/^\./, '') || 'body'
  );
}

/** Walks the parsed value without recursion, so that even a pathological depth is measured safely. */
function inspect(root: unknown): Problem[] {
  const problems: Problem[] = [];
  if (root === null || typeof root !== 'object') return problems;
  const stack: Frame[] = [{ value: root, parent: null, key: '', depth: 0 }];
  while (stack.length && problems.length < MAX_PROBLEMS) {
    const frame = stack.pop()!;
    if (frame.depth >= MAX_BODY_DEPTH) {
      problems.push({
        field: pathOf(frame),
        code: 'invalid',
        message: `nests deeper than ${MAX_BODY_DEPTH} levels of arrays and objects`,
      });
      return problems;
    }
    const push = (value: unknown, key: string | number) => {
      if (value !== null && typeof value === 'object')
        stack.push({ value, parent: frame, key, depth: frame.depth + 1 });
    };
    if (Array.isArray(frame.value)) {
      frame.value.forEach(push);
      continue;
    }
    for (const [key, value] of Object.entries(frame.value)) {
      if (RESERVED_KEYS.has(key)) {
        problems.push({
          field: pathOf(frame, key),
          code: 'invalid',
          message: `"${key}" is not allowed as a key (it could reach an object's prototype)`,
        });
      } else push(value, key);
    }
  }
  return problems;
}
