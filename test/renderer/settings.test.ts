// The Settings page's explanation defaults, read from its text fields by the service's rules: what Save keeps is
// what every later explanation is asked with, so a combination the engine refuses is refused here, by field.
import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../shared/contract.js';
import { checkedExplainOptionsSchema } from '../../shared/explain-options.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import {
  checkSteps,
  STEPS_RANGE,
  TOP_K_RANGE,
  wholeNumberIn,
} from '../../renderer/src/pages/settings/explain-defaults.js';

describe('the explanation defaults on the Settings page', () => {
  it('reads full-width digits (a Chinese input method) as the applicant form does', () => {
    expect(wholeNumberIn('１０', TOP_K_RANGE.min, TOP_K_RANGE.max)).toBe(10);
    expect(wholeNumberIn(' ２０ ', STEPS_RANGE.min, STEPS_RANGE.max)).toBe(20);
    expect(checkSteps('１００', 'gausslegendre')).toEqual({ value: 100 });
  });

  it('refuses what is not a whole number in range', () => {
    for (const text of ['', 'abc', '-1', '1.5', '101', '1e2', '１０１'])
      expect(wholeNumberIn(text, TOP_K_RANGE.min, TOP_K_RANGE.max), text).toBeNull();
    expect(checkSteps('0', 'gausslegendre')).toEqual({ problem: 'invalid' });
    expect(checkSteps('1001', 'riemann_left')).toEqual({ problem: 'invalid' });
  });

  it('refuses one step with a Riemann rule, which the engine would refuse on every explanation', () => {
    for (const method of ['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'] as const) {
      expect(checkSteps('1', method), method).toEqual({ problem: 'too_few', min: 2 });
      expect(checkSteps('2', method), method).toEqual({ value: 2 });
      // What the page refuses is what the engine refuses; what it keeps, the engine takes.
      expect(checkedExplainOptionsSchema.safeParse({ method, n_steps: 1 }).success, method).toBe(false);
      expect(checkedExplainOptionsSchema.safeParse({ method, n_steps: 2 }).success, method).toBe(true);
    }
    expect(checkSteps('1', 'gausslegendre')).toEqual({ value: 1 });
  });

  it('keeps to the ranges the service stores settings in', () => {
    const ok = (patch: object) => settingsSchema.partial().safeParse(patch).success;
    expect(ok({ top_k: TOP_K_RANGE.min }) && ok({ top_k: TOP_K_RANGE.max })).toBe(true);
    expect(ok({ top_k: TOP_K_RANGE.max + 1 })).toBe(false);
    expect(ok({ n_steps: STEPS_RANGE.min }) && ok({ n_steps: STEPS_RANGE.max })).toBe(true);
    expect(ok({ n_steps: STEPS_RANGE.max + 1 })).toBe(false);
  });

  it('says which method needs more steps, in either language', () => {
    const zh = makeT('zh-CN');
    const en = makeT('en');
    expect(zh('settings.stepsTooFew', { method: zh('method.riemann_left'), min: 2 })).toBe(
      '黎曼和（左端点）至少需要 2 步',
    );
    expect(en('settings.stepsTooFew', { method: en('method.riemann_left'), min: 2 })).toBe(
      'Riemann (left) needs at least 2 steps',
    );
  });
});
