// Applicants read from files: a CSV row knows the line of the file it starts on, so its problems can be named
// as an editor numbers the file; JSON keeps its array index.
import { describe, expect, it } from 'vitest';
import {
  applicantsFormat,
  CountedInputError,
  csvApplicants,
  csvHeaderProblems,
  decodeApplicantText,
  decodeDocumentText,
  isKnownEncoding,
  parseApplicants,
  problemsAtLines,
  quoted,
  quotedValues,
  rowProblemsBesideHeader,
  scanCsv,
  type CsvLayout,
} from '../../../main/core/applicants.js';
import type { BundleSchema } from '../../../shared/bundle.js';
import { isInputError, type InputError } from '../../../shared/problems.js';

describe('parseApplicants: the line each CSV row starts on', () => {
  it('counts the header as line 1, and skipped blank lines', () => {
    expect(parseApplicants('a,b\n1,2\n\n3,4\n').lines).toEqual([2, 4]);
  });

  it('counts a quoted line break inside a cell as a line of the file (LF, CRLF, CR)', () => {
    expect(parseApplicants('a,b\n1,"x\ny"\n2,z\n').lines).toEqual([2, 4]);
    expect(parseApplicants('a,b\r\n1,"x\r\ny\r\nw"\r\n\r\n2,z\r\n3,q').lines).toEqual([2, 6, 7]);
    expect(parseApplicants('a,b\r1,2\r3,4').lines).toEqual([2, 3]);
  });

  it('reads a file whose lines mix CRLF and LF (one tool wrote it, another appended) by the line each row is on', () => {
    // Auto-detected, the first line's ending would be the only one: the other lines' rows would run together.
    const crlfFirst = parseApplicants('a,b\r\n1,2\r\n3,4\n5,6\n\n7,8\r\n');
    expect(crlfFirst.applicants).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
      { a: '5', b: '6' },
      { a: '7', b: '8' },
    ]);
    expect(crlfFirst.lines).toEqual([2, 3, 4, 6]);
    // LF first: the CRLF rows' last cells are not left with a CR in them, quoted or not.
    const lfFirst = parseApplicants('a,b\n1,2\n3,"x"\r\n5,6\r\n');
    expect(lfFirst.applicants).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: 'x' },
      { a: '5', b: '6' },
    ]);
    expect(lfFirst.lines).toEqual([2, 3, 4]);
  });

  it('keeps the line breaks of quoted cells in a file of mixed line endings, whichever they are', () => {
    const parsed = parseApplicants('a,b\r\n1,"x\ny"\n2,"p\r\nq\rr"\r\n3,z\n');
    expect(parsed.applicants.map((a) => a.b)).toEqual(['x\ny', 'p\r\nq\rr', 'z']);
    expect(parsed.lines).toEqual([2, 4, 7]);
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

  it('names a column with no name as such, not as the whole row', () => {
    expect(
      problemsAtLines(
        [{ field: '[1].', code: 'unknown_feature', message: 'is not a feature' }],
        [2, 5],
        names,
      ),
    ).toEqual([
      { field: 'line 5, the column with no name', code: 'unknown_feature', message: 'is not a feature' },
    ]);
  });

  it("quotes a row's value cut short and escaped, so that each problem is one short line", () => {
    const [p] = problemsAtLines(
      [
        {
          field: '[0].Home',
          code: 'unknown_category',
          message: `must be one of a, b, got "${'x'.repeat(50)}\n"`,
        },
      ],
      [2],
      names,
    );
    expect(p!.message).toBe(`must be one of a, b, got "${'x'.repeat(50)}\\n"`);
    const [q] = problemsAtLines(
      [
        {
          field: '[0].Home',
          code: 'unknown_category',
          message: 'must be one of a, b, got "say "hi"\r\nthere"',
        },
      ],
      [2],
      names,
    );
    expect(q!.message).toBe('must be one of a, b, got "say \\"hi\\"\\r\\nthere"');
    expect(quoted('租房')).toBe('"租房"');
  });

  it('cuts a long value as HTTP answers do (shortened): its first 64 characters, an ellipsis and its length', () => {
    expect(quoted('x'.repeat(64))).toBe(`"${'x'.repeat(64)}"`);
    expect(quoted(`${'x'.repeat(70)}\n`)).toBe(`"${'x'.repeat(64)}…(71 characters)"`);
    // Not half of a character outside the BMP.
    expect(quoted(`${'x'.repeat(63)}😀`)).toBe(`"${'x'.repeat(63)}…(65 characters)"`);
    // The line breaks of the part kept are escaped, so the problem stays one line.
    expect(quoted(`a\nb${'x'.repeat(100)}`)).toBe(`"a\\nb${'x'.repeat(61)}…(103 characters)"`);
  });

  it("names a caller's long key as HTTP answers do, not in full, and on one line", () => {
    const key = `${'k'.repeat(300)}\n`;
    const [p, q] = problemsAtLines(
      [
        { field: `[0].${key}`, code: 'unknown_feature', message: 'is not a feature' },
        { field: key, code: 'unknown_feature', message: 'is not a feature' },
      ],
      [2, 3],
      names,
    );
    expect(p!.field).toBe(`line 2, ${'k'.repeat(64)}…(301 characters)`);
    expect(quotedValues(q!).field).toBe(`${'k'.repeat(64)}…(301 characters)`);
    expect(quotedValues({ field: 'a\nb', code: 'invalid', message: 'x' }).field).toBe('a\\nb');
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

  it('refuses UTF-16 without its byte-order mark, naming the --encoding to give, instead of one-cell rows', () => {
    const le = Buffer.from('a,b\n1,租房\n', 'utf16le');
    expect(problem(le, { encodingFlag: '--encoding' })).toEqual([
      '--input: is not UTF-8 text: every other byte is zero, as in UTF-16 text saved without its byte-order mark; give its encoding: --encoding utf-16le',
    ]);
    expect(problem(Buffer.from(le).swap16(), { encodingFlag: '--encoding' })[0]).toMatch(
      /give its encoding: --encoding utf-16be$/,
    );
    // Without a flag to name (a --baseline file), it says to save it as UTF-8.
    expect(problem(le)[0]).toMatch(/without its byte-order mark; save it as UTF-8$/);
    // NUL bytes in no such pattern are no text either, named by their line.
    expect(problem(Buffer.from('a,b\n1,\0\0\0x\n'), { encodingFlag: '--encoding' })).toEqual([
      '--input: is not UTF-8 text: line 2 holds NUL bytes (no text file does; if it is UTF-16, give its encoding: --encoding utf-16le or utf-16be)',
    ]);
    // Named, the encoding is read.
    expect(decodeApplicantText(le, '--input', { encoding: 'utf-16le' })).toBe('a,b\n1,租房\n');
  });

  it('reads a document as UTF-8, or as its byte-order mark says, and refuses other bytes', () => {
    const doc = '{"a": "租房"}';
    expect(decodeDocumentText(Buffer.from(doc), 'FILE')).toBe(doc);
    expect(decodeDocumentText(Buffer.from(`\uFEFF${doc}`, 'utf16le'), 'FILE')).toBe(doc);
    expect(decodeDocumentText(Buffer.from(`\uFEFF${doc}`, 'utf16le').swap16(), 'FILE')).toBe(doc);
    expect(() => decodeDocumentText(Buffer.from([0x7b, 0x0a, 0xff, 0x7d]), 'FILE')).toThrow(
      'FILE: is not UTF-8 text: line 2 holds bytes that are not (explain writes documents as UTF-8: check the file it wrote)',
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

describe('parseApplicants: the empty cells and columns Excel leaves', () => {
  const refused = (text: string) => {
    try {
      parseApplicants(text, '--input');
    } catch (e) {
      return (e as InputError).problems.map((p) => `${p.field}: ${p.message}`);
    }
    throw new Error('parsed');
  };

  it('takes a column with no name and no value (a trailing separator) for no column', () => {
    const parsed = parseApplicants('a,b,\n1,2,\n3,4,\n');
    expect(parsed.applicants).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(parsed.header).toEqual({
      line: 1,
      columns: [
        { name: 'a', column: 1 },
        { name: 'b', column: 2 },
      ],
      delimiter: ',',
    });
    // Two of them, and rows that leave them out.
    expect(parseApplicants('a,b,,\n1,2\n3,4,\n5,6,,\n').applicants).toHaveLength(3);
    // One in the middle is no column either; the others keep their place in the row.
    expect(parseApplicants('a,,b\n1,,2\n').header!.columns).toEqual([
      { name: 'a', column: 1 },
      { name: 'b', column: 3 },
    ]);
  });

  it('refuses a column with no name that holds values, once, naming it and the first line with one', () => {
    expect(refused('a,b,\n1,2,\n3,4,x\n5,6,y\n')).toEqual([
      'line 1, column 3: has no name, but line 3 has a value in it: name the column, or delete it',
    ]);
  });

  it('skips rows of empty cells like blank lines, and keeps the lines of the others', () => {
    const parsed = parseApplicants('\na,b\n,\n1,2\n , \n,,\n3,4\n');
    expect(parsed.applicants).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(parsed.lines).toEqual([4, 7]);
    expect(parsed.header!.line).toBe(2);
    expect(refused('a,b\n,\n,\n')).toEqual(['--input: has a header but no rows']);
  });
});

describe('csvHeaderProblems: a header checked once against the model', () => {
  const schema = {
    features: [
      { name: 'Seniority', required: true },
      { name: 'Amount', required: true },
      { name: 'Home', required: false },
      { name: 'Price', required: true },
    ],
  } as unknown as Pick<BundleSchema, 'features'>;
  const header = (...names: string[]) => ({
    line: 3,
    columns: names.map((name, i) => ({ name, column: i + 2 })),
    delimiter: ',',
  });

  it('names each unknown column by line and column, what it meant, and each required feature no column gives', () => {
    const checked = csvHeaderProblems(schema, header('seniority', 'Home', 'Colour', 'Amount'));
    expect(checked.problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'line 3, column 2 "seniority": is not a feature of this model (did you mean "Seniority"?)',
      'line 3, column 4 "Colour": is not a feature of this model (expected one of: Seniority, Amount, Home, Price)',
      'line 3: has no column "Price", a feature the model requires',
    ]);
    expect([...checked.unknown]).toEqual(['seniority', 'Colour']);
    expect([...checked.absent]).toEqual(['Seniority', 'Price']);
    expect(csvHeaderProblems(schema, header('Seniority', 'Amount', 'Price')).problems).toEqual([]);
  });

  it("drops the rows' problems the header's say already, and keeps their own", () => {
    const rows = [
      { field: '[0].Seniority', code: 'missing' as const, message: 'is required' },
      { field: '[0].Amount', code: 'wrong_type' as const, message: 'must be a number' },
      { field: '[1].Amount', code: 'missing' as const, message: 'is required' },
      { field: '[1]', code: 'missing' as const, message: "gives none of the model's features" },
      { field: 'Seniority', code: 'missing' as const, message: 'is required' },
    ];
    expect(
      rowProblemsBesideHeader(rows, { absent: new Set(['Seniority']), namesNone: false }).map((p) => p.field),
    ).toEqual(['[0].Amount', '[1].Amount', '[1]']);
    expect(
      rowProblemsBesideHeader(rows, { absent: new Set(['Seniority']), namesNone: true }).map((p) => p.field),
    ).toEqual(['[0].Amount', '[1].Amount']);
  });
});

describe('scanCsv and csvApplicants: a CSV file read as a stream, as parseApplicants reads its text', () => {
  /** `bytes` in pieces of `size`, counting the pieces read in `read`. */
  async function* pieces(bytes: Buffer, size: number, read = { pieces: 0 }): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += size) {
      read.pieces++;
      yield bytes.subarray(at, at + size);
    }
  }

  const decoding = (encoding?: string) => ({
    ...(encoding ? { encoding } : {}),
    encodingFlag: '--encoding',
  });

  /** What parseApplicants makes of the bytes, decoded as the CLI decodes them: rows, lines, or problems. */
  function whole(bytes: Buffer, encoding?: string): unknown {
    try {
      const text = decodeApplicantText(bytes, '--input', decoding(encoding));
      const { applicants, lines, header } = parseApplicants(text, '--input');
      return { applicants, lines, header };
    } catch (e) {
      if (isInputError(e)) return { problems: e.problems };
      throw e;
    }
  }

  /** The same, read as a stream in pieces of `size` bytes: scanned, then its rows read again. */
  async function streamed(bytes: Buffer, size: number, encoding?: string): Promise<unknown> {
    let layout: CsvLayout;
    try {
      layout = await scanCsv(() => pieces(bytes, size), '--input', decoding(encoding), Infinity);
    } catch (e) {
      if (isInputError(e)) return { problems: e.problems };
      throw e;
    }
    const applicants: unknown[] = [];
    const lines: number[] = [];
    const rows = csvApplicants(pieces(bytes, size), layout, {
      source: '--input',
      decoding: decoding(encoding),
      changed: () => new Error('changed'),
    });
    for await (const { applicant, line } of rows) {
      applicants.push(applicant);
      lines.push(line);
    }
    return { applicants, lines, header: layout.header };
  }

  const H = 'Seniority,Home,Price';
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const files: [name: string, bytes: Buffer, encoding?: string][] = [
    ['blank lines, CRLF, a lone CR', bytes(`\r\n\r\n${H}\r\n\r\n1,rent,2\r\n  \r3,owner,4`)],
    ['line breaks in quoted cells', bytes(`${H}\n1,"a\r\nb",2\n3,"c\nd\re",4\n5,x,6\n`)],
    ['CRLF then LF lines', bytes(`${H}\r\n1,rent,2\r\n3,owner,4\n5,"a\r\nb",6\n\n7,x,8\r\n`)],
    ['LF then CRLF lines', bytes(`${H}\n1,rent,"2"\n3,owner,4\r\n5,"a\nb",6\r\n`)],
    ['a byte-order mark, text outside ASCII', bytes(`\uFEFF${H}\n1,租房,2\n3,é,4\n`)],
    ["Excel's sep= line", bytes(`sep=;\nSeniority;Home;Price\n1;rent;2\n`)],
    ['semicolons and tabs', bytes(`Seniority;Home;Price\n1;rent;"2,5"\n`)],
    ['a trailing separator', bytes(`${H},\n1,rent,2,\n3,owner,4\n`)],
    ['a trailing separator with a value', bytes(`${H},,\n1,rent,2,,x\n3,owner,4\n5,a,6,y\n`)],
    ['rows of too many and too few cells', bytes(`${H},\n1,rent,2,,9\n3,owner\n6\n`)],
    ['a column with no name', bytes(`Seniority,,Price\n1,,2\n3,x,4\n`)],
    ['a repeated column', bytes(`Seniority,Home,Seniority\n1,rent,2\n`)],
    ['rows of empty cells', bytes(`${H}\n,,\n1,rent,2\n,,\n`)],
    ['no rows', bytes(`${H}\n`)],
    ['blanks only', bytes(`   \n\n  `)],
    ['one JSON value', bytes(`"a,b"`)],
    ['a quote never closed', bytes(`${H}\n1,rent,2\n3,"own\ner,4\n`)],
    ['text after a closing quote', bytes(`${H}\n1,rent,2\n\n3,"own"er,4\n5,a,6\n`)],
    ['bytes that are not UTF-8', bytes(`${H}\n1,rent,2\n3,`, [0xd7, 0xe2, 0xb7], ',4\n')],
    ['a character cut short at the end', bytes(`${H}\n1,rent,2\n3,`, [0xe7, 0xa7])],
    ['GB18030 when told', bytes(`${H}\n1,`, [0xd7, 0xe2, 0xb7, 0xbf], ',4\n'), 'gb18030'],
    ['UTF-16 LE with its mark', bytes([0xff, 0xfe], [...Buffer.from(`${H}\n1,租房,2\n`, 'utf16le')])],
    ['UTF-16 without its mark', Buffer.from(`${H}\n1,rent,2\n`, 'utf16le')],
    ['NUL after bytes that are not UTF-8', bytes(`${H}\n1,`, [0xff], ',2\n\n', [0])],
    ['bad CSV before bytes that are not UTF-8', bytes(`${H}\n1,"x"y,2\n\n`, [0xff])],
  ];

  it.each(files)('reads %s as parseApplicants does, in pieces of any size', async (_name, file, encoding) => {
    const expected = whole(file, encoding);
    for (const size of [1, 2, 3, 7, 64 * 1024]) {
      expect(await streamed(file, size, encoding), `pieces of ${size}`).toEqual(expected);
    }
  });

  it('gives the first row before the last bytes are read: the rows are not held', async () => {
    const text = `${H}\n${'1,rent,2\n'.repeat(10_000)}`;
    const file = Buffer.from(text);
    const layout = await scanCsv(() => pieces(file, 1024), '--input');
    expect(layout.rows).toBe(10_000);
    const read = { pieces: 0 };
    const rows = csvApplicants(pieces(file, 1024, read), layout, {
      source: '--input',
      changed: () => new Error('changed'),
    });
    const first = await rows.next();
    expect(first.value).toEqual({ applicant: { Seniority: '1', Home: 'rent', Price: '2' }, line: 2 });
    expect(read.pieces).toBeLessThan(5);
    await rows.return();
  });

  it('keeps the first 100 problems of a file and counts the others', async () => {
    const file = Buffer.from(`${H}\n${'1,rent,2,3\n'.repeat(1000)}`);
    const error = await scanCsv(() => pieces(file, 4096), '--input').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountedInputError);
    const { problems, omitted } = error as CountedInputError;
    expect(problems).toHaveLength(100);
    expect(omitted).toBe(900);
    expect(problems[99]).toEqual({
      field: 'line 101',
      code: 'invalid',
      message: 'has 4 cells where the header has 3 columns',
    });
  });

  it('throws `changed` when the file read again is not what was scanned, also once every row is given', async () => {
    const file = Buffer.from(`${H}\n1,rent,2\n3,owner,4\n`);
    const layout = await scanCsv(() => pieces(file, 5), '--input');
    const changed = () => new Error('changed');
    const readAll = async (again: Buffer) => {
      const rows: unknown[] = [];
      for await (const row of csvApplicants(pieces(again, 5), layout, { source: '--input', changed }))
        rows.push(row);
      return rows;
    };
    await expect(readAll(file)).resolves.toHaveLength(2);
    // The same rows, one cell changed; a row more; a header changed; and text that is no longer CSV.
    for (const again of [
      `${H}\n1,rent,2\n3,owner,5\n`,
      `${H}\n1,rent,2\n3,owner,4\n5,a,6\n`,
      `Seniority,Home,Amount\n1,rent,2\n3,owner,4\n`,
      `${H}\n1,rent,2\n3,"owner,4\n`,
    ]) {
      await expect(readAll(Buffer.from(again)), again).rejects.toThrow('changed');
    }
  });

  it('tells JSON from CSV by the first character that is not blank, once the bytes say', () => {
    expect(applicantsFormat(Buffer.from('  \n [{"a": 1}]'), false)).toBe('json');
    expect(applicantsFormat(Buffer.from('\uFEFF{"a": 1}'), false)).toBe('json');
    expect(applicantsFormat(Buffer.from(`${H}\n`), false)).toBe('csv');
    expect(applicantsFormat(Buffer.from('  \n'), false)).toBeUndefined();
    expect(applicantsFormat(Buffer.from('  \n'), true)).toBe('csv');
    // A byte-order mark cut short, and UTF-16 that opens an object.
    expect(applicantsFormat(Buffer.from([0xff, 0xfe]), false)).toBeUndefined();
    expect(applicantsFormat(Buffer.from('\uFEFF{}', 'utf16le'), false)).toBe('json');
  });
});
