// The app's audit check (the audit page, auditVerify) after the installation's signing key was replaced (its key
// file lost, a new one made): the earlier key's checkpoints are held against the chain and named, as
// `branchlens audit verify` and the export hold them, never shown as a broken log for good.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BranchLensService } from '../../../main/core/service.js';
import { SIGNING_KEY_FILE } from '../../../main/core/keys.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

describe('auditVerify after the signing key was replaced', () => {
  it('is intact, naming the earlier key', async () => {
    const data = tempDir('branchlens-audit-key-');
    try {
      const [first, second] = holdoutApplicants(2);
      let service = await BranchLensService.open({ dataDir: data });
      await service.explain([first]);
      await service.close(); // the closing checkpoint, signed by the first key
      rmSync(join(data, 'keys', SIGNING_KEY_FILE));
      service = await BranchLensService.open({ dataDir: data });
      try {
        await service.explain([second]);
        const v = await service.auditVerify();
        expect(v).toMatchObject({ ok: true, entries: expect.any(Number) as number });
        expect(v.other_key_ids).toHaveLength(1);
        expect(v.break).toBeUndefined();
      } finally {
        await service.close();
      }
    } finally {
      removeDir(data);
    }
  });
});
