/** Markup built as strings (the wiring view's hot path, SVG export): no DOM, so pure modules can use it. */

/** Escapes text for HTML/SVG markup built as strings (the wiring view's hot path). */
export const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
