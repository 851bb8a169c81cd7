// The desktop SecretStore over a fake safeStorage: keys are kept encrypted, the basic_text backend falls back to
// the 0600 file store with a warning, and keys once encrypted are never silently replaced.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileSecretStore, loadOrCreateHmacKey, loadOrCreateSigningKey } from '../../../main/core/keys.js';
import { BranchLensService } from '../../../main/core/service.js';
import {
  chooseSecretStore,
  safeStorageSecretStore,
  SecretStoreError,
  type SafeStorageLike,
} from '../../../main/electron/secret-store.js';
import { removeDir, tempDir } from '../cli/helpers.js';

/** Stands in for Electron's safeStorage: a reversible scramble with a marker, so a test can tell it ran. */
class FakeSafeStorage implements SafeStorageLike {
  encrypted = 0;
  constructor(
    private readonly backend: string = 'gnome_libsecret',
    public available = true,
  ) {}
  isEncryptionAvailable(): boolean {
    return this.available;
  }
  encryptString(plainText: string): Buffer {
    if (!this.available) throw new Error('Encryption is not available.');
    this.encrypted++;
    return Buffer.concat([Buffer.from('FAKE1'), Buffer.from(plainText, 'utf8').map((b) => b ^ 0x5a)]);
  }
  decryptString(encrypted: Buffer): string {
    if (!this.available) throw new Error('Decryption is not available.');
    if (!encrypted.subarray(0, 5).equals(Buffer.from('FAKE1'))) throw new Error('Error while decrypting');
    return Buffer.from(encrypted.subarray(5).map((b) => b ^ 0x5a)).toString('utf8');
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
}

let data: string;
beforeEach(() => {
  data = tempDir('branchlens-secrets-');
});
afterEach(() => removeDir(data));

describe('safeStorageSecretStore', () => {
  it('keeps the keys encrypted in <data>/keys/*.enc (0600) and reads back the same keys', () => {
    const safe = new FakeSafeStorage();
    const store = safeStorageSecretStore(data, safe);
    const hmac = loadOrCreateHmacKey(store);
    const signing = loadOrCreateSigningKey(store);

    const blob = readFileSync(join(data, 'keys', 'hmac.key.enc'));
    expect(blob.subarray(0, 5).toString()).toBe('FAKE1');
    expect(blob.toString('utf8')).not.toContain(hmac.key.toString('hex'));
    expect(readFileSync(join(data, 'keys', 'audit-ed25519.pem.enc')).toString('utf8')).not.toContain(
      'PRIVATE KEY',
    );
    if (process.platform !== 'win32') {
      expect(statSync(join(data, 'keys', 'hmac.key.enc')).mode & 0o777).toBe(0o600);
    }
    // No plain copy is left on disk.
    expect(existsSync(join(data, 'keys', 'hmac.key'))).toBe(false);
    expect(existsSync(join(data, 'keys', 'audit-ed25519.pem'))).toBe(false);

    const again = safeStorageSecretStore(data, new FakeSafeStorage());
    expect(loadOrCreateHmacKey(again)).toEqual(hmac);
    expect(loadOrCreateSigningKey(again).publicPem).toBe(signing.publicPem);
  });

  it('adopts a plain key file from an earlier run: same key, now encrypted, plain file removed', () => {
    const before = loadOrCreateHmacKey(fileSecretStore(data));
    const store = safeStorageSecretStore(data, new FakeSafeStorage());
    expect(loadOrCreateHmacKey(store)).toEqual(before);
    expect(existsSync(join(data, 'keys', 'hmac.key'))).toBe(false);
    expect(existsSync(join(data, 'keys', 'hmac.key.enc'))).toBe(true);
    expect(loadOrCreateHmacKey(safeStorageSecretStore(data, new FakeSafeStorage()))).toEqual(before);
  });

  it('keeps the plain key, and no encrypted copy, when adopting it does not read back', () => {
    const before = loadOrCreateHmacKey(fileSecretStore(data));
    const garbling = new FakeSafeStorage();
    garbling.decryptString = () => 'not the key';
    expect(() => loadOrCreateHmacKey(safeStorageSecretStore(data, garbling))).toThrow(
      /could not move .*hmac\.key into the OS keychain.*unchanged/,
    );
    expect(existsSync(join(data, 'keys', 'hmac.key.enc'))).toBe(false);
    // The next start, with a keychain that works, adopts the same key.
    expect(loadOrCreateHmacKey(safeStorageSecretStore(data, new FakeSafeStorage()))).toEqual(before);
    expect(existsSync(join(data, 'keys', 'hmac.key'))).toBe(false);
  });

  it('removes a plain key an interrupted adoption left beside its encrypted copy, but not a different one', () => {
    const before = loadOrCreateHmacKey(fileSecretStore(data));
    const plainFile = join(data, 'keys', 'hmac.key');
    const plainBytes = readFileSync(plainFile);
    loadOrCreateHmacKey(safeStorageSecretStore(data, new FakeSafeStorage()));
    writeFileSync(plainFile, plainBytes, { mode: 0o600 }); // as if the process stopped before removing it
    expect(loadOrCreateHmacKey(safeStorageSecretStore(data, new FakeSafeStorage()))).toEqual(before);
    expect(existsSync(plainFile)).toBe(false);
    writeFileSync(plainFile, 'another key', { mode: 0o600 });
    expect(loadOrCreateHmacKey(safeStorageSecretStore(data, new FakeSafeStorage()))).toEqual(before);
    expect(readFileSync(plainFile, 'utf8')).toBe('another key');
  });

  it('says what to do when the keychain cannot decrypt the keys, instead of making new ones', () => {
    loadOrCreateHmacKey(safeStorageSecretStore(data, new FakeSafeStorage()));
    const locked = new FakeSafeStorage();
    locked.decryptString = () => {
      throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    };
    expect(() => loadOrCreateHmacKey(safeStorageSecretStore(data, locked))).toThrow(SecretStoreError);
    expect(() => loadOrCreateHmacKey(safeStorageSecretStore(data, locked))).toThrow(/do not delete the file/);
  });
});

describe('chooseSecretStore', () => {
  it('uses safeStorage when it really encrypts', () => {
    const chosen = chooseSecretStore(data, new FakeSafeStorage('kwallet5'), 'linux');
    expect(chosen.kind).toBe('safeStorage');
    expect(chosen.warning).toBeUndefined();
    expect(chooseSecretStore(data, new FakeSafeStorage(), 'win32').kind).toBe('safeStorage');
  });

  it("falls back to the 0600 key file on Linux's basic_text backend, with a warning", () => {
    const safe = new FakeSafeStorage('basic_text');
    const chosen = chooseSecretStore(data, safe, 'linux');
    expect(chosen.kind).toBe('file');
    expect(chosen.warning).toMatch(/basic_text/);
    expect(chosen.warning).toMatch(/0600/);
    const key = loadOrCreateHmacKey(chosen.store);
    expect(safe.encrypted).toBe(0);
    expect(readFileSync(join(data, 'keys', 'hmac.key'), 'utf8')).toBe(key.key.toString('hex'));
    if (process.platform !== 'win32')
      expect(statSync(join(data, 'keys', 'hmac.key')).mode & 0o777).toBe(0o600);
  });

  it('falls back to the key file when encryption is not available at all', () => {
    const chosen = chooseSecretStore(data, new FakeSafeStorage('gnome_libsecret', false), 'linux');
    expect(chosen.kind).toBe('file');
    expect(chosen.warning).toMatch(/not available/);
  });

  it('refuses to fall back when the keys are already encrypted, so they are never replaced', () => {
    loadOrCreateHmacKey(chooseSecretStore(data, new FakeSafeStorage(), 'linux').store);
    expect(() => chooseSecretStore(data, new FakeSafeStorage('basic_text'), 'linux')).toThrow(
      /Unlock the keyring/,
    );
    expect(existsSync(join(data, 'keys', 'hmac.key'))).toBe(false);
  });

  it('is what the service opens with: documents keep verifying across restarts', async () => {
    const open = () =>
      BranchLensService.open({
        dataDir: data,
        workers: 0,
        secrets: chooseSecretStore(data, new FakeSafeStorage(), 'linux').store,
      });
    const first = await open();
    const keyId = first.hmacKey.id;
    await first.close();
    const second = await open();
    try {
      expect(second.hmacKey.id).toBe(keyId);
      expect(existsSync(join(data, 'keys', 'hmac.key.enc'))).toBe(true);
      expect(existsSync(join(data, 'keys', 'hmac.key'))).toBe(false);
    } finally {
      await second.close();
    }
  });
});
