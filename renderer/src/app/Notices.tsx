// Short notices (saved, exported, failed) in a live region, so a screen reader reads them out too.
import { noticeText, useApp } from './context.js';

export function Notices() {
  const { notices, dismiss, t } = useApp();
  return (
    <div className="notices" role="status" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.kind}`}>
          <span>{noticeText(n, t)}</span>
          <button
            type="button"
            className="notice-close"
            aria-label={t('common.close')}
            onClick={() => dismiss(n.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
