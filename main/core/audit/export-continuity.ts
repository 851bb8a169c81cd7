// Whether two verified exports of one branch's log fit together: head office keeps the last export it verified,
// and checks the next against it. Each export's seal signs its range (first_seq, the hash before it, and its last
// entry's hash), and each export holds every entry's hash in that range; two exports of one log agree at every
// seq both cover, and by the hash chain agreeing at the last of them means agreeing on everything before it. So
// one comparison decides: at the last seq both cover, the hashes must be equal; and if no seq is covered by both,
// the entries between them reached head office in neither (a gap).
import type { ExportVerification } from './verify-export.js';

/** An export's range as its seal signs it: entries `first`–`last` (`last` = `first` − 1 when empty). */
interface SignedRange {
  first: number;
  last: number;
  /** Hashes known at seqs: `first` − 1 (the seal's first_prev_hash), `last`, and a kept one. */
  hashes: Map<number, string>;
}

function rangeOf(v: ExportVerification, which: string): SignedRange {
  const c = v.checkpoint;
  if (!v.ok || !c) throw new Error(`the ${which} export did not verify: it cannot be compared`);
  const hashes = new Map<number, string>([
    [c.firstSeq - 1, c.firstPrevHash],
    [c.seq, c.entryHash],
  ]);
  if (v.hashAt) hashes.set(v.hashAt.seq, v.hashAt.entryHash);
  return { first: c.firstSeq, last: c.seq, hashes };
}

/** The last seq both exports hold a hash for, if their ranges (with the seq before each) meet. */
function meeting(a: SignedRange, b: SignedRange): number | undefined {
  const s = Math.min(a.last, b.last);
  return s >= Math.max(a.first, b.first) - 1 ? s : undefined;
}

/**
 * The seq whose hash one export must be verified again to keep (`verifyExport(…, { hashAt: seq })`) before
 * exportContinuity can decide, and which; undefined when the seals' own hashes decide.
 */
export function continuityNeeds(
  previous: ExportVerification,
  next: ExportVerification,
): { export: 'previous' | 'next'; seq: number } | undefined {
  const p = rangeOf(previous, 'previous');
  const n = rangeOf(next, 'next');
  const s = meeting(p, n);
  if (s === undefined) return undefined;
  if (!p.hashes.has(s)) return { export: 'previous', seq: s };
  if (!n.hashes.has(s)) return { export: 'next', seq: s };
  return undefined;
}

export type ExportContinuity =
  | {
      ok: true;
      /**
       * `continues`: the next export starts right after the previous one; `overlaps`: it starts within it and
       * ends after it; `within`: it ends at or before the previous one's end (a range exported again, or a log
       * cut back since: the seals cannot tell which, so it is said).
       */
      relation: 'continues' | 'overlaps' | 'within';
      message: string;
    }
  | { ok: false; kind: 'gap' | 'diverged'; seq: number; message: string };

/** Whether `next` fits with `previous`, two exports that each verified (see continuityNeeds first). */
export function exportContinuity(previous: ExportVerification, next: ExportVerification): ExportContinuity {
  const p = rangeOf(previous, 'previous');
  const n = rangeOf(next, 'next');
  const s = meeting(p, n);
  if (s === undefined) {
    const [earlier, later] = p.last < n.first ? [p, n] : [n, p];
    const from = earlier.last + 1;
    const to = later.first - 1;
    return {
      ok: false,
      kind: 'gap',
      seq: from,
      message: `entries ${from}–${to} are in neither export: the ${later === n ? 'next' : 'previous'} export starts at ${later.first}, but the ${earlier === p ? 'previous' : 'next'} one ends at ${earlier.last}`,
    };
  }
  const mine = p.hashes.get(s);
  const theirs = n.hashes.get(s);
  if (mine === undefined || theirs === undefined) {
    throw new Error(`the entry_hash at seq ${s} is needed from both exports (continuityNeeds)`);
  }
  if (mine !== theirs) {
    return {
      ok: false,
      kind: 'diverged',
      seq: s,
      message: `the exports differ at entry ${s}: they are not of one log, or the branch's log was rewritten after the previous export`,
    };
  }
  if (n.last <= p.last) {
    return {
      ok: true,
      relation: 'within',
      message: `it ends at entry ${n.last}, not after the previous export's ${p.last}: a range exported again, or the branch's log cut back since (ask the branch for an export to its head)`,
    };
  }
  return n.first === p.last + 1
    ? {
        ok: true,
        relation: 'continues',
        message: `it continues the previous export (entries ${n.first}–${n.last} after ${p.last})`,
      }
    : {
        ok: true,
        relation: 'overlaps',
        message: `it agrees with the previous export up to entry ${p.last} and adds entries ${p.last + 1}–${n.last}`,
      };
}
