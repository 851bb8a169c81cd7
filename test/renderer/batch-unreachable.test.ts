// A batch whose service goes away mid-run: it stops sending, leaves the unanswered rows unexplained (not failed)
// and can go on with just those rows later, the answers already received kept.
import { describe, expect, it } from 'vitest';
import { ApiError, type Api, type ApiRequest } from '../../shared/contract.js';
import type { ExplanationDocument } from '../../shared/explanation.js';
import { translate } from '../../shared/i18n/index.js';
import { httpCall } from '../../renderer/src/api/http.js';
import { BatchStore } from '../../renderer/src/pages/batch/batch-store.js';
import {
  isUnreachable,
  runChunks,
  type ChunkItem,
  type ItemOutcome,
} from '../../renderer/src/pages/batch/run-chunks.js';
import { demoSchema } from './helpers.js';

/** The error the renderer's Api client throws when the server cannot be reached (fetch itself fails). */
async function transportError(request: ApiRequest<'explain'>): Promise<never> {
  const call = httpCall({
    base: 'http://127.0.0.1:1/',
    fetch: () => Promise.reject(new TypeError('Failed to fetch')),
  });
  await call('explain', request);
  throw new Error('the call should have failed');
}

function doc(line: number): ExplanationDocument {
  return {
    id: `doc-${line}`,
    score: 0.6,
    decision: { label: 'good', approved: true, threshold: 0.5 },
    attributions: [],
    reasons: [],
    meta: { latency_ms: 1 },
  } as unknown as ExplanationDocument;
}

const items: ChunkItem[] = Array.from({ length: 50 }, (_, i) => ({
  line: i + 2,
  applicant: { Seniority: i },
}));

/** An explain that answers each applicant (its line is Seniority + 2), or fails as `fail` says for a call. */
function fakeApi(fail: (call: number) => 'unreachable' | 'ok', delay: (call: number) => number = () => 1) {
  let calls = 0;
  const sent: number[][] = [];
  const api: Pick<Api, 'explain'> = {
    async explain(request) {
      const call = calls++;
      sent.push(request.applicants.map((a) => Number(a.Seniority) + 2));
      await new Promise((r) => setTimeout(r, delay(call)));
      if (fail(call) === 'unreachable') return transportError(request);
      return { documents: request.applicants.map((a) => doc(Number(a.Seniority) + 2)) };
    },
  };
  return { api, sent, calls: () => calls };
}

describe('a batch when the service cannot be reached', () => {
  it('knows the transport error from an answer of the service', async () => {
    const e = await transportError({ applicants: [{}] }).catch((x: unknown) => x);
    expect(isUnreachable(e)).toBe(true);
    expect(isUnreachable(new ApiError({ error: 'internal', message: 'boom' }))).toBe(false);
    expect(isUnreachable(new Error('network: no'))).toBe(false);
  });

  it('stops at the chunk that fails, sends no more, fails no row, and a resume sends only the unanswered rows', async () => {
    const { api, sent, calls } = fakeApi((call) => (call === 1 ? 'unreachable' : 'ok'));
    const seen: ItemOutcome[] = [];
    const result = await runChunks(
      api,
      items,
      {},
      { chunkSize: 10, concurrency: 1, isCancelled: () => false, onOutcomes: (o) => seen.push(...o) },
    );
    expect(calls()).toBe(2); // the 3rd chunk is never sent
    expect(isUnreachable(result.unreachable)).toBe(true);
    expect(seen.map((o) => o.line)).toEqual(items.slice(0, 10).map((i) => i.line));
    expect(seen.every((o) => o.ok)).toBe(true);
    expect(result.unanswered.map((i) => i.line)).toEqual(items.slice(10).map((i) => i.line));

    const again = await runChunks(
      api,
      result.unanswered,
      {},
      { chunkSize: 10, concurrency: 1, isCancelled: () => false, onOutcomes: (o) => seen.push(...o) },
    );
    expect(again).toEqual({ unreachable: null, unanswered: [] });
    expect(sent.slice(2).flat()).toEqual(items.slice(10).map((i) => i.line));
    expect(seen.map((o) => o.line)).toEqual(items.map((i) => i.line));
    expect(seen.every((o) => o.ok)).toBe(true);
  });

  it('with two calls in flight, sends no chunk after the failure and keeps the answer of the other call', async () => {
    // Call 0 answers late, call 1 fails at once: the worker of call 0 must not go on to chunk 3.
    const { api, calls } = fakeApi(
      (call) => (call === 1 ? 'unreachable' : 'ok'),
      (call) => (call === 0 ? 20 : 1),
    );
    const seen: ItemOutcome[] = [];
    const result = await runChunks(
      api,
      items,
      {},
      { chunkSize: 10, isCancelled: () => false, onOutcomes: (o) => seen.push(...o) },
    );
    expect(calls()).toBe(2);
    expect(seen.map((o) => [o.line, o.ok])).toEqual(items.slice(0, 10).map((i) => [i.line, true]));
    expect(result.unanswered.map((i) => i.line)).toEqual(items.slice(10).map((i) => i.line));
  });

  it('keeps the rows a refusal names as failed, and the rest unanswered when the service then goes away', async () => {
    let calls = 0;
    const api: Pick<Api, 'explain'> = {
      async explain(request) {
        if (calls++ === 0)
          throw new ApiError({
            error: 'invalid_request',
            message: 'bad',
            problems: [{ field: '[1].Seniority', code: 'out_of_range', message: 'too high' }],
          });
        return transportError(request);
      },
    };
    const seen: ItemOutcome[] = [];
    const result = await runChunks(
      api,
      items.slice(0, 3),
      {},
      { isCancelled: () => false, onOutcomes: (o) => seen.push(...o) },
    );
    expect(seen.map((o) => [o.line, o.ok])).toEqual([[3, false]]);
    expect(result.unanswered.map((i) => i.line)).toEqual([2, 4]);
    expect(isUnreachable(result.unreachable)).toBe(true);
  });

  it('the store stops as interrupted with the unexplained rows pending, and resumes with only those', async () => {
    const header = 'Seniority,Home,Time,Records,Job,Expenses,Amount,Price';
    const rows = Array.from({ length: 250 }, (_, i) => `${i % 30},rent,60,no,fixed,45,900,1200`);
    const file = new File([[header, ...rows].join('\n') + '\n'], 'batch.csv', { type: 'text/csv' });
    const store = new BatchStore();
    await store.load(file, demoSchema());
    expect(store.getSnapshot().fileError).toBeNull();
    expect(store.getSnapshot().good).toHaveLength(250);

    let down = false;
    const sent: number[] = [];
    const api: Pick<Api, 'explain'> = {
      async explain(request) {
        if (down) return transportError(request);
        down = true; // the first chunk is answered; the service is gone for every later one
        sent.push(request.applicants.length);
        await new Promise((r) => setTimeout(r, 5));
        return { documents: request.applicants.map((_, k) => doc(k)) };
      },
    };
    await store.run(api, {});
    let s = store.getSnapshot();
    expect(s.phase).toBe('interrupted');
    expect(isUnreachable(s.unreachable)).toBe(true);
    expect(s.answered).toBe(100);
    expect(s.failed).toBe(0);
    expect(s.results.every((r) => r.doc !== null)).toBe(true);
    expect(s.pending.map((r) => r.line)).toEqual(s.good.slice(100).map((r) => r.line));

    down = false;
    const resumed: number[] = [];
    const back: Pick<Api, 'explain'> = {
      async explain(request) {
        resumed.push(request.applicants.length);
        return { documents: request.applicants.map((_, k) => doc(k)) };
      },
    };
    await store.resume(back, {});
    s = store.getSnapshot();
    expect(resumed).toEqual([100, 50]);
    expect(s.phase).toBe('done');
    expect(s.answered).toBe(250);
    expect(s.failed).toBe(0);
    expect(s.pending).toEqual([]);
    expect(s.unreachable).toBeNull();
    expect(s.results.map((r) => r.line).sort((a, b) => a - b)).toEqual(s.good.map((r) => r.line));
  });

  it('words one row, and one problem, in the singular', () => {
    expect(translate('en', 'batch.startOne')).toBe('Explain the valid row');
    expect(translate('en', 'batch.problemsTitleOne')).toBe('Rows with errors (1 problem)');
    expect(translate('en', 'batch.resume', { count: '4,700' })).toBe(
      'Explain the 4,700 rows not yet explained',
    );
  });
});

describe('a server shutting down', () => {
  const answering = (status: number, body: unknown) =>
    httpCall({
      base: 'http://127.0.0.1:1/',
      fetch: () =>
        Promise.resolve(
          new Response(typeof body === 'string' ? body : JSON.stringify(body), {
            status,
            headers: { 'content-type': 'application/json' },
          }),
        ),
    });
  const request: ApiRequest<'explain'> = { applicants: [{ Seniority: 1 }], options: {} };
  const failure = (call: ReturnType<typeof httpCall>) =>
    call('explain', request).then(
      () => null,
      (e: unknown) => e,
    );

  it('answers 503 without saying busy: the client takes it as the server going away, so a batch stops', async () => {
    for (const body of [
      { error: 'internal', message: 'Service Unavailable' },
      'Service Unavailable', // no JSON at all
    ]) {
      const e = await failure(answering(503, body));
      expect(isUnreachable(e), JSON.stringify(body)).toBe(true);
    }
  });

  it('while a busy 503 and other refusals stay what they are', async () => {
    const busy = await failure(answering(503, { error: 'busy', message: 'queue full', retry_after_s: 1 }));
    expect(isUnreachable(busy)).toBe(false);
    expect((busy as ApiError).body.error).toBe('busy');
    const refused = await failure(answering(400, { error: 'invalid_request', message: 'bad', problems: [] }));
    expect(isUnreachable(refused)).toBe(false);
  });
});
