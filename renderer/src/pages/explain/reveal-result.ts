// Bringing a new result to the officer. In the wide layout it shows beside the form and the live region reads it
// out; in a short or narrow window (a laptop at 200 % zoom: 683 × 384 CSS px) it lands below the form, out of
// view, and pressing Enter would seem to do nothing. Then the page scrolls to it and moves the focus to its
// heading, so that a screen reader starts there too. DOM only.
import { inView, scrollToTop } from '../../lib/reveal.js';

/** Scrolls `heading` (tabIndex −1) into view and focuses it, unless it is already in view. */
export function revealResult(heading: HTMLElement | null): void {
  if (!heading) return;
  if (inView(heading)) return;
  heading.focus({ preventScroll: true });
  scrollToTop(heading);
}
