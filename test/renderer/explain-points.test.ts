// Effects as the officer and the customer read them: a change of the approval probability in percentage points
// (one decimal, the sign shown, a typographic minus), the exact change kept for a title or a tooltip.
import { describe, expect, it } from 'vitest';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { axisPoints, formatPoints, pointsExact } from '../../renderer/src/pages/explain/points.js';

const MINUS = '\u2212';

describe('effects in percentage points', () => {
  it('reads a change of the probability as points: one decimal, the sign shown, a typographic minus', () => {
    expect(formatPoints(-0.2591)).toBe(`${MINUS}25.9`);
    expect(formatPoints(0.015)).toBe('+1.5');
    expect(formatPoints(-0.0004)).toBe('0.0');
  });

  it('labels an axis tick without a needless decimal', () => {
    expect(axisPoints(0.2)).toBe('+20');
    expect(axisPoints(-0.4)).toBe(`${MINUS}40`);
    expect(axisPoints(0)).toBe('0');
    expect(axisPoints(0.005)).toBe('+0.5');
  });

  it('gives the exact change beside the points, in either language', () => {
    expect(pointsExact(-0.2591, makeT('zh-CN'))).toBe(`${MINUS}25.9 个百分点（通过率变化 ${MINUS}0.2591）`);
    expect(pointsExact(0.015, makeT('en'))).toBe(
      '+1.5 percentage points (the probability changes by +0.0150)',
    );
  });
});
