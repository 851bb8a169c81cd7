// Applicants read from files: a CSV row knows the line of the file it starts on, so its problems can be named
// as an editor numbers the file; JSON keeps its array index.
import { describe, expect, it } from 'vitest';
import { parseApplicants, problemsAtLines } from '../../../main/core/applicants.js';

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
});
