// Applicants read from files: a CSV row knows the line of the file it starts on, so its problems can be named
// as an editor numbers the file; JSON keeps its array index.
import { describe, expect, it } from 'vitest';
import {
  decodeApplicantText,
  isKnownEncoding,
  parseApplicants,
  problemsAtLines,
} from '../../../main/core/applicants.js';
import type { InputError } from '../../../shared/problems.js';

describe('parseApplicants: the line each CSV row starts on', () => {
  it('counts the header as line 1, and skipped blank lines', () => {
    expect(parseApplicants('a,b\n1,2\n\n3,4\n').lines).toEqual([2, 4]);
  });

  it('counts a quoted line break inside a cell as a line of the file (LF, CRLF, CR)', () => {
    expect(parseApplicants('a,b\n1,"x\ny"\n2,z\n').lines).toEqual([2, 4]);
    expect(parseApplicants('a,b\r\n1,"x\r\ny\r\nw"\r\n\r\n2,z\r\n3,q').lines).toEqual([2, 6, 7]);
    expect(parseApplicants('a,b\r1,2\r3,4').lines).toEqual([2, 3]);
  });

  it('counts lines before the header that the reader trims, with or without a BOM', () => {
    expect(parseApplicants('\uFEFF\n\r\na,b\n1,2\n').lines).toEqual([4]);
    expect(parseApplicants('  \n a,b\n1,2').lines).toEqual([3]);
  });

  it('counts by characters, not bytes: text outside ASCII does not move the lines', () => {
    expect(parseApplicants('名字,备注\n张三,"多\n行"\n李四,x\n').lines).toEqual([2, 4]);
  });

  it('names a row of too many or too few cells by the line it starts on, every such row', () => {
    const problems = (text: string) => {
      try {
        parseApplicants(text, '--input');
      } catch (e) {
        return (e as InputError).problems.map((p) => `${p.field}: ${p.message}`);
      }
      throw new Error('parsed');
    };
    // A BOM, a blank line, CRLF, a quoted cell over lines 4-6 and a skipped blank line before the bad rows.
    expect(
      problems('\uFEFF\r\na,b,c\r\n1,2,3\r\n4,"x\r\ny\r\nz",6\r\n\r\n7,8\r\n9,10,11,12\r\n13,14,15\r\n'),
    ).toEqual([
      'line 8: has 2 cells where the header has 3 columns',
      'line 9: has 4 cells where the header has 3 columns',
    ]);
    // A short row that itself spans lines: the line it starts on.
    expect(problems('\n\na,b\n1,2\n"x\ny"\n')).toEqual(['line 5: has 1 cell where the header has 2 columns']);
    // Listed with the header's problems.
    expect(problems('a,a\n1\n')).toEqual([
      '--input: column 2 of the header repeats "a"',
      'line 2: has 1 cell where the header has 2 columns',
    ]);
  });

  it("names the row of a quote never closed by the line it starts on, not csv-parse's count", () => {
    const refused = (text: string) => {
      try {
        parseApplicants(text, '--input');
      } catch (e) {
        return (e as InputError).problems;
      }
      throw new Error('parsed');
    };
    // csv-parse would say line 10: it counts each CRLF inside the open quote twice.
    expect(refused('\uFEFF\r\na,b\r\n1,2\r\n\r\n3,"x\r\n\r\n4,5\r\n')).toEqual([
      {
        field: 'line 5',
        code: 'invalid',
        message: 'is not valid CSV: Quote Not Closed: the parsing is finished with an opening quote',
      },
    ]);
    expect(refused('a,b\n1,"2\n"y\n3,4\n')[0]).toMatchObject({ field: 'line 2', code: 'invalid' });
    expect(refused('\n\n"a,b\n1,2\n')[0]).toMatchObject({ field: 'line 3' }); // the header's own line
  });

  it('gives JSON no lines', () => {
    expect(parseApplicants('[{"a":1},{"a":2}]').lines).toBeUndefined();
  });
});

describe('problemsAtLines', () => {
  const names = new Set(['Time', 'Amount', 'Colour']);

  it('puts [k] problems on row k’s line, whole-row ones too, and leaves the rest as they are', () => {
    expect(
      problemsAtLines(
        [
          { field: '[0].Time', code: 'wrong_type', message: 'must be a number' },
          { field: '[2]', code: 'missing', message: 'gives none of the features' },
          { field: '[9].Time', code: 'wrong_type', message: 'no such row: kept' },
          { field: 'options.n_steps', code: 'out_of_range', message: 'kept' },
        ],
        [2, 5, 9],
        names,
      ).map((p) => p.field),
    ).toEqual(['line 2, Time', 'line 9', '[9].Time', 'options.n_steps']);
  });

  it('for a one-row file, names the line of its unprefixed feature problems only', () => {
    expect(
      problemsAtLines(
        [
          { field: 'Time', code: 'wrong_type', message: 'must be a number' },
          { field: 'Colour', code: 'unknown_feature', message: 'is not a feature' },
          { field: 'input', code: 'wrong_type', message: 'must be an object' },
          { field: 'target', code: 'invalid', message: 'not a class: kept' },
        ],
        [7],
        names,
      ).map((p) => p.field),
    ).toEqual(['line 7, Time', 'line 7, Colour', 'line 7', 'target']);
  });

  it("leaves the request's own problems as they are, even when a column of the one row has that name", () => {
    expect(
      problemsAtLines(
        [{ field: 'target', code: 'invalid', message: 'must be one of bad, good' }],
        [2],
        new Set(['Time', 'target']),
      ),
    ).toEqual([{ field: 'target', code: 'invalid', message: 'must be one of bad, good' }]);
    expect(
      problemsAtLines(
        [{ field: 'target', code: 'unknown_feature', message: 'is not a feature of this model' }],
        [2],
        new Set(['Time', 'target']),
      ).map((p) => p.field),
    ).toEqual(['line 2, target']);
  });
});

describe('decodeApplicantText: the bytes of a file, in the encoding they are in', () => {
  const problem = (bytes: Uint8Array, options?: Parameters<typeof decodeApplicantText>[2]) => {
    try {
      decodeApplicantText(bytes, '--input', options);
    } catch (e) {
      return (e as InputError).problems.map((p) => `${p.field}: ${p.message}`);
    }
    throw new Error('decoded');
  };
  // 租房 in GB18030 (and GBK), as Excel on Chinese Windows saves "CSV (逗号分隔)".
  const gb = Buffer.concat([
    Buffer.from('a,b\n1,'),
    Buffer.from([0xd7, 0xe2, 0xb7, 0xbf]),
    Buffer.from('\n'),
  ]);

  it('reads UTF-8, with or without its byte-order mark', () => {
    expect(decodeApplicantText(Buffer.from('a,b\n1,租房\n'), '--input')).toBe('a,b\n1,租房\n');
    expect(decodeApplicantText(Buffer.from('\uFEFFa,b\n'), '--input')).toBe('a,b\n');
  });

  it('refuses bytes that are not UTF-8, naming the input and the line, instead of reading "�"', () => {
    expect(problem(gb)).toEqual([
      '--input: is not UTF-8 text: line 2 holds bytes that are not (a file Excel saved as "CSV" on Chinese Windows is GB18030). Save it as "CSV UTF-8 (逗号分隔)"',
    ]);
    expect(problem(gb, { encodingFlag: '--encoding' })[0]).toMatch(
      /, or give its encoding: --encoding gb18030$/,
    );
  });

  it('reads GB18030 and GBK when told to', () => {
    expect(decodeApplicantText(gb, '--input', { encoding: 'gb18030' })).toBe('a,b\n1,租房\n');
    expect(decodeApplicantText(gb, '--input', { encoding: 'gbk' })).toBe('a,b\n1,租房\n');
    expect(
      problem(Buffer.from([0x61, 0x0a, 0xff]), { encoding: 'gb18030', encodingFlag: '--encoding' }),
    ).toEqual([
      '--input: is not gb18030 text (read as gb18030): line 2 holds bytes that are not; check --encoding',
    ]);
  });

  it('reads UTF-16 by its byte-order mark, whatever encoding is named', () => {
    const le = Buffer.from('\uFEFFa,b\n1,租房\n', 'utf16le');
    expect(decodeApplicantText(le, '--input')).toBe('a,b\n1,租房\n');
    expect(decodeApplicantText(Buffer.from(le).swap16(), '--input', { encoding: 'gb18030' })).toBe(
      'a,b\n1,租房\n',
    );
  });

  it('knows the encodings Node can decode, and no others', () => {
    for (const label of ['utf-8', 'gb18030', 'gbk', 'GB2312', 'big5', 'utf-16le'])
      expect(isKnownEncoding(label)).toBe(true);
    for (const label of ['klingon', '', 'utf-9']) expect(isKnownEncoding(label)).toBe(false);
  });
});

describe('parseApplicants: the separator of a CSV file', () => {
  it('takes semicolons or tabs when the header has no comma, and a comma otherwise', () => {
    expect(parseApplicants('a;b\n1,5;2\n').applicants).toEqual([{ a: '1,5', b: '2' }]);
    expect(parseApplicants('a\tb\n1\t2\n').applicants).toEqual([{ a: '1', b: '2' }]);
    expect(parseApplicants('a,b;c\n1,2;3\n').applicants).toEqual([{ a: '1', 'b;c': '2;3' }]);
    // A comma inside a quoted header cell does not make the file comma-separated.
    expect(parseApplicants('"a,x";b\n1;2\n').applicants).toEqual([{ 'a,x': '1', b: '2' }]);
  });

  it("takes Excel's sep= first line, which is line 1 of the file, not a header", () => {
    const parsed = parseApplicants('sep=;\r\na;b\r\n1;2\r\n\r\n3;4\r\n');
    expect(parsed.applicants).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(parsed.lines).toEqual([3, 5]);
    expect(parseApplicants('\uFEFFSEP=,\na,b\n1,2\n').lines).toEqual([3]);
    expect(parseApplicants('sep=\t\na\tb\n1\t2\n').applicants).toEqual([{ a: '1', b: '2' }]);
  });
});
