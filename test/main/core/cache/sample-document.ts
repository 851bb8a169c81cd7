// A small, valid explanation document for the cache tests; `n` makes each one distinct.
import { createHash } from 'node:crypto';
import type { ExplanationDocument } from '../../../../shared/explanation.js';

export function sampleDocument(n: number, modelSha256 = 'a'.repeat(64)): ExplanationDocument {
  return {
    id: `doc-${n}`,
    created_at: '2025-01-01T00:00:00.000Z',
    model: { id: 'credit-demo', version: '1.0.0', sha256: modelSha256 },
    predictions: [0.25 + n / 1000],
    target: { index: 0, name: 'approved' },
    score: 0.25 + n / 1000,
    baseline_score: 0.5,
    decision: { label: '拒绝', approved: false, threshold: 0.5 },
    attributions: [
      {
        feature: 'income',
        label: '月收入',
        value: 2100 + n,
        attribution: -0.2,
        direction: 'negative',
        description: '月收入 2100 降低了通过率',
      },
      {
        feature: 'sensitive_3f2a',
        value: null,
        attribution: -0.05,
        direction: 'negative',
        description: '一项敏感特征降低了通过率',
        masked: true,
      },
    ],
    rest_sum: 0,
    rest_count: 0,
    reasons: [
      { feature: 'income', label: '月收入', attribution: -0.2, description: '月收入 2100 降低了通过率' },
    ],
    completeness: { sum: -0.25, expected: -0.25, delta: 0 },
    meta: {
      explanation: {
        method: 'integrated_gradients',
        params: {
          method: 'gausslegendre',
          n_steps: 50,
          internal_batch_size: 1000,
          target: 'approved',
          baseline: 'schema',
          top_k: 10,
        },
      },
      explainer_version: '1.0.0',
      backend: 'cpu',
      locale: 'zh-CN',
      cache: 'miss',
      latency_ms: 12.5,
    },
    _meta: { watermark: 'f'.repeat(64), key_id: 'k1', alg: 'HMAC-SHA256/JCS' },
  };
}

const names = new Map<string, string>();

/** A readable test key as a real cache key (a SHA-256 in hex); nameOf() reads it back. */
export function cacheKeyFor(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  names.set(hex, name);
  return hex;
}

/** The readable name of a key made by cacheKeyFor, for keys read back from the table (BLOBs). */
export function nameOf(key: Buffer | string): string {
  const hex = typeof key === 'string' ? key : key.toString('hex');
  return names.get(hex) ?? hex;
}
