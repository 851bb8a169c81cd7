// Bringing something the officer asked for into view: below the sticky header, scrolled smoothly unless the
// system asks for reduced motion. The Explain page's result and the Audit page's opened entry both use it. DOM only.

/** The height the sticky header covers: the page's scroll-padding-top (app.css keeps it to the header's). */
export function coveredTop(): number {
  return parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 0;
}

/** Whether an element's box is on screen: below what the sticky header covers, above the window's bottom. */
export function inView(element: Element): boolean {
  const box = element.getBoundingClientRect();
  return box.top >= coveredTop() && box.bottom <= window.innerHeight;
}

/** Scrolls `element` to the top of the view (under the header), smoothly unless reduced motion is asked for. */
export function scrollToTop(element: Element): void {
  const reduced = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  element.scrollIntoView({ block: 'start', behavior: reduced ? 'auto' : 'smooth' });
}
