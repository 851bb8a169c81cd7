// The charts' bars are graphics a loan officer must tell from the card they sit on: WCAG 1.4.11 asks 3:1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../main/core/paths.js';
import { chartPalette, type ThemeName } from '../../renderer/src/charts/palette.js';

/** The cards the charts sit on: app.css's --surface, the light theme's first, then the dark one's. */
const [light, dark] = [
  ...readFileSync(join(appRoot(), 'renderer', 'src', 'styles', 'app.css'), 'utf8').matchAll(
    /--surface: (#[0-9a-f]{6});/g,
  ),
].map((m) => m[1]!);
const SURFACE: Record<ThemeName, string> = { light: light!, dark: dark! };

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('the chart palette', () => {
  it.each(['light', 'dark'] as const)('draws every bar at 3:1 at least against the %s card', (theme) => {
    const palette = chartPalette(theme);
    for (const bar of ['positive', 'negative', 'neutral', 'rest'] as const) {
      expect(contrast(palette[bar], SURFACE[theme]), `${bar} ${palette[bar]}`).toBeGreaterThanOrEqual(3);
    }
  });
});
