/**
 * The hub's status page: homes with their last sign of life, open alerts,
 * recent findings and SMS, and the counters of every part. Japanese and
 * English (`?lang=` or the browser's Accept-Language).
 *
 * It lives on the hub endpoints port, which Twilio, LINE and e-mail readers
 * must reach, so it is public: without an operator session (the web app's
 * session cookie, second factor done) `/` and `/api/status` show counts and
 * health only — no names, numbers, message text, addresses or ids. Only the
 * routes in `hubEndpointRoutes` may be registered on this port; anything else
 * is 404 here.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { toLocalIso } from '../core/time.js';
import { html, raw } from '../core/html.js';
import { guessLanguage, label, translator } from './i18n.js';
import { sessionCookie } from './auth.js';
import type { Alert, Store } from '../core/store.js';
import type { Finding, Localized } from '../core/findings.js';
import { statusCallbackRoute, type LocalTwilio, type Notifier } from '../notifier/index.js';
import { clientModules, createClientAssets } from './client-assets.js';
import { hookPortHeaders } from './security-headers.js';

/**
 * The status page's port: what it reads from the hub. The hub implements it
 * (hub/index.ts); the page never sees the hub's parts beyond this.
 */
export interface StatusSource {
  store: Pick<Store, 'listHomes' | 'listAlerts'>;
  engine: { lastSignOfLife(homeId: string): number | undefined };
  /** Counters of the parts, served as they are (no personal data). */
  broker: { stats(): object };
  ingest: { stats(): object };
  history: { stats(): object };
  /** Findings seen since start (newest last). */
  recentFindings(): Finding[];
  /** The local Twilio server, when SMS go there: its messages are shown to operators. */
  localTwilio?: Pick<LocalTwilio, 'messages'>;
  /** Health of every long-lived part (served at `/health`; 503 unless `ok`). */
  health(): { ok: boolean };
}

export interface StatusPageOptions {
  /** The hub, once it is fully started (the server starts first so its URL can be handed to Twilio). */
  hub: () => StatusSource | undefined;
  /** Receives Twilio's signed delivery receipts at `/twilio/status`. */
  notifier: () => Pick<Notifier, 'handleStatusCallback'> | undefined;
  /** The URL Twilio reaches this server at, when it differs from the bound address. */
  publicUrl?: string;
  /** More machine-facing routes on this server (Twilio webhooks, e-mail acknowledgement links). */
  routes?: (app: FastifyInstance) => Promise<void>;
  /**
   * Whether a session cookie value belongs to a signed-in operator (second
   * factor done): then the status shows everything. Absent: never.
   */
  isOperatorSession?: (sessionToken: string | undefined) => Promise<boolean>;
  host: string; port: number; logger: Logger; clock: Clock;
}

/**
 * What the hub endpoints port serves: the status page (redacted without an
 * operator session), health, Twilio's webhooks and receipts, e-mail
 * acknowledgement links, LINE's webhook. Registering any other route on it
 * fails at start.
 */
export const hubEndpointRoutes: ReadonlyArray<{ method: string; url: string | RegExp }> = [
  { method: 'GET', url: '/' },
  { method: 'GET', url: '/api/status' },
  { method: 'GET', url: '/health' },
  { method: 'GET', url: '/healthz' },
  { method: 'POST', url: /^\/twilio\// },
  { method: 'GET', url: /^\/ack\// },
  { method: 'POST', url: /^\/ack\// },
  { method: 'POST', url: /^\/line\// },
  // The status page's own client module (its live region refreshes in place).
  { method: 'GET', url: /^\/static\/[a-z-]+\.js$/ },
];

/** Whether `method url` (a registered route pattern) may be served on the hub endpoints port. */
export function isHubEndpointRoute(method: string, url: string): boolean {
  return hubEndpointRoutes.some((r) => r.method === method && (typeof r.url === 'string' ? r.url === url : r.url.test(url)));
}

/** Path of the delivery-receipt route. */
export const statusCallbackPath = '/twilio/status';
export interface StatusPage {
  url: string; app: FastifyInstance;
  /** Every route registered on this port (tests iterate these). */
  routes: ReadonlyArray<{ method: string; url: string }>;
  close(): Promise<void>;
}


const publicStyle = 'body{font:16px/1.5 system-ui,sans-serif;margin:1.5rem;color:#1a1a1a;background:#fafaf7}td,th{border:1px solid #bbb;padding:.3rem .6rem;text-align:left;overflow-wrap:anywhere}th{background:#eee}table{border-collapse:collapse;margin-bottom:1.5rem}nav a{margin-right:1rem}pre{white-space:pre-wrap;overflow-wrap:anywhere}';
const operatorStyle = 'body{font:16px/1.5 system-ui,sans-serif;margin:1.5rem;color:#1a1a1a;background:#fafaf7}table{border-collapse:collapse;margin-bottom:1.5rem}td,th{border:1px solid #bbb;padding:.3rem .6rem;text-align:left;overflow-wrap:anywhere}th{background:#eee}.critical{color:#a00;font-weight:bold}.warning{color:#8a5a00}nav a{margin-right:1rem}pre{white-space:pre-wrap;overflow-wrap:anywhere}';

/**
 * What anyone reaching the public port may see: counts and health, nothing
 * about a person (no names, ids, numbers, message text, addresses).
 */
export async function collectPublicStatus(hub: StatusSource, clock: Clock) {
  const homes = await hub.store.listHomes();
  // Unresolved through the partial index of open alerts: this port is public, and the history grows.
  const alerts = await hub.store.listAlerts({ unresolved: true });
  return {
    now: clock.now(),
    personal: false as const,
    homes: homes.length,
    homesWithoutSignOfLife: homes.filter((h) => hub.engine.lastSignOfLife(h.id) === undefined).length,
    alerts: { critical: alerts.filter((a) => a.severity === 'critical').length, warning: alerts.filter((a) => a.severity !== 'critical').length },
    counters: { broker: hub.broker.stats(), ingest: hub.ingest.stats(), history: hub.history.stats() },
  };
}

/** Collects the full status as plain data (served as JSON and rendered as HTML) — for operators only. */
export async function collectStatus(hub: StatusSource, clock: Clock) {
  const homes = await hub.store.listHomes();
  const unresolved = await hub.store.listAlerts({ unresolved: true });
  const alerts = unresolved.filter((a) => a.status === 'open');
  const acknowledged = unresolved.filter((a) => a.status === 'acknowledged');
  return {
    now: clock.now(),
    personal: true as const,
    homes: homes.map((h) => ({ id: h.id, name: h.name, timezone: h.timezone, lastSignOfLife: hub.engine.lastSignOfLife(h.id) ?? null })),
    alerts: [...alerts, ...acknowledged].map((a) => ({ id: a.id, home: a.homeId, rule: a.rule, severity: a.severity, status: a.status, message: alertMessage(a), openedAt: a.openedAt, repeats: a.repeats })),
    findings: hub.recentFindings().slice(-20).reverse(),
    sms: hub.localTwilio ? hub.localTwilio.messages().slice(-20).reverse() : [],
    counters: { broker: hub.broker.stats(), ingest: hub.ingest.stats(), history: hub.history.stats() },
  };
}

/** The alert's text in both languages, from the finding it was opened for. */
function alertMessage(a: Alert): Localized {
  const m = (a.finding as Partial<Finding> | undefined)?.message;
  return m && typeof m.en === 'string' && typeof m.ja === 'string' ? m : { en: a.message, ja: a.message };
}


export async function startStatusPage(opts: StatusPageOptions): Promise<StatusPage> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  // Security headers here too: CSP without inline script, no framing, nosniff (issue 15).
  await app.register(fastifyHelmet, hookPortHeaders(opts.publicUrl?.startsWith('https:') ?? false));
  const { clock } = opts;
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) {
      if (m === 'HEAD') continue;
      // One list of what this public port serves: anything else is a mistake, refused at start.
      if (!isHubEndpointRoute(m, r.url)) throw new Error(`route ${m} ${r.url} may not be served on the hub endpoints port (dashboards/status-page.ts hubEndpointRoutes)`);
      routes.push({ method: m, url: r.url });
    }
  });
  await app.register(fastifyCookie);
  const isOperator = async (req: FastifyRequest) => opts.isOperatorSession !== undefined && opts.isOperatorSession(req.cookies[sessionCookie]);
  const notStarted = { code: 'MIMAMORI_ERR_UNAVAILABLE', message: 'A dependency is unavailable: the hub is still starting' };

  await app.register(statusCallbackRoute, {
    path: statusCallbackPath,
    notifier: { handleStatusCallback: async (req) => opts.notifier()?.handleStatusCallback(req) ?? { accepted: false } },
    ...(opts.publicUrl ? { publicUrl: new URL(statusCallbackPath, opts.publicUrl).href } : {}),
  });
  if (opts.routes) await opts.routes(app);
  app.get('/api/status', async (req, reply) => {
    const hub = opts.hub();
    if (!hub) return reply.code(503).send(notStarted);
    reply.header('cache-control', 'no-store');
    return (await isOperator(req)) ? collectStatus(hub, clock) : collectPublicStatus(hub, clock);
  });
  app.get('/healthz', async () => ({ ok: opts.hub() !== undefined }));
  // The page refreshes its live region in place (dashboards/client/app.ts), never the whole page (no meta-refresh).
  const client = createClientAssets();
  // The page's own modules only: the web push subscription UI and the service worker belong to the web app's origin.
  for (const name of clientModules.filter((m) => m !== 'push' && m !== 'sw')) {
    app.get(`/static/${name}.js`, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await client.script(name)));
  }
  // Public (this port must be reachable by Twilio): health states and counters only, no personal data.
  app.get('/health', async (_req, reply) => {
    const hub = opts.hub();
    if (!hub) return reply.code(503).send({ ok: false, starting: true });
    const health = hub.health();
    return reply.code(health.ok ? 200 : 503).send(health);
  });
  app.get('/', async (req, reply) => {
    const hub = opts.hub();
    if (!hub) return reply.code(503).send(notStarted);
    const lang = guessLanguage(req.query, req.headers['accept-language']);
    const t = translator(lang);
    reply.header('cache-control', 'no-store');
    if (!(await isOperator(req))) {
      const p = await collectPublicStatus(hub, clock);
      // Like the operator's view: its live region is polled in place (a meta-refresh is critical for axe).
      const publicHtml = html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<title>${t('hubTitle')}</title><meta name="viewport" content="width=device-width,initial-scale=1">
<style>${raw(publicStyle)}</style></head><body data-live-poll="5000">
<nav><a href="?lang=ja">日本語</a><a href="?lang=en">English</a></nav>
<main><h1>${t('hubTitle')}</h1><div id="status-live" data-live-region><p>${t('hubNow')}: ${toLocalIso(p.now, 'Asia/Tokyo').replace('T', ' ').slice(0, 16)}</p>
<table><tr><th>${t('hubHomesCount')}</th><td>${p.homes}</td></tr><tr><th>${t('hubQuiet')}</th><td>${p.homesWithoutSignOfLife}</td></tr>
<tr><th>${t('hubOpenAlerts')}</th><td><span class="critical">${t('severity_critical')} ${p.alerts.critical}</span> · ${t('severity_warning')} ${p.alerts.warning}</td></tr></table>
<p>${t('hubSignInForDetails')}</p>
<h2>${t('hubCounters')}</h2><pre>${JSON.stringify(p.counters, null, 2)}</pre></div></main>
<script type="module" src="/static/app.js"></script></body></html>`;
      return reply.type('text/html; charset=utf-8').send(publicHtml.html);
    }
    const s = await collectStatus(hub, clock);
    const tzOf = new Map(s.homes.map((h) => [h.id, h.timezone]));
    const when = (at: number | null, home?: string) => (at === null ? t('never') : toLocalIso(at, (home && tzOf.get(home)) || 'Asia/Tokyo').replace('T', ' ').slice(0, 16));
    const none = html`<p>${t('hubNone')}</p>`;
    const page = html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<title>${t('hubTitle')}</title><meta name="viewport" content="width=device-width,initial-scale=1">
<style>${raw(operatorStyle)}</style></head><body data-live-poll="5000">
<nav><a href="?lang=ja">日本語</a><a href="?lang=en">English</a></nav>
<main><h1>${t('hubTitle')}</h1><div id="status-live" data-live-region><p>${t('hubNow')}: ${when(s.now)}</p>
<h2>${t('homes')}</h2><table><tr><th>${t('home')}</th><th>${t('lastSign')}</th></tr>
${s.homes.map((h) => html`<tr><td>${h.id} — ${h.name}</td><td>${when(h.lastSignOfLife, h.id)}</td></tr>`)}</table>
<h2>${t('hubOpenAlerts')}</h2>${s.alerts.length === 0 ? none : html`<table><tr><th>${t('home')}</th><th>${t('severity')}</th><th>${t('hubOpened')}</th><th>${t('hubMessage')}</th><th>${t('hubState')}</th></tr>
${s.alerts.map((a) => html`<tr><td>${a.home}</td><td class="${a.severity}">${label(t, 'severity', a.severity)}</td><td>${when(a.openedAt, a.home)}</td><td>${a.message[lang]}</td><td>${label(t, 'alertState', a.status)}</td></tr>`)}</table>`}
<h2>${t('hubFindings')}</h2>${s.findings.length === 0 ? none : html`<table>${s.findings.map((f) => html`<tr><td>${when(f.at, f.home)}</td><td>${f.home}</td><td class="${f.severity}">${label(t, 'severity', f.severity)}</td><td>${label(t, 'findingState', f.state)}</td><td>${f.message[lang]}</td></tr>`)}</table>`}
<h2>${t('hubSms')}</h2>${s.sms.length === 0 ? none : html`<table>${s.sms.map((m) => html`<tr><td>${m.status}</td><td>${m.body}</td></tr>`)}</table>`}
<h2>${t('hubCounters')}</h2><pre>${JSON.stringify(s.counters, null, 2)}</pre></div></main>
<script type="module" src="/static/app.js"></script></body></html>`;
    return reply.type('text/html; charset=utf-8').send(page.html);
  });

  await app.listen({ host: opts.host, port: opts.port }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE' && opts.port !== 0) {
      opts.logger.warn({ port: opts.port }, 'hub endpoints port busy (set MIMAMORI_HOOKS_PORT); using a free port');
      await app.listen({ host: opts.host, port: 0 });
    } else throw err;
  });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { url: `http://${opts.host}:${port}/`, app, routes, close: () => app.close() };
}
