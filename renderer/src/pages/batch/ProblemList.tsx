// The rows that cannot be explained, one line per problem; virtualised, since a bad file can have thousands.
// A long message wraps onto more lines: each line is measured as it is shown.
import { useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { T } from '../../i18n/i18n.js';
import { KEPT_COLUMNS_SHOWN } from './ResultsTable.js';

export interface ProblemLine {
  line: number;
  /** The row's cells of the file's columns that are not features (a customer number, a name), as written. */
  kept: readonly string[];
  field: string;
  message: string;
}

/** Which customer a line is about: the first kept cells, as the results table shows them. */
function keptText(kept: readonly string[]): string {
  return kept
    .slice(0, KEPT_COLUMNS_SHOWN)
    .filter((c) => c !== '')
    .join(' · ');
}

/** `withKept`: the file has columns that are not features, whose first cells each line shows after its number. */
export function ProblemList({
  lines,
  withKept,
  t,
}: {
  lines: readonly ProblemLine[];
  withKept: boolean;
  t: T;
}) {
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
      className={`problem-list ${withKept ? 'problem-list-kept' : ''}`}
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
              {withKept && (
                <span className="problem-kept" title={p.kept.join(' · ')} data-testid="problem-kept">
                  {keptText(p.kept)}
                </span>
              )}
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
