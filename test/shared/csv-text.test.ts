// What the CLI and the batch page read alike in Excel's CSV files: the byte-order mark and the `sep=` line.
import { describe, expect, it } from 'vitest';
import { excelSeparatorLine, markedEncoding } from '../../shared/csv-text.js';

describe('markedEncoding', () => {
  it('names the encoding of a UTF-8 or UTF-16 byte-order mark, and nothing without one', () => {
    expect(markedEncoding(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toBe('utf-8');
    expect(markedEncoding(new Uint8Array([0xff, 0xfe, 0x61, 0x00]))).toBe('utf-16le');
    expect(markedEncoding(new Uint8Array([0xfe, 0xff, 0x00, 0x61]))).toBe('utf-16be');
    expect(markedEncoding(new Uint8Array([0xef, 0xbb]))).toBeUndefined();
    expect(markedEncoding(new Uint8Array([0x61, 0x2c]))).toBeUndefined();
    expect(markedEncoding(new Uint8Array())).toBeUndefined();
  });
});

describe('excelSeparatorLine', () => {
  it("finds Excel's `sep=X` first line, with its line end", () => {
    expect(excelSeparatorLine('sep=;\r\nSeniority;Home\r\n')).toEqual({ delimiter: ';', length: 7 });
    expect(excelSeparatorLine('SEP=\t\nSeniority\tHome\n')).toEqual({ delimiter: '\t', length: 6 });
    expect(excelSeparatorLine('sep=, \rSeniority,Home')).toEqual({ delimiter: ',', length: 7 });
    expect(excelSeparatorLine('\uFEFFsep=|\nSeniority|Home')).toEqual({ delimiter: '|', length: 7 });
    expect(excelSeparatorLine('sep=;')).toEqual({ delimiter: ';', length: 5 });
  });

  it('finds nothing else', () => {
    expect(excelSeparatorLine('Seniority,Home\n')).toBeNull();
    expect(excelSeparatorLine('\nsep=;\n')).toBeNull();
    expect(excelSeparatorLine('sep=\nSeniority')).toBeNull();
    expect(excelSeparatorLine('sep=;;\nSeniority')).toBeNull();
    expect(excelSeparatorLine('sep="\nSeniority')).toBeNull();
    expect(excelSeparatorLine('separator,Home\n')).toBeNull();
  });
});
