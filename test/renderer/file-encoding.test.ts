// A batch file's encoding from its bytes, and papaparse's guess of the separator (Excel's `sep=` line:
// test/shared/csv-text.test.ts).
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { csvEncoding } from '../../renderer/src/pages/batch/file-encoding.js';
import { excelSeparatorLine } from '../../shared/csv-text.js';

const hex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s/g, ''), 'hex'));
const ascii = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
const join = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** What Excel's "CSV (逗号分隔)" saves on Chinese Windows, byte for byte. */
const GB18030 = {
  header: hex('b9a4c1e4 2c d7a1b7bfc7e9bff6'), // 工龄,住房情况
  rent: hex('d7e2b7bf'), // 租房
  liantong: hex('c1aacda8'), // 联通
  fourByte: hex('8139ee39'), // 㐀 (U+3400), four bytes in GB18030 and not in GBK
};

describe('csvEncoding', () => {
  it('uses GB18030 byte sequences that are what they say', () => {
    const gb = new TextDecoder('gb18030', { fatal: true });
    expect(gb.decode(GB18030.header)).toBe('工龄,住房情况');
    expect(gb.decode(GB18030.rent)).toBe('租房');
    expect(gb.decode(GB18030.liantong)).toBe('联通');
    expect(gb.decode(GB18030.fourByte)).toBe('\u3400');
  });

  it('follows a byte-order mark, whatever comes after it', () => {
    expect(csvEncoding(join(hex('efbbbf'), ascii('a,b\n')))).toBe('utf-8');
    expect(csvEncoding(join(hex('efbbbf'), GB18030.rent))).toBe('utf-8');
    expect(csvEncoding(join(hex('fffe'), new Uint8Array(Buffer.from('工龄\t月支出', 'utf16le'))))).toBe(
      'utf-16le',
    );
    expect(csvEncoding(hex('feff 5de5 9f84'))).toBe('utf-16be');
  });

  it('reads ASCII, and UTF-8 without a mark, as UTF-8', () => {
    expect(csvEncoding(new Uint8Array())).toBe('utf-8');
    expect(csvEncoding(ascii('Seniority,Home\n2,rent\n'))).toBe('utf-8');
    expect(csvEncoding(new Uint8Array(Buffer.from('工龄,住房情况\n2,租房\n', 'utf8')))).toBe('utf-8');
  });

  it('reads bytes that are not UTF-8 as GB18030', () => {
    expect(csvEncoding(join(GB18030.header, ascii('\r\n2,rent\r\n')))).toBe('gb18030');
    // An ASCII header, and a GBK category value further on.
    expect(csvEncoding(join(ascii('Seniority,Home\r\n2,'), GB18030.rent, ascii('\r\n')))).toBe('gb18030');
    expect(csvEncoding(join(ascii('name\r\n'), GB18030.liantong))).toBe('gb18030');
    expect(csvEncoding(join(ascii('name\r\n'), GB18030.fourByte))).toBe('gb18030');
  });

  it('reads a file that ends half-way through a UTF-8 character as not UTF-8', () => {
    const utf8 = new Uint8Array(Buffer.from('Seniority,Home\n2,租房', 'utf8'));
    for (let cut = 1; cut <= 2; cut++)
      expect(csvEncoding(utf8.subarray(0, utf8.length - cut))).toBe('gb18030');
  });
});

describe('papaparse, configured as the batch store configures it', () => {
  const parse = (text: string, config: Papa.ParseConfig = {}) =>
    Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: false, ...config });

  it("guesses Excel's separators: the comma, the semicolon and the tab", () => {
    for (const d of [',', ';', '\t']) {
      const result = parse(['Seniority', 'Home', 'Time'].join(d) + '\n' + ['2', 'rent', '60'].join(d));
      expect(result.meta.delimiter).toBe(d);
      expect(result.data).toEqual([{ Seniority: '2', Home: 'rent', Time: '60' }]);
    }
  });

  it('takes a `sep=` line for the header unless it is told, and reads the file after it when it is', () => {
    const text = 'sep=;\r\nSeniority;Home\r\n2;rent';
    expect(parse(text).meta.fields).not.toEqual(['Seniority', 'Home']);
    // As the store does: the text after the line, with the separator it names.
    const sep = excelSeparatorLine(text)!;
    const result = parse(text.slice(sep.length), { delimiter: sep.delimiter });
    expect(result.meta.fields).toEqual(['Seniority', 'Home']);
    expect(result.data[0]).toEqual({ Seniority: '2', Home: 'rent' });
    expect(result.errors).toEqual([]);
  });
});
