// Chart colours per theme. Raising and lowering the approval probability are blue and orange, never green and
// red: those swap meaning between Chinese and Western markets, and blue/orange stays apart for colour-blind eyes.
export type ThemeName = 'light' | 'dark';

export interface ChartPalette {
  positive: string;
  negative: string;
  neutral: string;
  rest: string;
  text: string;
  muted: string;
  axis: string;
  grid: string;
  background: string;
  series: string[];
  threshold: string;
}

const LIGHT: ChartPalette = {
  positive: '#1f5fbf',
  negative: '#c2410c',
  neutral: '#6b7280',
  rest: '#808a99',
  text: '#1c2733',
  muted: '#55606e',
  axis: '#8a94a3',
  grid: '#e3e7ed',
  background: 'transparent',
  series: ['#1f5fbf', '#c2410c', '#0f766e', '#7c3aed', '#b45309'],
  threshold: '#1c2733',
};

const DARK: ChartPalette = {
  positive: '#6ea8ff',
  negative: '#ff9a5c',
  neutral: '#9aa4b2',
  rest: '#6b7686',
  text: '#e6ebf2',
  muted: '#aab4c2',
  axis: '#7c8796',
  grid: '#2c3644',
  background: 'transparent',
  series: ['#6ea8ff', '#ff9a5c', '#4fd1c5', '#b794f4', '#f6c177'],
  threshold: '#e6ebf2',
};

export function chartPalette(theme: ThemeName): ChartPalette {
  return theme === 'dark' ? DARK : LIGHT;
}
