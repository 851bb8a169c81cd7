// The explanation defaults as the Settings page reads them from its text fields, by the service's own rules
// (settingsSchema, and the engine's fewest steps per method), so that Save never keeps a combination every later
// explanation is refused with. Pure.
import { halfWidth } from '../../../../shared/bundle.js';
import { minSteps } from '../../../../shared/explain-options.js';
import type { Settings } from '../../../../shared/contract.js';

export const TOP_K_RANGE = { min: 0, max: 100 } as const;
export const STEPS_RANGE = { min: 1, max: 1000 } as const;

/**
 * A whole number from `min` to `max` as typed, or null. Full-width digits (a Chinese input method's) read as
 * their ASCII digits, as in the applicant form.
 */
export function wholeNumberIn(text: string, min: number, max: number): number | null {
  const ascii = halfWidth(text);
  if (!/^\s*\d+\s*$/.test(ascii)) return null;
  const n = Number(ascii);
  return n >= min && n <= max ? n : null;
}

export type StepsCheck =
  | { value: number; problem?: undefined }
  | { value?: undefined; problem: 'invalid' }
  /** A whole number the settings take, but fewer steps than `method` integrates with (a Riemann rule: 2). */
  | { value?: undefined; problem: 'too_few'; min: number };

/** The steps typed for `method`: the number, or why the service would refuse it (or every explanation after). */
export function checkSteps(text: string, method: Settings['method']): StepsCheck {
  const n = wholeNumberIn(text, STEPS_RANGE.min, STEPS_RANGE.max);
  if (n === null) return { problem: 'invalid' };
  const min = minSteps(method);
  return n < min ? { problem: 'too_few', min } : { value: n };
}
