import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSecretStore, loadOrCreateHmacKey, loadOrCreateSigningKey } from '../../../main/core/keys.js';

let dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'branchlens-keys-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

describe('installation keys', () => {
  it('are generated once, kept with mode 0600, and stable across loads', () => {
    const dir = temp();
    const a = loadOrCreateHmacKey(fileSecretStore(dir));
    const b = loadOrCreateHmacKey(fileSecretStore(dir));
    expect(a.key.equals(b.key)).toBe(true);
    expect(a.id).toBe(b.id);
    expect(statSync(join(dir, 'keys', 'hmac.key')).mode & 0o777).toBe(0o600);
    const s1 = loadOrCreateSigningKey(fileSecretStore(dir));
    expect(loadOrCreateSigningKey(fileSecretStore(dir)).publicPem).toBe(s1.publicPem);
    expect(statSync(join(dir, 'keys', 'audit-ed25519.pem')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateHmacKey(fileSecretStore(temp())).id).not.toBe(a.id);
  });

  it('refuse to mint a new plain key where the desktop app keeps an encrypted one', () => {
    const dir = temp();
    mkdirSync(join(dir, 'keys'), { recursive: true });
    writeFileSync(join(dir, 'keys', 'hmac.key.enc'), 'ciphertext');
    expect(() => loadOrCreateHmacKey(fileSecretStore(dir))).toThrow(/encrypted by the desktop app/);
  });
});
