// The rows that cannot be explained, one line per problem; virtualised, since a bad file can have thousands.
// A long message wraps onto more lines: each line is measured as it is shown.
import { useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { T } from '../../i18n/i18n.js';

export interface ProblemLine {
  line: number;
  field: string;
  message: string;
}

export function ProblemList({ lines, t }: { lines: readonly ProblemLine[]; t: T }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 30,
    overscan: 12,
  });
  return (
    <div
      ref={scroller}
      className="problem-list"
      role="list"
      aria-label={t('batch.problemsList')}
      tabIndex={0}
      data-testid="problem-list"
    >
      <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
        {virtual.getVirtualItems().map((item) => {
          const p = lines[item.index]!;
          return (
            <div
              key={item.key}
              ref={virtual.measureElement}
              data-index={item.index}
              role="listitem"
              className="problem-line"
              style={{
                position: 'absolute',
                top: 0,
                left: 0,
                right: 0,
                transform: `translateY(${item.start}px)`,
              }}
            >
              <span className="problem-row">{t('batch.line', { line: p.line })}</span>
              <span className="problem-field" title={p.field}>
                {p.field}
              </span>
              <span className="problem-message">{p.message}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
