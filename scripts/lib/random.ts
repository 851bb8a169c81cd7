// Seeded randomness for training: the split and the per-epoch order must not depend on Math.random.
import { seededRandom } from '../../main/core/monitor/stability.js';

/** A 32-bit seeded generator returning floats in [0, 1): the monitor's mulberry32, so there is one of it. */
export type Rng = () => number;

export const mulberry32: (seed: number) => Rng = seededRandom;

/** Shuffles in place (Fisher–Yates) and returns the same array. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** 0 … n−1 in a seeded random order. */
export function permutation(n: number, rng: Rng): number[] {
  return shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    rng,
  );
}

export interface Split {
  /** Row indices, ascending. */
  train: number[];
  test: number[];
}

/** Holds out `testFraction` of each class, so both parts keep the class balance of the whole. */
export function stratifiedSplit(labels: readonly number[], testFraction: number, rng: Rng): Split {
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError('testFraction must be in (0, 1)');
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const rows = byClass.get(label);
    if (rows) rows.push(i);
    else byClass.set(label, [i]);
  });
  const train: number[] = [];
  const test: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = shuffleInPlace(byClass.get(label)!, rng);
    const nTest = Math.round(rows.length * testFraction);
    test.push(...rows.slice(0, nTest));
    train.push(...rows.slice(nTest));
  }
  const ascending = (a: number, b: number) => a - b;
  return { train: train.sort(ascending), test: test.sort(ascending) };
}
