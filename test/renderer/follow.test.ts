// Following the service from an open page: when it checks (in view, on focus, every interval, one check at a
// time), what counts as a change, and how the Explain page says that a result or its form is out of date.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../shared/contract.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import {
  FOLLOW_EVERY_MS,
  FOLLOW_MIN_MS,
  follow,
  followEveryMs,
  sameSettings,
  servedModelChanged,
  type FollowEnv,
} from '../../renderer/src/app/follow.js';
import { schemaChanges } from '../../renderer/src/pages/explain/form-state.js';
import {
  schemaChangedText,
  staleReason,
  staleText,
  type ExplainedWith,
} from '../../renderer/src/pages/explain/stale-result.js';
import { demoSchema } from './helpers.js';

const zh = makeT('zh-CN');
const en = makeT('en');

/** A window under test: its clock, its visibility, its interval and its focus, moved by hand. */
function fakeWindow() {
  const w = {
    time: 0,
    shown: true,
    tick: undefined as (() => void) | undefined,
    onShown: undefined as (() => void) | undefined,
    stopped: 0,
  };
  const env: FollowEnv = {
    visible: () => w.shown,
    now: () => w.time,
    onShown(listener) {
      w.onShown = listener;
      return () => w.stopped++;
    },
    every(_ms, tick) {
      w.tick = tick;
      return () => w.stopped++;
    },
  };
  return { w, env };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('following the service', () => {
  it('checks every interval while the page is in view, and not while it is hidden', async () => {
    const { w, env } = fakeWindow();
    let checks = 0;
    const stop = follow(env, 30_000, async () => void checks++);
    w.tick!();
    await settle();
    expect(checks).toBe(1);
    w.shown = false;
    w.tick!();
    await settle();
    expect(checks).toBe(1);
    stop();
    expect(w.stopped).toBe(2);
  });

  it('checks when the window is shown again or focused, once for both, and not right after the last check', async () => {
    const { w, env } = fakeWindow();
    let checks = 0;
    follow(env, 30_000, async () => void checks++);
    // Loaded a moment ago: the first calls just answered.
    w.time = 200;
    w.onShown!();
    expect(checks).toBe(0);
    w.time = 60_000;
    w.onShown!(); // visibilitychange
    w.onShown!(); // focus, in the same moment
    await settle();
    expect(checks).toBe(1);
    w.time = 62_000;
    w.onShown!();
    await settle();
    expect(checks).toBe(2);
  });

  it('runs one check at a time, and goes on after one that failed', async () => {
    const { w, env } = fakeWindow();
    let checks = 0;
    let finish: (() => void) | undefined;
    follow(env, 30_000, () => {
      checks++;
      return new Promise<void>((resolve, reject) => {
        finish = checks === 1 ? () => reject(new Error('network')) : resolve;
      });
    });
    w.tick!();
    w.tick!();
    expect(checks).toBe(1);
    finish!();
    await settle();
    w.tick!();
    expect(checks).toBe(2);
  });

  it('asks every 30 s, unless a test sets a shorter interval, never below the least', () => {
    expect(followEveryMs(undefined)).toBe(FOLLOW_EVERY_MS);
    expect(FOLLOW_EVERY_MS).toBe(30_000);
    expect(followEveryMs('300')).toBe(FOLLOW_EVERY_MS);
    expect(followEveryMs(Number.NaN)).toBe(FOLLOW_EVERY_MS);
    expect(followEveryMs(-5)).toBe(FOLLOW_EVERY_MS);
    expect(followEveryMs(300)).toBe(300);
    expect(followEveryMs(1)).toBe(FOLLOW_MIN_MS);
  });

  it('sees another model by its sha256, and the settings field by field', () => {
    const a = { id: 'credit-demo', version: '1.0.0', sha256: 'aa' };
    const b = { id: 'credit-demo', version: '1.0.1', sha256: 'bb' };
    expect(servedModelChanged(a, a)).toBe(false);
    expect(servedModelChanged(a, b)).toBe(true);
    expect(servedModelChanged(a, null)).toBe(true);
    expect(sameSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS })).toBe(true);
    expect(sameSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, top_k: 3 })).toBe(false);
    expect(sameSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, locale: 'en' })).toBe(false);
  });
});

describe('a result explained before a change made elsewhere', () => {
  const v100 = { id: 'credit-demo', version: '1.0.0', sha256: 'aa' };
  const v101 = { id: 'credit-demo', version: '1.0.1', sha256: 'bb' };
  const asked = { top_k: 5, method: 'gausslegendre', n_steps: 50 } as const;
  const result: ExplainedWith = { model: v100, options: asked, showAll: false };

  it('is current with the same model, settings and form', () => {
    expect(staleReason(result, v100, asked, true)).toBeNull();
    // The model being loaded again is no reason.
    expect(staleReason(result, undefined, asked, true)).toBeNull();
  });

  it('names the model it was explained with and the one active now', () => {
    const why = staleReason(result, v101, asked, true)!;
    expect(staleText(why, en)).toBe(
      'Explained with model credit-demo@1.0.0; the active model is now credit-demo@1.0.1: press Explain to ' +
        'explain again. Until then this result cannot be printed or exported.',
    );
    expect(staleText(why, zh)).toBe(
      '此结果由模型 credit-demo@1.0.0 生成；当前模型已改为 credit-demo@1.0.1：请点击“解释”重新生成；在此之前不能打印或导出。',
    );
    // Before an edit of the form: the model is what the officer must know of.
    expect(staleReason(result, v101, asked, false)?.kind).toBe('model');
  });

  it('names the settings it was asked with and those in force now', () => {
    const why = staleReason(result, v100, { ...asked, top_k: 3 }, true)!;
    expect(staleText(why, en)).toBe(
      'Explained with Gauss–Legendre · Top 5 · 50 steps; the settings are now Gauss–Legendre · Top 3 · 50 steps: ' +
        'press Explain to explain again. Until then this result cannot be printed or exported.',
    );
    // The settings are Chinese words in zh-CN: quoted, with no space between them and the sentence's words.
    expect(staleText(why, zh)).toBe(
      '此结果按“高斯-勒让德积分 · 显示前 5 项 · 50 步”生成；设置已改为“高斯-勒让德积分 · 显示前 3 项 · 50 步”：' +
        '请点击“解释”重新生成；在此之前不能打印或导出。',
    );
    expect(staleReason(result, v100, { ...asked, n_steps: 100 }, true)?.kind).toBe('settings');
    expect(staleReason(result, v100, { ...asked, method: 'riemann_trapezoid' }, true)?.kind).toBe('settings');
  });

  it('with every feature shown, is not out of date for another top-K', () => {
    const all: ExplainedWith = { ...result, options: { ...asked, top_k: 0 }, showAll: true };
    expect(staleReason(all, v100, { ...asked, top_k: 3 }, true)).toBeNull();
    const why = staleReason(all, v100, { ...asked, n_steps: 100 }, true)!;
    expect(staleText(why, en)).toContain('Explained with Gauss–Legendre · All features · 50 steps;');
  });

  it('after an edit of the form alone, says so as before', () => {
    expect(staleText(staleReason(result, v100, asked, false)!, en)).toBe(en('explain.staleResult'));
  });
});

describe("the line saying the new model's form differs", () => {
  it('names the fields added, removed and changed by their labels, in one line in the page language', () => {
    const schema = demoSchema();
    const time = schema.features.find((f) => f.name === 'Time')!;
    const changes = schemaChanges(schema, {
      features: [
        ...schema.features.filter((f) => !['Assets', 'Debt', 'Time'].includes(f.name)),
        { ...time, range: { min: 1, max: 360 } } as typeof time,
        { ...time, name: 'Age', label: { 'zh-CN': '年龄', en: 'Age' } },
      ],
    });
    const line = schemaChangedText('credit-demo@2.0.0', changes, 'en', en);
    expect(line).toMatch(
      /^The active model is now credit-demo@2\.0\.0, and its applicant form differs: new: Age; removed: [^;]+, [^;]+; other accepted values: Loan term\. What you typed/,
    );
    expect(line).not.toContain('\n');
    const zhLine = schemaChangedText('credit-demo@2.0.0', changes, 'zh-CN', zh);
    // Chinese takes no space between words: not "新增 年龄", "贷款期限 的取值要求有变".
    expect(zhLine).toMatch(/：新增年龄；移除[^；]+、[^；]+；贷款期限的取值要求有变。/);
    expect(zhLine).not.toMatch(/[\u4e00-\u9fff] [\u4e00-\u9fff]/);
  });
});
