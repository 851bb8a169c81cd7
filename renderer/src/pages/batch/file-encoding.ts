// How a batch file's bytes are read as text, decided from the bytes before papaparse parses the text. Excel saves
// "CSV UTF-8 (逗号分隔)" as UTF-8 with a byte-order mark, "Unicode text" as UTF-16 LE with a mark (and tabs), and
// plain "CSV (逗号分隔)" on Chinese Windows as GB18030 (GBK), with no mark. Pure, so it runs under test in Node.

/** The encodings a batch file is read in, as TextDecoder names them. */
export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030';

/** Byte-order marks and the encoding each one announces (as main/core/applicants.ts reads them). */
const BOMS: readonly [mark: readonly number[], encoding: CsvEncoding][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

/**
 * The encoding of a file's bytes: the one its byte-order mark announces; else UTF-8 if the bytes are UTF-8
 * (plain ASCII is); else GB18030, a superset of GBK, the branches' other encoding.
 */
export function csvEncoding(bytes: Uint8Array): CsvEncoding {
  const bom = BOMS.find(([mark]) => mark.every((b, i) => bytes[i] === b));
  if (bom) return bom[1];
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}

/** Excel's first line naming the separator of the rest of the file: `sep=;` (as the CLI reads it). */
const SEP_LINE = /^\uFEFF?sep=([^\r\n"])[ ]*(?:\r\n|\n|\r|$)/i;

/**
 * Excel's `sep=X` line when `text` (a file's start, decoded) begins with one: the separator it names and its
 * length in characters, line end included. papaparse would take the line for the header.
 */
export function excelSeparatorLine(text: string): { delimiter: string; length: number } | null {
  const sep = SEP_LINE.exec(text);
  return sep ? { delimiter: sep[1]!, length: sep[0].length } : null;
}
