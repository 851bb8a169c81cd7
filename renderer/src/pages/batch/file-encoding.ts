// How a batch file's bytes are read as text, decided from the bytes before papaparse parses the text. Excel saves
// "CSV UTF-8 (逗号分隔)" as UTF-8 with a byte-order mark, "Unicode text" as UTF-16 LE with a mark (and tabs), and
// plain "CSV (逗号分隔)" on Chinese Windows as GB18030 (GBK), with no mark. Pure, so it runs under test in Node.

import { markedEncoding, type MarkedEncoding } from '../../../../shared/csv-text.js';

/** The encodings a batch file is read in, as TextDecoder names them. */
export type CsvEncoding = MarkedEncoding | 'gb18030';

/**
 * The encoding of a file's bytes: the one its byte-order mark announces; else UTF-8 if the bytes are UTF-8
 * (plain ASCII is); else GB18030, a superset of GBK, the branches' other encoding.
 */
export function csvEncoding(bytes: Uint8Array): CsvEncoding {
  const marked = markedEncoding(bytes);
  if (marked) return marked;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}
