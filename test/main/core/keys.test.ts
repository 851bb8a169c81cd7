import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isInputError, type InputError } from '../../../shared/problems.js';
import {
  fileSecretStore,
  loadOrCreateHmacKey,
  loadOrCreateSigningKey,
  loadSigningKey,
} from '../../../main/core/keys.js';

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

  it('loadSigningKey reads the signing key without ever making one', () => {
    const dir = temp();
    expect(loadSigningKey(fileSecretStore(dir))).toBeUndefined();
    expect(existsSync(join(dir, 'keys'))).toBe(false);
    const made = loadOrCreateSigningKey(fileSecretStore(dir));
    expect(loadSigningKey(fileSecretStore(dir))?.publicPem).toBe(made.publicPem);
  });

  it.each([
    ['garbage', 'garbage\n'],
    ['an empty file', ''],
    ['a PEM cut short', () => generatedPem().slice(0, 60)],
    ['a public key', () => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' })],
    [
      'an RSA key',
      () =>
        generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }),
    ],
  ])(
    'a damaged signing key file (%s) is an InputError naming keys/audit-ed25519.pem, and is left as it is',
    (_name, contents) => {
      const dir = temp();
      const file = join(dir, 'keys', 'audit-ed25519.pem');
      mkdirSync(join(dir, 'keys'), { recursive: true });
      const bytes = typeof contents === 'function' ? (contents() as string) : contents;
      writeFileSync(file, bytes);
      for (const load of [loadOrCreateSigningKey, loadSigningKey]) {
        let error: unknown;
        try {
          load(fileSecretStore(dir));
        } catch (e) {
          error = e;
        }
        expect(isInputError(error)).toBe(true);
        const [p] = (error as InputError).problems;
        expect(p!.field).toBe('keys/audit-ed25519.pem');
        expect(p!.message).toContain(`${file} is damaged: it is not an Ed25519 private key in PEM`);
        expect(p!.message).toContain('Restore the file from a backup');
        expect(p!.message).toContain('the audit log itself is unchanged');
        expect(p!.message).not.toContain('DECODER');
      }
      // Not replaced by a fresh key: that would fork the installation's identity.
      expect(readFileSync(file, 'utf8')).toBe(bytes);
    },
  );
});

function generatedPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}
