// One ECharts instance in a React component. ECharts is loaded on demand (it is the largest part of the UI), so
// the first page paints without it; pages call preloadCharts() once they are up. The chart is an image to
// assistive technology (its label says what it shows); every page puts the same numbers in a table next to it.
import { useEffect, useLayoutEffect, useRef } from 'react';
import type { ChartOption } from './echarts.js';

type ChartsModule = typeof import('./echarts.js');
type Chart = ReturnType<ChartsModule['echarts']['init']>;

let loading: Promise<ChartsModule> | null = null;
/** Set once ECharts has loaded: charts mounted after that are drawn synchronously (a report about to print). */
let loaded: ChartsModule | null = null;

export function loadCharts(): Promise<ChartsModule> {
  return (loading ??= import('./echarts.js').then((m) => (loaded = m)));
}

/** Starts loading ECharts when the browser is idle, so that the first chart draws at once. */
export function preloadCharts(): void {
  const start = () => void loadCharts().catch(() => (loading = null));
  if (typeof window.requestIdleCallback === 'function') window.requestIdleCallback(start, { timeout: 2000 });
  else setTimeout(start, 200);
}

export interface EChartProps {
  option: ChartOption;
  /** What the chart shows, for screen readers. */
  label: string;
  height: number;
  /** A fixed width (the printed report); otherwise the chart follows its container. */
  width?: number;
  className?: string;
  testId?: string;
  /** Called once the chart has been drawn with the current option. */
  onDrawn?: () => void;
}

export function EChart({ option, label, height, width, className, testId, onDrawn }: EChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<Chart | null>(null);
  const latest = useRef(option);
  latest.current = option;
  const drawn = useRef(onDrawn);
  drawn.current = onDrawn;

  useLayoutEffect(() => {
    const el = element.current!;
    let instance: Chart | null = null;
    let observer: ResizeObserver | undefined;
    let frame = 0;
    let disposed = false;
    const draw = ({ echarts }: ChartsModule) => {
      if (disposed) return;
      instance = echarts.init(el, null, { renderer: 'svg', height, ...(width ? { width } : {}) });
      chart.current = instance;
      instance.on('finished', () => {
        el.dataset.state = 'drawn';
        drawn.current?.();
      });
      el.dataset.state = 'drawing';
      instance.setOption(latest.current, { notMerge: true });
      if (!width) {
        observer = new ResizeObserver(() => {
          cancelAnimationFrame(frame);
          frame = requestAnimationFrame(() => instance?.resize({ height }));
        });
        observer.observe(el);
      }
    };
    if (loaded) draw(loaded);
    else void loadCharts().then(draw);
    return () => {
      disposed = true;
      cancelAnimationFrame(frame);
      observer?.disconnect();
      instance?.dispose();
      chart.current = null;
    };
  }, [height, width]);

  useEffect(() => {
    if (!chart.current) return; // drawn with the latest option once ECharts has loaded
    element.current!.dataset.state = 'drawing';
    chart.current.setOption(option, { notMerge: true });
  }, [option]);

  return (
    <div
      ref={element}
      className={`chart ${className ?? ''}`}
      role="img"
      aria-label={label}
      data-testid={testId}
      data-state="loading"
      style={{ height, ...(width ? { width } : {}) }}
    />
  );
}
