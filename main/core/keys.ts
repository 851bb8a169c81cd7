// Per-installation secrets, generated on first run and kept in the data dir with mode 0600:
// the HMAC key (watermarks, sensitive-feature pseudonyms, audit input hashes) and the Ed25519 audit signing key.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../shared/problems.js';

/** Where a secret's bytes are kept. Electron supplies a safeStorage-backed store; elsewhere it is a 0600 file. */
export interface SecretStore {
  read(name: string): Buffer | undefined;
  write(name: string, bytes: Buffer): void;
  /** Where the secret `name` is kept, for a message about it (a file store's full path). */
  where?(name: string): string;
}

export function fileSecretStore(dataDir: string): SecretStore {
  const dir = join(dataDir, 'keys');
  return {
    where: (name) => join(dir, name),
    read(name) {
      const p = join(dir, name);
      if (existsSync(p)) return readFileSync(p);
      // The desktop app keeps its keys encrypted by the OS keyring (<name>.enc). Making a fresh plain key here
      // would silently fork the installation's identity (watermarks and signatures no longer verifying).
      if (existsSync(`${p}.enc`)) {
        throw new Error(
          `the ${name} key of ${dataDir} is encrypted by the desktop app's OS keyring; open this data folder with the BranchLens app, or point --data elsewhere`,
        );
      }
      return undefined;
    },
    write(name, bytes) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const p = join(dir, name);
      // wx: never overwrite a key another process created meanwhile.
      try {
        writeFileSync(p, bytes, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      chmodSync(p, 0o600);
    },
  };
}

export interface HmacKey {
  key: Buffer;
  /** A public identifier of the key (not derived reversibly from it): carried in `_meta.key_id`. */
  id: string;
}

export function keyId(key: Buffer): string {
  return 'k' + createHash('sha256').update('branchlens/key-id\0').update(key).digest('hex').slice(0, 15);
}

export function loadOrCreateHmacKey(store: SecretStore): HmacKey {
  let key = store.read('hmac.key');
  if (!key) {
    store.write('hmac.key', Buffer.from(randomBytes(32).toString('hex')));
    key = store.read('hmac.key')!;
  }
  const bytes = Buffer.from(key.toString('utf8').trim(), 'hex');
  if (bytes.length !== 32) throw new Error('the HMAC key file is damaged (expected 32 bytes in hex)');
  return { key: bytes, id: keyId(bytes) };
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key, for head office. */
  publicPem: string;
  id: string;
}

/** The audit signing key's file in the data folder (`keys/` + this), as problems about it name it. */
export const SIGNING_KEY_FILE = 'audit-ed25519.pem';

/**
 * The key from the stored PEM. A file that is not an Ed25519 private key in PEM (cut short, overwritten, another
 * kind of key) is an InputError naming `keys/audit-ed25519.pem`: the data folder holds a damaged key, not a
 * broken log, and nothing is signed (nor a new key made) with it.
 */
function signingKeyFromPem(store: SecretStore, pem: Buffer): SigningKey {
  let privateKey: KeyObject | undefined;
  let detail = '';
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    // OpenSSL's words (`error:1E08010C:DECODER routines::unsupported`) say nothing more to an officer.
  }
  if (privateKey && privateKey.asymmetricKeyType !== 'ed25519') {
    detail = ` (it holds a key of type ${privateKey.asymmetricKeyType ?? 'unknown'})`;
    privateKey = undefined;
  }
  if (!privateKey) {
    const where = store.where?.(SIGNING_KEY_FILE) ?? `keys/${SIGNING_KEY_FILE}`;
    throw new InputError([
      {
        field: `keys/${SIGNING_KEY_FILE}`,
        code: 'invalid',
        message:
          `${where} is damaged: it is not an Ed25519 private key in PEM${detail}. ` +
          'Restore the file from a backup of this data folder; the audit log itself is unchanged. ' +
          'Nothing was signed with it, and no new key was made.',
      },
    ]);
  }
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  return { privateKey, publicKey, publicPem, id: keyId(Buffer.from(publicPem)) };
}

/** The installation's audit signing key, or undefined when it has none yet (nothing is created). */
export function loadSigningKey(store: SecretStore): SigningKey | undefined {
  const pem = store.read(SIGNING_KEY_FILE);
  return pem ? signingKeyFromPem(store, pem) : undefined;
}

/** The installation's audit signing key, made (and stored) on first use. */
export function loadOrCreateSigningKey(store: SecretStore): SigningKey {
  let pem = store.read(SIGNING_KEY_FILE);
  if (!pem) {
    const { privateKey } = generateKeyPairSync('ed25519');
    store.write(SIGNING_KEY_FILE, Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string));
    pem = store.read(SIGNING_KEY_FILE)!;
  }
  return signingKeyFromPem(store, pem);
}
