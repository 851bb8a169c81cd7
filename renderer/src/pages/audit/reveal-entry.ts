// Bringing an opened audit entry to the officer. Its detail opens below the list, usually out of view, so the page
// scrolls it up to just under the sticky header and moves the focus to its heading, where a screen reader starts
// too; Escape, from anywhere but a field or a dialog that has its own use for it, closes it. DOM only.
import { inView, scrollToTop } from '../../lib/reveal.js';

/** Focuses `heading` (tabIndex −1) and scrolls `panel` to the top of the view, unless all of it is in view. */
export function revealEntry(panel: HTMLElement | null, heading: HTMLElement | null): void {
  if (!panel || !heading) return;
  heading.focus({ preventScroll: true });
  if (inView(panel)) return;
  scrollToTop(panel);
}

/**
 * Whether an Escape pressed on `target` is someone else's: a modal dialog's (it cancels the dialog), or a form
 * field's outside the entry (a search box clears, a list closes), where closing the entry would surprise.
 */
export function escapeBelongsElsewhere(target: EventTarget | null, panel: HTMLElement | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest('dialog')) return true;
  return target.matches('input, select, textarea') && !panel?.contains(target);
}
