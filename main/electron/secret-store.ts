// The desktop app's SecretStore: the HMAC and audit signing keys encrypted with Electron's safeStorage (the OS
// keychain, DPAPI, or libsecret/kwallet), kept as <data>/keys/<name>.enc with mode 0600. On Linux's basic_text
// backend safeStorage only obfuscates with a fixed password, so the 0600 key file is no worse: we use it and warn.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileSecretStore, type SecretStore } from '../core/keys.js';

/** What the store needs of Electron's safeStorage (the synchronous API, because SecretStore is synchronous). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only. */
  getSelectedStorageBackend?(): string;
}

export type SecretStoreKind = 'safeStorage' | 'file';

export interface ChosenSecretStore {
  store: SecretStore;
  kind: SecretStoreKind;
  /** Why the file store was chosen, when it was. */
  warning?: string;
}

export class SecretStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretStoreError';
  }
}

const ENCRYPTED_SUFFIX = '.enc';

function keysDir(dataDir: string): string {
  return join(dataDir, 'keys');
}

/** True when some secret of this data dir is already kept encrypted by safeStorage. */
export function hasEncryptedSecrets(dataDir: string, names: readonly string[]): boolean {
  return names.some((n) => existsSync(join(keysDir(dataDir), n + ENCRYPTED_SUFFIX)));
}

/**
 * A SecretStore over safeStorage. Secrets are stored as text (the keys are hex and PEM), encrypted.
 * A plain 0600 key file left from an earlier file-store run on this data dir (no keyring back then) is adopted:
 * the same key is encrypted, read back to check, and only then is the plain file removed. The key never changes,
 * so earlier watermarks and audit checkpoints still verify.
 */
export function safeStorageSecretStore(dataDir: string, safeStorage: SafeStorageLike): SecretStore {
  const dir = keysDir(dataDir);
  const plain = fileSecretStore(dataDir);
  const encryptedPath = (name: string) => join(dir, name + ENCRYPTED_SUFFIX);

  function writeEncrypted(name: string, bytes: Buffer): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const p = encryptedPath(name);
    const blob = safeStorage.encryptString(bytes.toString('utf8'));
    // wx: never overwrite a key another process created meanwhile.
    try {
      writeFileSync(p, blob, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    chmodSync(p, 0o600);
  }

  return {
    read(name) {
      const p = encryptedPath(name);
      if (existsSync(p)) {
        let key: Buffer;
        try {
          key = Buffer.from(safeStorage.decryptString(readFileSync(p)), 'utf8');
        } catch {
          throw new SecretStoreError(
            `cannot decrypt ${p}: the OS keychain that encrypted it is not available to this user or session. ` +
              'Start BranchLens in the desktop session that created it; do not delete the file (the audit log depends on the key).',
          );
        }
        // An adoption interrupted after the encrypted copy was written left the plain key behind: the same key,
        // so it goes now. A different one is left alone for a person to look at.
        const left = join(dir, name);
        if (existsSync(left) && readFileSync(left).equals(key)) rmSync(left);
        return key;
      }
      const legacy = plain.read(name);
      if (legacy) {
        writeEncrypted(name, legacy);
        let back: Buffer | undefined;
        try {
          back = Buffer.from(safeStorage.decryptString(readFileSync(p)), 'utf8');
        } catch {
          back = undefined;
        }
        if (!back?.equals(legacy)) {
          // The plain key stays the key: remove the copy this call made, or the next start would refuse it.
          rmSync(p, { force: true });
          throw new SecretStoreError(
            `could not move ${join(dir, name)} into the OS keychain (the encrypted copy did not read back); ` +
              'the key file is unchanged',
          );
        }
        rmSync(join(dir, name));
      }
      return legacy;
    },
    write(name, bytes) {
      writeEncrypted(name, bytes);
    },
  };
}

/**
 * safeStorage when it really encrypts; else the 0600 file store, with a warning. Keys already encrypted in this
 * data dir are never silently replaced: if safeStorage cannot decrypt them now, opening fails with a clear error.
 */
export function chooseSecretStore(
  dataDir: string,
  safeStorage: SafeStorageLike,
  platform: NodeJS.Platform = process.platform,
): ChosenSecretStore {
  const backend = platform === 'linux' ? safeStorage.getSelectedStorageBackend?.() : undefined;
  let reason: string | undefined;
  if (!safeStorage.isEncryptionAvailable()) reason = 'OS encryption (safeStorage) is not available';
  else if (backend === 'basic_text' || backend === 'unknown')
    reason = `safeStorage uses the "${backend}" backend, which does not protect secrets (no keyring found)`;

  if (reason === undefined)
    return { store: safeStorageSecretStore(dataDir, safeStorage), kind: 'safeStorage' };

  if (hasEncryptedSecrets(dataDir, ['hmac.key', 'audit-ed25519.pem'])) {
    throw new SecretStoreError(
      `${reason}, but this installation's keys in ${keysDir(dataDir)} are encrypted with it. ` +
        'Unlock the keyring (or start BranchLens in the desktop session that created the keys) and try again.',
    );
  }
  return {
    store: fileSecretStore(dataDir),
    kind: 'file',
    warning: `${reason}; keeping the keys in ${keysDir(dataDir)} as files readable only by this user (mode 0600).`,
  };
}
