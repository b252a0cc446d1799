/**
 * Server-rendered HTML: escaping and the one page layout (skip link, landmarks,
 * high-contrast styles in /static/app.css, visible focus, language attribute).
 */
import type { Language } from '../core/store.js';
import { esc, html, type Html } from '../core/html.js';
import { translator } from './i18n.js';

// The escaping renderer itself is in core/ (the notifier's acknowledgement pages use it too).
export { esc, html, raw, type Html } from '../core/html.js';

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
${csrfMeta.html}<title>${esc(o.title)} — ${esc(t('appName'))}</title><link rel="stylesheet" href="/static/app.css"><link rel="icon" href="/favicon.ico" sizes="32x32"><link rel="icon" href="/static/icon.svg" type="image/svg+xml"><link rel="manifest" href="/static/manifest.webmanifest"><meta name="theme-color" content="#0b4f8a"></head>
<body${o.kiosk ? ' class="kiosk"' : ''}${o.live ? ' data-live="/live"' : ''}><a class="skip" href="#main">${esc(t('skip'))}</a><header>${head.html}</header>
<main id="main"><h1>${esc(o.title)}</h1>${o.body.html}</main>
${(o.scripts ?? []).map((s) => `<script src="${esc(s)}" defer></script>`).join('')}${(o.modules ?? []).map((s) => `<script type="module" src="${esc(s)}"></script>`).join('')}</body></html>`;
}
