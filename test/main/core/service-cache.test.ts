import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dbPath } from '../../../main/core/db/open.js';
import { BranchLensService, cacheOptionsFromEnv, MAX_CACHE_TTL_SECONDS } from '../../../main/core/service.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

const HOUR = 3_600_000;
let dirs: string[] = [];
afterEach(() => {
  dirs.forEach(removeDir);
  dirs = [];
});

async function openAt(data: string, clock: { t: number }) {
  return BranchLensService.open({ dataDir: data, cache: { now: () => clock.t } });
}

describe('service cache lifetimes', () => {
  it('keeps long-term answers past the disk TTL, and ordinary ones only for the TTL', async () => {
    const data = tempDir('branchlens-lt-');
    dirs.push(data);
    const clock = { t: Date.UTC(2026, 0, 1) };
    const [stable, ordinary] = holdoutApplicants(2);
    let service = await openAt(data, clock);
    await service.explain([stable], { cache_long_term: true });
    await service.explain([ordinary]);
    await service.close();

    clock.t += 2 * HOUR; // past the default 1-hour disk TTL (and the 5-minute memory TTL)
    service = await openAt(data, clock);
    try {
      const [again] = await service.explain([stable], { cache_long_term: true });
      const [recomputed] = await service.explain([ordinary]);
      expect(again!.meta.cache).toBe('disk');
      expect(recomputed!.meta.cache).toBe('miss');
    } finally {
      await service.close();
    }
  });

  it('takes the disk TTL from BRANCHLENS_CACHE_TTL_SECONDS and refuses a bad value naming it', async () => {
    const data = tempDir('branchlens-ttl-');
    dirs.push(data);
    const clock = { t: Date.UTC(2026, 0, 1) };
    const [applicant] = holdoutApplicants(1);
    process.env.BRANCHLENS_CACHE_TTL_SECONDS = String(24 * 3600);
    try {
      let service = await openAt(data, clock);
      await service.explain([applicant]);
      await service.close();
      clock.t += 2 * HOUR;
      service = await openAt(data, clock);
      const [doc] = await service.explain([applicant]);
      await service.close();
      expect(doc!.meta.cache).toBe('disk');

      process.env.BRANCHLENS_CACHE_TTL_SECONDS = 'soon';
      await expect(openAt(data, clock)).rejects.toThrow(/BRANCHLENS_CACHE_TTL_SECONDS/);
      // A fraction of a second would be stored as a REAL in the INTEGER expiry, failing after the audit.
      process.env.BRANCHLENS_CACHE_TTL_SECONDS = '1.0005';
      await expect(openAt(data, clock)).rejects.toThrow(
        '$BRANCHLENS_CACHE_TTL_SECONDS: must be a whole number of seconds from 1 to 31536000 (a year), got "1.0005"',
      );
    } finally {
      delete process.env.BRANCHLENS_CACHE_TTL_SECONDS;
    }
  });

  it('reads $BRANCHLENS_CACHE_TTL_SECONDS as whole seconds from 1 to a year, and nothing else', () => {
    expect(cacheOptionsFromEnv({})).toEqual({});
    expect(cacheOptionsFromEnv({ BRANCHLENS_CACHE_TTL_SECONDS: ' 90 ' })).toEqual({ diskTtlMs: 90_000 });
    expect(cacheOptionsFromEnv({ BRANCHLENS_CACHE_TTL_SECONDS: String(MAX_CACHE_TTL_SECONDS) })).toEqual({
      diskTtlMs: MAX_CACHE_TTL_SECONDS * 1000,
    });
    for (const raw of ['1.0005', '0.0001', '1e16', '0', '-1', '', 'abc', String(MAX_CACHE_TTL_SECONDS + 1)]) {
      expect(() => cacheOptionsFromEnv({ BRANCHLENS_CACHE_TTL_SECONDS: raw }), raw).toThrow(
        /^\$BRANCHLENS_CACHE_TTL_SECONDS: must be a whole number of seconds/,
      );
    }
  });

  it('keeps answers of different backends apart: another backend computes its own', async () => {
    const data = tempDir('branchlens-backend-');
    dirs.push(data);
    const [applicant] = holdoutApplicants(1);
    const explainOn = async (backend: 'wasm' | 'cpu') => {
      const service = await BranchLensService.open({ dataDir: data, backend });
      try {
        const [doc] = await service.explain([applicant]);
        return doc!;
      } finally {
        await service.close();
      }
    };
    const first = await explainOn('wasm');
    const onCpu = await explainOn('cpu');
    const again = await explainOn('wasm');
    expect([first.meta.cache, first.meta.backend]).toEqual(['miss', 'wasm']);
    // Served from the wasm answer on disk, this would say wasm while the service runs on cpu.
    expect([onCpu.meta.cache, onCpu.meta.backend]).toEqual(['miss', 'cpu']);
    expect([again.meta.cache, again.meta.backend]).toEqual(['disk', 'wasm']);
  });

  it.each([
    [
      'an attribution changed in the stored text',
      (doc: string) =>
        doc.replace(/"attribution":(-?[0-9.e-]+)/, (_, n: string) => `"attribution":${-Number(n)}`),
    ],
    ['another key id', (doc: string) => doc.replace(/"key_id":"[^"]*"/, '"key_id":"someone-else"')],
  ])(
    'refuses a stored answer whose watermark does not hold (%s): computed again, never signed anew',
    async (_, edit) => {
      const data = tempDir('branchlens-tampered-');
      dirs.push(data);
      const [applicant] = holdoutApplicants(1);
      let service = await BranchLensService.open({ dataDir: data });
      const [original] = await service.explain([applicant]);
      await service.close();

      const raw = new Database(dbPath(data));
      try {
        const rows = raw.prepare('SELECT key, document FROM explanation_cache').all() as {
          key: Buffer;
          document: string;
        }[];
        expect(rows).toHaveLength(1);
        const changed = edit(rows[0]!.document);
        expect(changed).not.toBe(rows[0]!.document);
        raw.prepare('UPDATE explanation_cache SET document = ? WHERE key = ?').run(changed, rows[0]!.key);
      } finally {
        raw.close();
      }

      const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      service = await BranchLensService.open({ dataDir: data });
      try {
        const [again] = await service.explain([applicant]);
        expect(again!.meta.cache).toBe('miss');
        expect(again!.attributions).toEqual(original!.attributions);
        expect(service.verify(again!)).toEqual({ ok: true });
        expect(service.cacheStats()).toMatchObject({ rejected: 1, diskHits: 0 });
        expect(warnings).toHaveBeenCalledWith(
          expect.stringMatching(/explanation cache: a stored entry was refused/),
        );
      } finally {
        warnings.mockRestore();
        await service.close();
      }
      // The answer computed instead replaced the stored one.
      service = await BranchLensService.open({ dataDir: data });
      try {
        const [third] = await service.explain([applicant]);
        expect(third!.meta.cache).toBe('disk');
        expect(third!.attributions).toEqual(original!.attributions);
      } finally {
        await service.close();
      }
    },
  );
});

describe('a stored answer moved under another applicant’s key', () => {
  it('is refused: the other applicant is computed, never served the first one’s intact document', async () => {
    const data = tempDir('branchlens-moved-');
    dirs.push(data);
    const [first, second] = holdoutApplicants(2);
    let service = await BranchLensService.open({ dataDir: data });
    const [firstDoc] = await service.explain([first]);
    const [secondDoc] = await service.explain([second]);
    await service.close();

    // Someone with write access to the file swaps the two rows' documents (each still signed, intact).
    const raw = new Database(dbPath(data));
    try {
      const rows = raw.prepare('SELECT key, document, mac FROM explanation_cache').all() as {
        key: Buffer;
        document: string;
        mac: string | null;
      }[];
      expect(rows).toHaveLength(2);
      const move = raw.prepare('UPDATE explanation_cache SET document = ?, mac = ? WHERE key = ?');
      move.run(rows[1]!.document, rows[1]!.mac, rows[0]!.key);
      move.run(rows[0]!.document, rows[0]!.mac, rows[1]!.key);
    } finally {
      raw.close();
    }

    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    service = await BranchLensService.open({ dataDir: data });
    try {
      const [again] = await service.explain([second]);
      expect(again!.id).not.toBe(firstDoc!.id);
      expect(again!.meta.cache).toBe('miss');
      expect(again!.attributions).toEqual(secondDoc!.attributions);
      expect(service.cacheStats()).toMatchObject({ rejected: 1, diskHits: 0 });
      expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/its MAC does not match its key/));
    } finally {
      warnings.mockRestore();
      await service.close();
    }
  });
});

describe('cache keys and what they may give away', () => {
  it('are keyed by the installation: the same applicant and model give another key in another installation', async () => {
    // An unkeyed hash of the model input (which holds the masked Income and Assets too) would be the same in
    // every installation, and could be tried value by value against a copy of the database.
    const [applicant] = holdoutApplicants(1);
    const keysOf = async () => {
      const data = tempDir('branchlens-keyed-');
      dirs.push(data);
      const service = await BranchLensService.open({ dataDir: data });
      try {
        await service.explain([applicant]);
      } finally {
        await service.close();
      }
      const raw = new Database(dbPath(data), { readonly: true });
      try {
        return (raw.prepare('SELECT key FROM explanation_cache').all() as { key: Buffer }[]).map((r) =>
          r.key.toString('hex'),
        );
      } finally {
        raw.close();
      }
    };
    const [first, second] = [await keysOf(), await keysOf()];
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect(first[0]).not.toBe(second[0]);
  });

  it('tell a value left out (imputed, and said so) from the same value given', async () => {
    const data = tempDir('branchlens-imputed-');
    dirs.push(data);
    const [applicant] = holdoutApplicants(1) as Record<string, unknown>[];
    const service = await BranchLensService.open({ dataDir: data });
    try {
      const { Home: _home, ...withoutHome } = applicant!;
      const homeNote = (doc: { attributions: { feature: string; imputed?: boolean }[] }) =>
        doc.attributions.find((a) => a.feature === 'Home')?.imputed ?? false;
      const [missing] = await service.explain([withoutHome], { top_k: 0 });
      expect(homeNote(missing!)).toBe(true);
      // The default the schema imputes, given: another document, which must not say "missing".
      const imputedValue = service.schema.features.find((f) => f.name === 'Home')!.impute;
      const [given] = await service.explain([{ ...withoutHome, Home: imputedValue }], { top_k: 0 });
      expect(given!.meta.cache).toBe('miss');
      expect(homeNote(given!)).toBe(false);
    } finally {
      await service.close();
    }
  });
});

describe('an applicant typed as the page shows its values', () => {
  it('is the applicant typed with codes: one cache entry, the same signed document, one audit input hash', async () => {
    const data = tempDir('branchlens-labels-');
    dirs.push(data);
    const [first, second] = holdoutApplicants(2);
    // 自有住房 / Freelance / 是 are what the page shows for owner / freelance / true.
    const asPageShows = (a: Record<string, unknown>) => ({
      ...a,
      Home: { owner: '自有住房', rent: 'Renting', parents: '与父母同住' }[a.Home as string] ?? a.Home,
      Job: { freelance: 'Freelance', fixed: '固定工作', partime: '兼职' }[a.Job as string] ?? a.Job,
      Records: a.Records ? '是' : 'No',
    });
    expect(asPageShows(first!)).not.toEqual(first);
    expect(asPageShows(second!)).not.toEqual(second);
    const service = await BranchLensService.open({ dataDir: data });
    let docs;
    try {
      // Codes first, then labels (a hit); then labels first (computed from them), then codes (a hit).
      docs = [
        ...(await service.explain([first])),
        ...(await service.explain([asPageShows(first!)])),
        ...(await service.explain([asPageShows(second!)])),
        ...(await service.explain([second])),
      ];
    } finally {
      await service.close();
    }
    expect(docs.map((d) => d.meta.cache)).toEqual(['miss', 'memory', 'miss', 'memory']);
    // The document a hit serves is the one stored, stamped again with where it came from.
    const signedPart = (d: (typeof docs)[number]) => ({
      ...d,
      _meta: undefined,
      meta: { ...d.meta, cache: undefined, latency_ms: undefined },
    });
    expect(signedPart(docs[1]!)).toEqual(signedPart(docs[0]!));
    expect(signedPart(docs[3]!)).toEqual(signedPart(docs[2]!));
    const db = new Database(dbPath(data), { readonly: true });
    try {
      const hashes = db
        .prepare(`SELECT input_hash FROM audit_entries WHERE kind = 'explain' ORDER BY seq`)
        .pluck()
        .all() as string[];
      expect(hashes).toHaveLength(4);
      expect(hashes[1]).toBe(hashes[0]);
      expect(hashes[3]).toBe(hashes[2]);
      expect(hashes[2]).not.toBe(hashes[0]);
    } finally {
      db.close();
    }
  });
});
