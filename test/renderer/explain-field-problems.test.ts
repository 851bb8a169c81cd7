// The explain form keeps its problems as codes and words them when shown: the same problems read in either
// language, from the form's own checks and from the API's answer.
import { describe, expect, it } from 'vitest';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { validateApplicant } from '../../renderer/src/lib/validate.js';
import {
  checkedProblems,
  fieldMessages,
  serverProblems,
} from '../../renderer/src/pages/explain/field-problems.js';
import { demoSchema } from './helpers.js';

const schema = demoSchema();
const zh = makeT('zh-CN');
const en = makeT('en');
const CJK = /[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]/;

describe("the explain form's problems", () => {
  it('are kept as codes, and worded in whichever language they are shown in', () => {
    const checked = validateApplicant(schema, { Seniority: 'abc', Amount: '900' });
    const issues = checkedProblems(checked.problems);
    expect(issues.Seniority).toEqual({ code: 'wrong_type', given: 'abc' });
    expect(JSON.stringify(issues)).not.toMatch(CJK);
    const inZh = fieldMessages(issues, schema, 'zh-CN', zh);
    const inEn = fieldMessages(issues, schema, 'en', en);
    expect(Object.keys(inEn)).toEqual(Object.keys(inZh));
    expect(inZh.Seniority).toContain('请输入数字');
    expect(inEn.Seniority).toContain('abc');
    for (const m of Object.values(inEn)) expect(m).not.toMatch(CJK);
  });

  it("from the API's answer: by feature with the value it got, the rest in the server's words", () => {
    const mapped = serverProblems(
      [
        { field: '[0].Time', code: 'out_of_range', message: 'out of range [1, 120], got 500' },
        { field: 'extra', code: 'unknown_feature', message: 'not a feature of the model' },
      ],
      schema,
    );
    expect(mapped.byField).toEqual({ Time: { code: 'out_of_range', given: '500' } });
    expect(mapped.other).toEqual(['extra: not a feature of the model']);
    expect(fieldMessages(mapped.byField, schema, 'zh-CN', zh).Time).toContain('超出范围');
    expect(fieldMessages(mapped.byField, schema, 'en', en).Time).not.toMatch(CJK);
  });
});
