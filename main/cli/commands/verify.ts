// `branchlens verify FILE|-`: checks the watermark of explanation documents; exit 0 valid, 1 not.
import { readFileSync } from 'node:fs';
import { InputError } from '../../../shared/problems.js';
import { describeRepeatedKey, repeatedKeys } from '../../core/json-keys.js';
import { fileSecretStore, loadOrCreateHmacKey } from '../../core/keys.js';
import { verifyDocument } from '../../core/records/watermark.js';
import { decodeDocumentText } from '../../core/applicants.js';
import {
  DATA_OPTION,
  dataDirFrom,
  dataDirSource,
  parseFlags,
  readAllBytes,
  writeOut,
  type Command,
} from '../command.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary:
    "Verify the watermark of an explanation document (or an array of them) with this installation's key.",
  usage: 'branchlens verify FILE|- [--data DIR]',
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, DATA_OPTION, true);
    if (positionals.length !== 1) {
      throw new InputError([
        { field: 'FILE', code: 'missing', message: 'give one file, or - for standard input' },
      ]);
    }
    const file = positionals[0]!;
    if (file.trim() === '') {
      throw new InputError([
        { field: 'FILE', code: 'missing', message: 'is empty: give a file, or - for standard input' },
      ]);
    }
    let bytes: Buffer;
    try {
      bytes = file === '-' ? await readAllBytes(io.stdin) : readFileSync(file);
    } catch {
      throw new InputError([{ field: 'FILE', code: 'missing', message: `cannot read ${file}` }]);
    }
    // Read as explain's --input is: a document saved as UTF-16 (Windows PowerShell 5's `>`) verifies, and bytes
    // that are not UTF-8 are refused rather than read as "�", which no watermark would match.
    let text = decodeDocumentText(bytes, 'FILE');
    let parsed: unknown;
    try {
      text = text.replace(/^\uFEFF/, ''); // a byte-order mark, as an editor on Windows may save
      parsed = JSON.parse(text);
    } catch (e) {
      throw new InputError([
        { field: 'FILE', code: 'invalid', message: `is not valid JSON: ${(e as Error).message}` },
      ]);
    }
    const docs = Array.isArray(parsed) ? parsed : [parsed];
    // Nothing checked is not "all valid".
    if (docs.length === 0) {
      throw new InputError([
        { field: 'FILE', code: 'missing', message: 'holds no documents (an empty array)' },
      ]);
    }
    // A repeated key verifies (JSON.parse keeps the last) while whoever reads the file may see the first: a
    // forged score or decision in front of the signed one. Such a document is not valid.
    const repeatedIn = new Map<number, string>();
    for (const r of repeatedKeys(text)) {
      const i = Array.isArray(parsed) ? Number(/^\[(\d+)\]/.exec(r.path)?.[1] ?? 0) : 0;
      if (!repeatedIn.has(i)) repeatedIn.set(i, describeRepeatedKey(r));
    }
    // Verifying reads this installation's key and never makes one: a mistyped --data would otherwise get a fresh
    // key and call every genuine document INVALID, a false tamper alarm.
    const dataDir = dataDirFrom(values, io, { create: false });
    const store = fileSecretStore(dataDir);
    if (store.read('hmac.key') === undefined) {
      // Named by where the folder came from, as `audit verify` names it: $BRANCHLENS_DATA is fixed there.
      const from = dataDirSource(values, io.env) ?? '--data';
      throw new InputError([
        {
          field: from,
          code: 'missing',
          message: `${dataDir} holds no BranchLens installation (no keys/hmac.key): point ${from} at the installation that signed the documents`,
        },
      ]);
    }
    const key = loadOrCreateHmacKey(store);
    let bad = 0;
    const lines = docs.map((doc, i) => {
      const repeated = repeatedIn.get(i);
      const r = repeated ? { ok: false as const, reason: repeated } : verifyDocument(doc, key);
      const name = Array.isArray(parsed) ? `[${i}]` : file;
      const id = (doc as { id?: unknown } | null)?.id;
      if (r.ok) return `valid: ${name}${typeof id === 'string' ? ` (${id})` : ''}\n`;
      bad++;
      return `INVALID: ${name}: ${r.reason}\n`;
    });
    await writeOut(io, lines.join(''));
    return bad === 0 ? 0 : 1;
  },
};
