/**
 * Server-rendered HTML: escaping and the one page layout (skip link, landmarks,
 * high-contrast styles, visible focus, language attribute).
 */
import type { Language } from '../core/store.js';
import { translator } from './i18n.js';

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

const styles = `
:root{--fg:#111;--bg:#fcfcf8;--accent:#0b4f8a;--warn:#8a4b00;--bad:#a10000;--ok:#1d6b2a}
*{box-sizing:border-box}body{font:18px/1.6 system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;margin:0;color:var(--fg);background:var(--bg)}
header,main,footer{padding:1rem 1.25rem;max-width:60rem;margin:0 auto}header{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;border-bottom:2px solid #ccc}
a{color:var(--accent)}:focus-visible{outline:3px solid #e0a000;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
table{border-collapse:collapse;margin:.5rem 0 1.25rem;width:100%}td,th{border:1px solid #999;padding:.35rem .6rem;text-align:left;vertical-align:top}th{background:#eceae4}
button,input,select,textarea{font:inherit}button{background:var(--accent);color:#fff;border:0;border-radius:.4rem;padding:.45rem 1rem;cursor:pointer;min-height:44px}
button.secondary{background:#444}label{display:block;margin:.5rem 0 .15rem;font-weight:600}input,select,textarea{padding:.4rem;border:1px solid #555;border-radius:.3rem;max-width:100%}
.status{font-size:1.4rem;font-weight:700;padding:.75rem 1rem;border-radius:.5rem;border:2px solid}.fine{color:var(--ok);border-color:var(--ok)}.noticed{color:var(--warn);border-color:var(--warn)}.alert{color:var(--bad);border-color:var(--bad)}
.error{color:var(--bad);font-weight:700;border:2px solid var(--bad);padding:.5rem}.notice{color:var(--ok);font-weight:700}
.card{border:1px solid #bbb;border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0;background:#fff}.photos img{max-width:100%;height:auto;margin:.25rem 0}
.inline{display:inline}.muted{color:#444}.secret{font-family:monospace;background:#fff3c4;padding:.5rem;word-break:break-all}
.kiosk{font-size:2rem;text-align:center}.kiosk button{font-size:3rem;padding:2rem 3rem;margin:1rem;min-width:40%;border-radius:1rem}.kiosk .help{background:var(--bad)}.kiosk .ok{background:var(--ok)}
`;

export interface PageOptions {
  lang: Language; title: string; body: Html; signedIn?: { name: string; csrf: string }; kiosk?: boolean;
  /** Classic scripts (chart.js), deferred. */
  scripts?: string[];
  /** The browser's ES modules (/static/app.js, /static/video.js: dashboards/client/). */
  modules?: string[];
  /** Server-sent events refresh the page's live regions (`data-live-region`). */
  live?: boolean;
}

/** Wraps a page body in the common layout. */
export function page(o: PageOptions): string {
  const t = translator(o.lang);
  const head = o.signedIn && !o.kiosk ? html`<nav aria-label="${t('account')}"><a href="/">${t('appName')}</a> · <a href="/account">${t('account')}</a> · ${o.signedIn.name}
<form class="inline" method="post" action="/signout"><input type="hidden" name="_csrf" value="${o.signedIn.csrf}"><button class="secondary">${t('signOut')}</button></form></nav>` : html`<span>${t('appName')}</span>`;
  const csrfMeta = o.signedIn ? html`<meta name="csrf-token" content="${o.signedIn.csrf}">` : html``;
  return `<!doctype html><html lang="${o.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${csrfMeta.html}<title>${esc(o.title)} — ${esc(t('appName'))}</title><style>${styles}</style></head>
<body${o.kiosk ? ' class="kiosk"' : ''}${o.live ? ' data-live="/live"' : ''}><a class="skip" href="#main">${esc(t('skip'))}</a><header>${head.html}</header>
<main id="main"><h1>${esc(o.title)}</h1>${o.body.html}</main>
${(o.scripts ?? []).map((s) => `<script src="${esc(s)}" defer></script>`).join('')}${(o.modules ?? []).map((s) => `<script type="module" src="${esc(s)}"></script>`).join('')}</body></html>`;
}
