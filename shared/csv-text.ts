// What the CLI (main/core/applicants.ts) and the batch page (renderer/src/pages/batch) read the same way in a CSV
// file as Excel saves it: the byte-order mark that names its encoding ("CSV UTF-8" has one, "Unicode text" is
// UTF-16 LE with one), and the `sep=;` first line that names its separator. Pure: no DOM, no Node.

/** The encodings a byte-order mark announces, as TextDecoder names them. */
export type MarkedEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

const BYTE_ORDER_MARKS: readonly [mark: readonly number[], encoding: MarkedEncoding][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

/** The encoding the byte-order mark at the start of `bytes` announces, if they start with one. */
export function markedEncoding(bytes: Uint8Array): MarkedEncoding | undefined {
  return BYTE_ORDER_MARKS.find(([mark]) => mark.every((b, i) => bytes[i] === b))?.[1];
}

/** Excel's first line naming the separator of the rest of the file: `sep=;`. */
const SEP_LINE = /^\uFEFF?sep=([^\r\n"])[ ]*(?:\r\n|\n|\r|$)/i;

/**
 * Excel's `sep=X` line when `text` (a file's start, decoded) begins with one: the separator it names and its
 * length in characters, line end included. A CSV parser would take the line for the header.
 */
export function excelSeparatorLine(text: string): { delimiter: string; length: number } | null {
  const sep = SEP_LINE.exec(text);
  return sep ? { delimiter: sep[1]!, length: sep[0].length } : null;
}
