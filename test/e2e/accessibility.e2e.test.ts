// WCAG 2.1 AA in the branch UI: axe-core (node_modules/axe-core, evaluated in the page: nothing is downloaded, and
// the CSP forbids an injected <script>) checks every page with what it shows in use, in both languages and both
// themes; any violation fails, listed by rule, element and summary. Plus what axe cannot see: the outline and
// placeholder contrast of fields, the keyboard-only flow, what a screen reader is told when a decision arrives,
// the language of a batch's reasons, and the confirmation dialog.
// Without Chromium this suite is skipped, and says so.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  ROOT,
  chromiumForSuite,
  demoBundleVersion,
  setLanguage,
  tempDir,
  useUiSession,
  waitUntil,
  type Locale,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite('the accessibility tests');

const LONG = 120_000;
const SAMPLE_CSV = join(ROOT, 'assets', 'samples', 'applicants.csv');
const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** axe's violations of WCAG 2.1 A and AA on the page as it is now. */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_TAGS)} }, resultTypes: ['violations'] })`,
  )) as { violations: AxeViolation[] };
  return result.violations;
}

/** One line per element: rule, impact, CSS target, and what axe says is wrong with it. */
function readable(violations: AxeViolation[]): string {
  return violations
    .flatMap((v) =>
      v.nodes.map(
        (n) =>
          `${v.id} (${v.impact}) at ${JSON.stringify(n.target)}: ${v.help}` +
          (n.failureSummary ? `\n    ${n.failureSummary.replace(/\n/g, '\n    ')}` : ''),
      ),
    )
    .join('\n');
}

/**
 * The violations, worded for a failure. Every impact fails, not only serious and critical: the pages have none
 * of any impact, and a new moderate one (a landmark, a heading order) is as real to a screen reader user.
 */
async function problemsOn(page: Page, where: string): Promise<string[]> {
  const violations = await axeViolations(page);
  return violations.length === 0 ? [] : [`${where}:\n${readable(violations)}`];
}

/**
 * What axe does not check: a text field's or a select's outline against what is around it (WCAG 1.4.11, 3:1,
 * unless its own background already stands out), and its placeholder text against its background (1.4.3, 4.5:1).
 */
async function controlContrastProblems(page: Page, where: string): Promise<string[]> {
  const found = (await page.evaluate(`(() => {
    const rgba = (s) => {
      const m = s.match(/rgba?\\(([^)]+)\\)/);
      const [r, g, b, a] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [r, g, b, a === undefined ? 1 : a];
    };
    const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat(1);
    const lum = (c) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    const background = (e) => {
      for (let n = e; n; n = n.parentElement) {
        const c = rgba(getComputedStyle(n).backgroundColor);
        if (c[3] > 0) return c;
      }
      return [255, 255, 255, 1];
    };
    const out = [];
    const controls = document.querySelectorAll(
      "main input[type=text], main input[type=search], main input[type=password], main input[type=date], main select",
    );
    for (const e of controls) {
      if (e.getClientRects().length === 0) continue;
      const label = e.labels && e.labels[0] ? e.labels[0].textContent.trim() : e.outerHTML.slice(0, 60);
      const name = e.id ? '#' + e.id : '"' + label + '"';
      const around = background(e.parentElement);
      const inside = over(rgba(getComputedStyle(e).backgroundColor), around);
      const border = over(rgba(getComputedStyle(e).borderTopColor), around);
      const outline = Math.max(ratio(border, around), ratio(inside, around));
      if (outline < 3) out.push(name + ': outline ' + outline.toFixed(2) + ':1 against its surroundings (needs 3:1)');
      if (e.tagName === 'INPUT' && e.placeholder) {
        const p = getComputedStyle(e, '::placeholder');
        const color = rgba(p.color);
        color[3] *= Number(p.opacity);
        const text = ratio(over(color, inside), inside);
        if (text < 4.5) out.push(name + ': placeholder ' + text.toFixed(2) + ':1 (needs 4.5:1)');
      }
    }
    return out;
  })()`)) as string[];
  return found.length === 0 ? [] : [`${where}:\n${found.join('\n')}`];
}

/** Loads sample applicant `sample` from the picker (the form opens empty) and explains it. */
async function explainShown(page: Page, sample: number): Promise<void> {
  await page.locator('#sample-select').selectOption({ index: sample });
  await page.getByTestId('explain-button').click();
  const result = page.getByTestId('result');
  await result.locator('[data-testid=attribution-chart][data-state=drawn]').waitFor();
  await result.locator('[data-testid=watermark][data-state=ok]').waitFor();
}

/** The element that has the keyboard focus: its test id, else its id, else its tag and text. */
async function focused(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const a = document.activeElement;
    if (!a) return '';
    return a.dataset.testid || a.id || a.tagName.toLowerCase() + ':' + (a.textContent || '').trim().slice(0, 40);
  })()`);
}

/** Presses Tab until `done` holds of the focused element (a CSS selector), at most `limit` times. */
async function tabTo(page: Page, selector: string, limit = 40): Promise<number> {
  for (let n = 1; n <= limit; n++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`))
      return n;
  }
  throw new Error(
    `${selector} not reached in ${limit} presses of Tab; the focus is on ${await focused(page)}`,
  );
}

/** Brings a page to the state an officer sees it in use. */
async function showInUse(page: Page, route: string): Promise<void> {
  if (route === 'explain') await explainShown(page, 1);
  if (route === 'batch') {
    await page.setInputFiles('#batch-file', SAMPLE_CSV);
    await page.getByTestId('batch-start').click();
    await expect
      .poll(() => page.getByTestId('batch-percent').textContent(), { timeout: 30_000 })
      .toBe('100%');
  }
  if (route === 'audit') {
    await page.getByTestId('audit-verify-button').click();
    await page.getByTestId('audit-verify').waitFor();
  }
  if (route === 'monitor') await page.getByTestId('monitor-tiles').waitFor();
  // Charts animate in; their colours are checked once drawn.
  await page.waitForTimeout(400);
}

const ROUTES = ['explain', 'batch', 'audit', 'models', 'monitor', 'settings'] as const;

/** Opens a page afresh (a reload) in a language and a theme, set on the service as the Settings page saves them. */
async function openIn(s: UiSession, route: string, locale: Locale, theme: 'light' | 'dark'): Promise<void> {
  const { page } = s;
  s.server.service.updateSettings({ locale, theme });
  await page.goto(`${s.server.url}#/${route}`);
  await page.reload();
  await page.locator('main h1').first().waitFor();
  await waitUntil(
    page,
    `document.documentElement.lang === ${JSON.stringify(locale)} && ` +
      `document.documentElement.dataset.theme === ${JSON.stringify(theme)}`,
  );
}

describe.skipIf(!available)('the branch UI against WCAG 2.1 AA (axe-core)', () => {
  let s: UiSession;
  useUiSession((session) => (s = session));

  for (const theme of ['light', 'dark'] as const) {
    for (const locale of ['zh-CN', 'en'] as const satisfies readonly Locale[]) {
      it(
        `has no WCAG 2.1 AA violation on any page in ${locale}, ${theme} theme`,
        async () => {
          const { page } = s;
          const problems: string[] = [];
          for (const route of ROUTES) {
            await openIn(s, route, locale, theme);
            await showInUse(page, route);
            problems.push(...(await problemsOn(page, `${route} in ${locale}, ${theme}`)));
            problems.push(...(await controlContrastProblems(page, `${route} in ${locale}, ${theme}`)));
          }
          expect(problems.join('\n\n')).toBe('');
        },
        LONG * 2,
      );
    }
  }

  for (const locale of ['zh-CN', 'en'] as const satisfies readonly Locale[]) {
    it(
      `has no WCAG 2.1 AA violation in the printed report in ${locale}`,
      async () => {
        const { page } = s;
        await openIn(s, 'explain', locale, 'light');
        await explainShown(page, 1);
        await page.evaluate('window.print = () => { window.__printed = (window.__printed ?? 0) + 1; }');
        await page.evaluate('window.__printed = 0');
        await page.getByRole('button', { name: locale === 'en' ? 'Print report' : '打印报告' }).click();
        await waitUntil(page, 'window.__printed === 1');
        await page.emulateMedia({ media: 'print' });
        try {
          await page.getByTestId('report').locator('.chart[data-state=drawn]').waitFor();
          expect((await problemsOn(page, `the printed report in ${locale}`)).join('\n\n')).toBe('');
        } finally {
          await page.emulateMedia({ media: null });
          await page.evaluate("dispatchEvent(new Event('afterprint'))");
        }
      },
      LONG,
    );
  }

  it('checks the renderer as it ships: React built for production, not its development build', () => {
    // StrictMode runs effects twice in a development build only: what a focus or a live region does differs.
    const assets = join(ROOT, 'dist', 'renderer', 'assets');
    const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const development = scripts.filter((f) => readFileSync(join(assets, f), 'utf8').includes('jsxDEV'));
    expect(development).toEqual([]);
  });

  it(
    'tells a screen reader the decision and the probability when an explanation arrives, each time',
    async () => {
      const { page } = s;
      await openIn(s, 'explain', 'zh-CN', 'light');
      // A live region announces a change of its text: it must be in the page, empty, before the result comes.
      const live = page.locator('[data-testid=result-announcement]');
      expect(await live.count()).toBe(1);
      expect(await live.getAttribute('role')).toBe('status');
      expect((await live.textContent())?.trim()).toBe('');
      await explainShown(page, 1);
      const said = (await live.textContent()) ?? '';
      const probability = (await page.getByTestId('probability-value').textContent()) ?? '';
      expect(said).toContain('通过');
      expect(said).toContain(probability);
      expect(said).toContain('阈值');
      // The same applicant again: emptied while explaining, then said again (the same text would not be re-read).
      const texts: string[] = [];
      await page.exposeFunction('__announced', (t: string) => texts.push(t));
      await page.evaluate(`new MutationObserver(() =>
        window.__announced(document.querySelector('[data-testid=result-announcement]').textContent)
      ).observe(document.querySelector('[data-testid=result-announcement]'), { childList: true, subtree: true, characterData: true })`);
      await explainShown(page, 1);
      await expect.poll(() => texts.at(-1)).toBe(said);
      expect(texts).toContain('');
      // In the language of the page after a switch.
      await setLanguage(page, 'en');
      await explainShown(page, 1);
      await expect.poll(() => live.textContent()).toContain('Approved');
    },
    LONG,
  );

  it(
    "marks a batch's reasons with the language they were explained in, after the page changes language",
    async () => {
      const { page } = s;
      await openIn(s, 'batch', 'zh-CN', 'light');
      await showInUse(page, 'batch');
      await page.locator('[data-testid=results-table] tbody tr.result-row').first().click();
      await setLanguage(page, 'en');
      // The rows keep their Chinese reasons: a screen reader must read them with a Chinese voice, not an English one.
      const langs = (await page.evaluate(`(() => {
        const langOf = (e) => e.closest('[lang]').getAttribute('lang');
        const cells = [...document.querySelectorAll('[data-testid=results-table] tbody tr.result-row td')]
          .filter((td) => /[\\u4e00-\\u9fff]/.test(td.textContent));
        const detail = [...document.querySelectorAll('.detail-panel li, .detail-panel td')]
          .filter((e) => /[\\u4e00-\\u9fff]/.test(e.textContent) && e.children.length === 0);
        return { cells: cells.map(langOf), detail: detail.map(langOf) };
      })()`)) as { cells: string[]; detail: string[] };
      expect(langs.cells.length).toBeGreaterThan(0);
      expect(new Set(langs.cells)).toEqual(new Set(['zh-CN']));
      expect(langs.detail.length).toBeGreaterThan(0);
      expect(new Set(langs.detail)).toEqual(new Set(['zh-CN']));
    },
    LONG,
  );

  it(
    'explains with the keyboard alone: language, form, submit, the result and its table',
    async () => {
      const { page } = s;
      await openIn(s, 'explain', 'zh-CN', 'light');
      // The skip link comes first.
      await page.keyboard.press('Tab');
      expect(await focused(page)).toMatch(/^button:跳到主要内容/);
      // The language switch, from the header.
      await tabTo(page, '.lang-switch');
      await page.keyboard.press('Enter');
      await waitUntil(page, `document.documentElement.lang === 'en'`);
      expect(await page.evaluate(`document.activeElement.classList.contains('lang-switch')`)).toBe(true);
      // The form opens empty: sample applicant 1 from the picker (a closed select chooses as the arrow keys move).
      await tabTo(page, '#sample-select');
      await page.keyboard.press('ArrowDown');
      await expect.poll(() => page.locator('#field-Seniority').inputValue()).toBe('2');
      // Into the form: a field, typed into.
      await tabTo(page, '#field-Seniority');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('abc');
      await tabTo(page, '[data-testid=explain-button]');
      await page.keyboard.press('Enter');
      // Refused: the summary takes the focus, and its link takes the focus to the field.
      await waitUntil(page, `document.activeElement?.dataset.testid === 'error-summary'`);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      expect(await focused(page)).toBe('field-Seniority');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('9');
      await tabTo(page, '[data-testid=explain-button]');
      await page.keyboard.press('Enter');
      await page.getByTestId('result').locator('[data-testid=attribution-chart][data-state=drawn]').waitFor();
      expect(await page.locator('[data-testid=result-announcement]').textContent()).toContain('Explained');
      // The result's controls and the chart's table follow in the tab order.
      await tabTo(page, '[data-testid=result] .toolbar button');
      await tabTo(page, '[data-testid=result] details.table-alt summary');
      await page.keyboard.press('Enter');
      expect(await page.getByTestId('attribution-table').isVisible()).toBe(true);
      await setLanguage(page, 'zh-CN');
    },
    LONG,
  );

  it(
    'asks for a confirmation in a dialog that describes itself, keeps the focus and closes on Escape',
    async () => {
      const { page } = s;
      const bundle = demoBundleVersion(join(tempDir('branchlens-e2e-bundle-'), 'credit-demo-1.0.2'), '1.0.2');
      await s.server.service.importModel(bundle, false);
      await openIn(s, 'models', 'zh-CN', 'light');
      const activate = page
        .locator('[data-testid=models-table] tbody tr', { hasText: '1.0.2' })
        .getByRole('button', { name: /^启用/ });
      await activate.focus();
      await page.keyboard.press('Enter');
      const dialog = page.locator('dialog[open]');
      await dialog.waitFor();
      // Its name is its title; its description says which model replaces which.
      const described = (await page.evaluate(`(() => {
        const d = document.querySelector('dialog[open]');
        const ids = (a) => (d.getAttribute(a) || '').split(' ').filter(Boolean);
        return {
          name: ids('aria-labelledby').map((id) => document.getElementById(id)?.textContent).join(' '),
          description: ids('aria-describedby').map((id) => document.getElementById(id)?.textContent).join(' '),
        };
      })()`)) as { name: string; description: string };
      expect(described.name).not.toBe('');
      expect(described.description).toContain('credit-demo@1.0.2');
      // The focus starts on Cancel and stays in the dialog.
      expect(await focused(page)).toBe('button:取消');
      for (let i = 0; i < 4; i++) {
        await page.keyboard.press('Tab');
        const inside = await page.evaluate(
          `document.querySelector('dialog[open]').contains(document.activeElement)`,
        );
        expect(inside || (await page.evaluate('document.activeElement === document.body'))).toBe(true);
      }
      await page.keyboard.press('Escape');
      await waitUntil(page, `!document.querySelector('dialog[open]')`);
      expect(await page.evaluate(`document.activeElement.textContent`)).toMatch(/^启用/);
      expect(s.server.service.model.version).toBe('1.0.0');
    },
    LONG,
  );
});
