// Explaining a batch in chunks (100 applicants per explain call, two calls in flight), in order of the file,
// with cancel between chunks. A busy service is waited for and asked again; a chunk the service refuses is
// split into the rows it named and the rest, which are asked once more. A service that cannot be reached stops the
// run: no further chunk is sent, and the rows not answered are handed back to be sent again later (not failed).
// Pure: the Api is passed in.
import { ApiError, type Api, MAX_APPLICANTS_PER_CALL } from '../../../../shared/contract.js';
import type { ExplainOptionsInput } from '../../../../shared/explain-options.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import type { Problem } from '../../../../shared/problems.js';
import { WHOLE_APPLICANT } from '../../lib/validate.js';

export interface ChunkItem {
  line: number;
  applicant: Record<string, unknown>;
}

export type ItemOutcome =
  | { line: number; ok: true; doc: ExplanationDocument }
  | { line: number; ok: false; error: ApiError | Error; problems?: Problem[] };

export interface RunOptions {
  chunkSize?: number;
  concurrency?: number;
  /** Longest wait before asking a busy service again (ms). */
  maxBusyWaitMs?: number;
  busyRetries?: number;
  isCancelled(): boolean;
  /** Each chunk's outcomes, as soon as the chunk is answered. */
  onOutcomes(outcomes: ItemOutcome[]): void;
  sleep?: (ms: number) => Promise<void>;
}

/** What runChunks hands back: the rows not answered (in file order) and, if the run stopped for it, why. */
export interface RunResult {
  /** The transport error when the service could not be reached; null when every chunk was sent. */
  unreachable: ApiError | null;
  /** The rows with no answer (unsent, or in a chunk whose call never reached the service): not failed, to send again. */
  unanswered: ChunkItem[];
}

/** The Api client's transport failure: the call never reached the service (renderer/src/api/http.ts). */
export function isUnreachable(e: unknown): e is ApiError {
  return e instanceof ApiError && e.body.error === 'internal' && e.body.message.startsWith('network:');
}

/** A chunk's answer: the rows answered, and the rest if the service could not be reached. */
interface ChunkAnswer {
  outcomes: ItemOutcome[];
  unanswered: ChunkItem[];
  unreachable: ApiError | null;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The applicant of a call that a problem's field names, and the field within it: `[3].Seniority` is row 3's
 * Seniority, `[3]` is row 3 itself (an applicant that gives no feature), WHOLE_APPLICANT as the page has it.
 * Null for a field of no row (the call's options, say).
 */
export function rowOfProblem(field: string): { index: number; field: string } | null {
  const m = /^\[(\d+)\](?:\.(.+))?$/.exec(field);
  return m ? { index: Number(m[1]), field: m[2] ?? WHOLE_APPLICANT } : null;
}

async function explainChunk(
  api: Pick<Api, 'explain'>,
  items: readonly ChunkItem[],
  options: Partial<ExplainOptionsInput>,
  run: RunOptions,
  splitAllowed = true,
): Promise<ChunkAnswer> {
  const sleep = run.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      // The applicants alone: a row's other cells (GoodRow.kept: a customer's name) stay in the page.
      const { documents } = await api.explain({ applicants: items.map((i) => i.applicant), options });
      const outcomes = items.map((item, k) => ({ line: item.line, ok: true as const, doc: documents[k]! }));
      return { outcomes, unanswered: [], unreachable: null };
    } catch (e) {
      if (isUnreachable(e)) return { outcomes: [], unanswered: [...items], unreachable: e };
      if (
        e instanceof ApiError &&
        e.body.error === 'busy' &&
        attempt < (run.busyRetries ?? 5) &&
        !run.isCancelled()
      ) {
        await sleep(Math.min(run.maxBusyWaitMs ?? 5000, Math.max(100, e.body.retry_after_s * 1000)));
        continue;
      }
      if (e instanceof ApiError && e.body.error === 'invalid_request' && splitAllowed && items.length > 1) {
        const byIndex = new Map<number, Problem[]>();
        for (const p of e.body.problems) {
          const row = rowOfProblem(p.field);
          if (!row || row.index >= items.length) continue;
          byIndex.set(row.index, [...(byIndex.get(row.index) ?? []), { ...p, field: row.field }]);
        }
        if (byIndex.size > 0) {
          const refused: ItemOutcome[] = [...byIndex].map(([k, problems]) => ({
            line: items[k]!.line,
            ok: false as const,
            error: e,
            problems,
          }));
          const rest = items.filter((_, k) => !byIndex.has(k));
          const again = rest.length
            ? await explainChunk(api, rest, options, run, false)
            : { outcomes: [], unanswered: [], unreachable: null };
          return { ...again, outcomes: [...refused, ...again.outcomes].sort((a, b) => a.line - b.line) };
        }
      }
      const outcomes = items.map((item) => ({ line: item.line, ok: false as const, error: e as Error }));
      return { outcomes, unanswered: [], unreachable: null };
    }
  }
}

/**
 * Explains every item; resolves when all chunks are answered, the run was cancelled, or the service could not be
 * reached (no chunk is sent after that; the chunks already in flight are still heard).
 */
export async function runChunks(
  api: Pick<Api, 'explain'>,
  items: readonly ChunkItem[],
  options: Partial<ExplainOptionsInput>,
  run: RunOptions,
): Promise<RunResult> {
  const size = Math.max(1, Math.min(run.chunkSize ?? 100, MAX_APPLICANTS_PER_CALL));
  const chunks: ChunkItem[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  let next = 0;
  let unreachable: ApiError | null = null;
  const answered = new Set<ChunkItem>();
  const worker = async () => {
    while (next < chunks.length && !run.isCancelled() && !unreachable) {
      const chunk = chunks[next++]!;
      const answer = await explainChunk(api, chunk, options, run);
      unreachable ??= answer.unreachable;
      const left = new Set(answer.unanswered);
      for (const item of chunk) if (!left.has(item)) answered.add(item);
      if (answer.outcomes.length) run.onOutcomes(answer.outcomes);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, run.concurrency ?? 2) }, worker));
  return { unreachable, unanswered: items.filter((item) => !answered.has(item)) };
}
