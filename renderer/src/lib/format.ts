// Numbers, times and signs as the branch reads them, in the current language. Pure (Intl only).
import type { Locale } from '../../../shared/bundle.js';

const MINUS = '\u2212';

// Building an Intl formatter costs far more than using one: each is made once per language and options.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function numberFormat(locale: Locale, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(locale, options)));
  return f;
}

function dateFormat(locale: Locale, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = dateFormats.get(key);
  if (!f) dateFormats.set(key, (f = new Intl.DateTimeFormat(locale, options)));
  return f;
}

export function formatNumber(locale: Locale, n: number, maxFractionDigits = 2): string {
  if (!Number.isFinite(n)) return String(n);
  return numberFormat(locale, { maximumFractionDigits: maxFractionDigits }).format(n);
}

/**
 * A rate (answers per second) that stays readable when it is small: one decimal from 1 up, two significant
 * digits below ("0.027"), so that 8 answers in five minutes do not read as 0.
 */
export function formatRate(locale: Locale, n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0 || Math.abs(n) >= 1) return formatNumber(locale, n, 1);
  return numberFormat(locale, { maximumSignificantDigits: 2 }).format(n);
}

/** 0.5787 → "57.9%". */
export function formatPercent(locale: Locale, p: number, fractionDigits = 1): string {
  if (!Number.isFinite(p)) return '—';
  return numberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  }).format(p);
}

/**
 * A probability shown against the threshold that decided it (`formatPercent`'s "57.9%"): when rounding would carry
 * it onto the threshold or across it, it is rounded toward its own side instead, so that a decline at 0.4997 reads
 * "49.9%", not "50.0%" beside a threshold of 50 %.
 */
export function formatScore(locale: Locale, p: number, threshold?: number, fractionDigits = 1): string {
  if (!Number.isFinite(p) || threshold === undefined) return formatPercent(locale, p, fractionDigits);
  const scale = 10 ** (fractionDigits + 2);
  const rounded = Math.round(p * scale) / scale;
  const shown =
    p < threshold && rounded >= threshold
      ? Math.floor(p * scale) / scale
      : p >= threshold && rounded < threshold
        ? Math.ceil(p * scale) / scale
        : p;
  return formatPercent(locale, shown, fractionDigits);
}

/** A decision threshold as a percentage with the digits it has, up to two: "50%", "52.5%". */
export function formatThreshold(locale: Locale, threshold: number): string {
  if (!Number.isFinite(threshold)) return '—';
  return numberFormat(locale, { style: 'percent', maximumFractionDigits: 2 }).format(threshold);
}

/** An attribution with its sign always shown and a typographic minus: "+0.193", "−0.161". */
export function formatSigned(n: number, fractionDigits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n).toFixed(fractionDigits);
  if (Number(abs) === 0) return abs;
  return (n < 0 ? MINUS : '+') + abs;
}

/** A tiny number (a completeness delta) in scientific notation: "−8.06e−9". */
export function formatTiny(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const [mantissa, exponent] = Math.abs(n).toExponential(2).split('e');
  const exp = Number(exponent);
  const body =
    exp >= -2 && exp <= 3
      ? Math.abs(n).toPrecision(3)
      : `${mantissa}e${exp < 0 ? MINUS : ''}${Math.abs(exp)}`;
  return (n < 0 ? MINUS : '') + body;
}

export function formatMs(locale: Locale, ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const digits = ms < 10 ? 2 : ms < 100 ? 1 : 0;
  return `${formatNumber(locale, ms, digits)} ms`;
}

export function formatDateTime(locale: Locale, iso: string | number | Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return dateFormat(locale, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    // Not hour12: false, which older Chrome (V8 before 12.4) reads in English as the cycle 1–24: "24:30" at 00:30.
    hourCycle: 'h23',
  }).format(d);
}

/** The first 8 and last 4 hex digits of a hash, for a table cell. */
export function shortHash(hex: string | null | undefined): string {
  if (!hex) return '—';
  return hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}
