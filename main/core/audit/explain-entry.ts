// The audit entry for one explanation, taken from the document the caller returns to the user.
import type { ExplanationDocument } from '../../../shared/explanation.js';
import type { AuditEntryInput, JsonObject } from './entry.js';

/**
 * `inputHashHex` is inputHash(hmacKey, rawInput). The document's attributions are already masked
 * (sensitive features carry pseudonyms), and only feature and attribution are kept.
 */
export function explainEntry(doc: ExplanationDocument, inputHashHex: string): AuditEntryInput {
  return {
    kind: 'explain',
    model: { id: doc.model.id, version: doc.model.version, sha256: doc.model.sha256 },
    explainer: { version: doc.meta.explainer_version, params: doc.meta.explanation.params as JsonObject },
    inputHash: inputHashHex,
    prediction: doc.score,
    topAttributions: doc.attributions.map((a) => ({ feature: a.feature, attribution: a.attribution })),
    cache: doc.meta.cache,
    latencyMs: doc.meta.latency_ms,
    watermark: doc._meta.watermark,
    documentId: doc.id,
    details: doc.decision ? { decision: { ...doc.decision } } : null,
  };
}
