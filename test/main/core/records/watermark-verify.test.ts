// verifyDocument over whatever JSON.parse can give: a document that has no canonical JSON is not valid, and the
// reason says where; it never throws (the HTTP route, IPC and `branchlens verify` would fail with it).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyDocument } from '../../../../main/core/records/watermark.js';
import { keyId, type HmacKey } from '../../../../main/core/keys.js';

function key(): HmacKey {
  const k = randomBytes(32);
  return { key: k, id: keyId(k) };
}

/** A document as a file or request would hold it, with this key's _meta in front of `members`. */
function parsed(k: HmacKey, members: string): unknown {
  const meta = `"_meta":{"alg":"HMAC-SHA256/JCS","key_id":"${k.id}","watermark":"${'0'.repeat(64)}"}`;
  return JSON.parse(`{${meta},${members}}`);
}

describe('verifyDocument of a document that has no canonical JSON', () => {
  it.each([
    [
      'a number beyond a double (Infinity)',
      '"score":1e400',
      'score holds a number beyond a double',
      { kind: 'number_beyond_double', params: { path: 'score', value: 'Infinity' } },
    ],
    [
      'a nested number beyond a double (-Infinity)',
      '"attributions":[{"attribution":1},{"attribution":-1e400}]',
      'attributions[1].attribution holds a number beyond a double (read as -Infinity)',
      { kind: 'number_beyond_double', params: { path: 'attributions[1].attribution', value: '-Infinity' } },
    ],
    [
      'a lone high surrogate in a string',
      '"id":"x\\ud800"',
      'id holds a lone UTF-16 surrogate',
      { kind: 'string_lone_surrogate', params: { path: 'id' } },
    ],
    [
      'a lone low surrogate in a string',
      '"meta":{"locale":"\\udc00"}',
      'meta.locale holds a lone UTF-16 surrogate',
      { kind: 'string_lone_surrogate', params: { path: 'meta.locale' } },
    ],
    [
      'a lone surrogate in a key',
      '"meta":{"\\ud800":1}',
      'meta has the key "\\ud800"',
      { kind: 'key_lone_surrogate', params: { path: 'meta."\\ud800"' } },
    ],
  ])('%s: {ok: false} naming where (in words and as a kind), not a throw', (_name, members, where, named) => {
    const k = key();
    const r = verifyDocument(parsed(k, members), k);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.reason).toContain(`the document cannot be canonical JSON: ${where}`);
    expect(r).toMatchObject(named);
  });

  it('takes a surrogate pair (an emoji) as the text it is', () => {
    const k = key();
    const r = verifyDocument(parsed(k, '"id":"\\ud83d\\ude00"'), k);
    expect(r).toEqual({
      ok: false,
      reason: 'watermark does not match the content: the document was changed',
      kind: 'changed',
      params: {},
    });
  });

  it('says why for nesting too deep to canonicalise, rather than overflowing the stack', () => {
    const k = key();
    const deep = `"d":${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const r = verifyDocument(parsed(k, deep), k);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.reason).toMatch(/^the document cannot be canonical JSON: /);
  });

  it('names a key id or alg that is no string by its kind, even one that cannot be made a string', () => {
    const k = key();
    const unprintable = JSON.parse('{"toString":1,"valueOf":1}') as unknown;
    const doc = (meta: Record<string, unknown>) => ({
      _meta: { alg: 'HMAC-SHA256/JCS', key_id: k.id, watermark: '00', ...meta },
      score: 1,
    });
    expect(verifyDocument(doc({ key_id: unprintable }), k)).toEqual({
      ok: false,
      reason: `signed with key an object, this installation's key is ${k.id}`,
      kind: 'key_id_missing',
      params: {},
    });
    expect(verifyDocument(doc({ key_id: undefined }), k)).toEqual({
      ok: false,
      reason: `signed with key none, this installation's key is ${k.id}`,
      kind: 'key_id_missing',
      params: {},
    });
    expect(verifyDocument(doc({ alg: unprintable }), k)).toEqual({
      ok: false,
      reason: 'unsupported _meta.alg an object',
      kind: 'alg_missing',
      params: {},
    });
    expect(verifyDocument(doc({ alg: 'HS256' }), k)).toEqual({
      ok: false,
      reason: 'unsupported _meta.alg "HS256"',
      kind: 'alg_unsupported',
      params: { alg: '"HS256"' },
    });
  });
});
