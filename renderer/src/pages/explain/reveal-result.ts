// Bringing a new result to the officer. In the wide layout it shows beside the form and the live region reads it
// out; in a short or narrow window (a laptop at 200 % zoom: 683 × 384 CSS px) it lands below the form, out of
// view, and pressing Enter would seem to do nothing. Then the page scrolls to it and moves the focus to its
// heading, so that a screen reader starts there too. DOM only.

/** Whether an element's box is on screen: below what the sticky header covers, above the window's bottom. */
function inView(box: DOMRect, covered: number, height: number): boolean {
  return box.top >= covered && box.bottom <= height;
}

/** The height the sticky header covers: the page's scroll-padding-top (app.css keeps it to the header's). */
function coveredTop(): number {
  return parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 0;
}

/** Scrolls `heading` (tabIndex −1) into view and focuses it, unless it is already in view. */
export function revealResult(heading: HTMLElement | null): void {
  if (!heading) return;
  if (inView(heading.getBoundingClientRect(), coveredTop(), window.innerHeight)) return;
  const reduced = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  heading.focus({ preventScroll: true });
  heading.scrollIntoView({ block: 'start', behavior: reduced ? 'auto' : 'smooth' });
}
