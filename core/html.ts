/**
 * The one escaping HTML renderer: every server-rendered page (the web app in
 * dashboards/, the acknowledgement pages the notifier serves) builds its
 * markup with `html`, which escapes every interpolated value unless it is
 * already `Html`.
 */

/** Escapes text for HTML element content and quoted attributes. */
export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Marks a string as already-safe HTML. */
export interface Html { html: string }
export const raw = (html: string): Html => ({ html });

/** A tagged template that escapes every interpolation except `Html` values and arrays of them. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return { html: out };
}

function render(v: unknown): string {
  if (v === undefined || v === null || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (typeof v === 'object' && 'html' in v) return (v as Html).html;
  return esc(v);
}
