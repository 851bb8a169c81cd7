import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPLAIN_OPTIONS, Engine, type ExplainOptions } from '../../../main/core/engine.js';
import { initBackend } from '../../../main/core/tf/backend.js';
import { CREDIT_APPLICANTS, creditBundle, removeDir, tempDir } from '../../helpers/bundles.js';

const OPTIONS: ExplainOptions = { ...DEFAULT_EXPLAIN_OPTIONS, nSteps: 8 };

let dir: string;
let engine: Engine;

beforeAll(async () => {
  await initBackend('cpu');
  dir = await creditBundle(tempDir(), 'sigmoid');
  engine = await Engine.load(dir, { backend: 'cpu' });
});
afterAll(() => {
  engine?.dispose();
  removeDir(dir);
});

describe('explaining leaves no tensors behind', () => {
  it('after 1,000 explanations', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) engine.explain([CREDIT_APPLICANTS[i % CREDIT_APPLICANTS.length]], OPTIONS);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('after layer attributions, batches of applicants, predictions and refused requests', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      engine.explain(CREDIT_APPLICANTS, { ...OPTIONS, internalBatchSize: 7 });
      engine.explain(CREDIT_APPLICANTS, { ...OPTIONS, layer: { layer: 'out' } });
      engine.explain(CREDIT_APPLICANTS, { ...OPTIONS, layer: { layer: 'hidden', toInputs: true } });
      engine.predict(CREDIT_APPLICANTS);
      expect(() => engine.explain([{ age: 5 }], OPTIONS)).toThrow();
      expect(() => engine.explain(CREDIT_APPLICANTS, { ...OPTIONS, layer: { layer: 'nope' } })).toThrow();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
