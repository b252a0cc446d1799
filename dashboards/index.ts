/**
 * The web app for families, day-care staff, caregivers, operators and the
 * resident's tablet (issue 4): one Fastify app built by `createWebApp`,
 * server-rendered pages with a little vanilla JS, server-sent events for live
 * updates, and one access hook that enforces who sees what on every route.
 *
 * @example
 * const web = await createWebApp({ store, clock: systemClock, wallClock: systemClock, logger, responder, engine, publishButton, photosDir, totpSeedKey });
 * await web.listen('127.0.0.1', 0);
 */
import { mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import fastifyHelmet from '@fastify/helmet';
import { z } from 'zod';
import type { Clock, WallClock } from '../core/clock.js';
import { errorCatalogue, isMimamoriError, MimamoriError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { LoginThrottlePort } from '../core/login-throttle.js';
import type { Store } from '../core/store.js';
import type { RuleEngine } from '../rules/index.js';
import type { AlertResponder } from '../notifier/index.js';
import { createAccessRules, scopeResolvers, type Access } from './access.js';
import { createAuth, sameToken, sessionCookie } from './auth.js';
import { createEditorPass } from './editor-pass.js';
import type { EscalationPolicies, HistoryQuery, NotificationSettings, ReferenceInfo, RouteModule, WebContext } from './context.js';
import { guessLanguage, messages, translator, type MessageKey } from './i18n.js';
import { html, page } from './html.js';
import { securityHeaders } from './security-headers.js';
import { createLocalLiveFeed, type LiveFeed } from './live-feed.js';
import { accountRoutes } from './routes-account.js';
import { assetRoutes } from './routes-assets.js';
import { familyRoutes } from './routes-family.js';
import { staffRoutes } from './routes-staff.js';
import { caregiverRoutes } from './routes-caregiver.js';
import { operatorRoutes } from './routes-operator.js';
import { fleetRoutes } from './routes-fleet.js';
// Operator account management, dead letters (issue 14, operator lane)
import { operatorAccountRoutes } from './routes-operator-accounts.js';
import { deadLetterRoutes } from './routes-operator-dead-letters.js';
import { facilityRoutes } from './routes-operator-facilities.js';
import { escalationFormRoutes } from './routes-operator-escalation.js';
import { passwordPath, passwordRoutes } from './routes-password.js';
import { onboardingRoutes } from './routes-onboarding.js';
import { tabletRoutes } from './routes-tablet.js';
import { liveRoutes } from './routes-live.js';
import { contactRoutes } from './routes-contacts.js';
import { referenceRefusals } from './routes-reference.js';
import { localWhen } from './views.js';
import { createPhotoProcessor } from './photos.js';
import { notificationSettingsRoutes } from './routes-notification-settings.js';
import { reportRoutes } from './routes-reports.js';
import { createMonthlyReports } from './monthly-reports.js';
// Video check-ins (issue 5)
import { createVideo, type Video, type VideoOptions } from './video.js';

export type { LiveEvent, LiveFeed } from './live-feed.js';
export type { HistoryQuery, ActivityPoint, ActivityCount, EscalationPolicies, NotificationSettings, ReferenceInfo } from './context.js';
export { activityBucketMs } from './context.js';
export { createLocalLiveFeed } from './live-feed.js';
// Video check-ins (issue 5)
export type { VideoOptions, Video, CallQuality, CheckinReminder, VideoIceConfig } from './video.js';
export { missedCheckinRule, turnCredentials, createLocalVideoExchange, createMemoryVideoNetwork, videoEnvelope } from './video.js';
export type { PeerRef, VideoEnvelope, VideoExchange } from './video.js';
export { startStatusPage, statusCallbackPath, type StatusPage, type StatusSource } from './status-page.js';
export { createAuth, signInThrottleSettings } from './auth.js';
export { createEditorPass, editorPassMs, type EditorPass } from './editor-pass.js';
export { createTotpVerifier, newTotpSecret, sealPlaintextSeeds, seedKeyFrom, totpCode } from './totp.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { createMonthlyReports } from './monthly-reports.js';
export { collectContactSheet, renderContactSheet, type SheetSource } from './contact-sheet.js';
export { createFacility, enrollInFacility, knownFacility, leaveFacility } from './facilities.js';

export interface WebAppOptions {
  store: Store;
  /** The hub's clock: simulated (sped-up) time in the demo; the alerts and readings shown count in it. */
  clock: Clock;
  /**
   * Wall-clock time for what people live in: sign-in lockouts, sessions, TOTP,
   * video ring timeouts and check-in schedules (`systemClock`; a
   * `VirtualWallClock` in tests).
   */
  wallClock: WallClock;
  logger: Logger;
  /** Acknowledge / on my way / arrived / resolve go through here only. */
  responder: AlertResponder;
  engine: Pick<RuleEngine, 'setAway' | 'lastSignOfLife' | 'awayUntil'>;
  /** Turns the tablet's buttons into real button events (the hub publishes them). */
  publishButton(home: string, press: 'help' | 'ok'): Promise<void>;
  /** The hub's live bus (alert opened / acknowledged / …). */
  live?: LiveFeed;
  history?: HistoryQuery;
  escalation?: EscalationPolicies;
  /** Each person's own notification settings on /account/notifications (issue 17). */
  notifications?: NotificationSettings;
  /** Where resized news photos are kept. */
  photosDir: string;
  /** Largest photo upload, bytes (default 8 MiB). */
  maxPhotoBytes?: number;
  /** Largest photo, pixels (default 40 MP; refused from its header). Photos are decoded one at a time. */
  maxPhotoPixels?: number;
  /** A TrueType font with Japanese glyphs for the PDF news sheet. */
  fontPath?: string;
  /** Where monthly reports are kept (default: `reports` beside `photosDir`). */
  reportsDir?: string;
  /** Adds `Secure` to cookies (set it whenever the app is served over HTTPS). */
  secureCookies?: boolean;
  /** AES-256 key the TOTP seeds are sealed with at rest (dashboards/totp.ts `seedKeyFrom`). */
  totpSeedKey: Buffer;
  /** Sign-in attempts per client address per minute (default 20). */
  signInPerMinute?: number;
  /** The sign-in throttle shared by a cluster's nodes (cluster/login-throttle-redis.ts); default this app's own, in memory. */
  loginThrottle?: LoginThrottlePort;
  /** Video check-ins (issue 5): ICE servers, timings and the hub's callbacks. */
  video?: VideoOptions;
  /**
   * Serve a backup read-only (the reference hub, backup/reference.ts): every
   * page carries a banner naming the backup; every request other than GET/HEAD
   * — except signing in and out, `sessionRoutes` — is refused with 405 before
   * its body is read; no video calls or check-in schedule; every successful
   * read by a signed-in person is access-logged (no five-minute thinning).
   * The store should be `readOnlyStore(...)`, which refuses writes itself too.
   */
  readOnly?: ReferenceInfo;
  /**
   * Where the hub serves the Node-RED editor (e.g. `/flows`), when it does: the
   * operator page then opens it with a pass bound to the operator's session
   * (editor-pass.ts), so the password and code are not typed a second time.
   */
  flowsEditorPath?: string;
}

/**
 * The only requests other than GET/HEAD a read-only app serves: signing in
 * (password, TOTP) and out. They write nothing but the reference hub's own
 * session and access-log store.
 */
export const sessionRoutes: readonly string[] = ['POST /signin', 'POST /signin/totp', 'POST /signout'];

export interface WebApp {
  /** The Fastify instance (use `inject()` in tests). */
  app: FastifyInstance;
  /** Every registered route with its access declaration (tests iterate these). */
  routes: ReadonlyArray<{ method: string; url: string; access: Access }>;
  /** Video check-ins (issue 5): the schedule and the call registry. */
  video: Video;
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

const optionsSchema = z.object({
  photosDir: z.string().min(1),
  reportsDir: z.string().min(1).optional(),
  maxPhotoBytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
  maxPhotoPixels: z.number().int().min(1).max(268_402_689).optional(),
  secureCookies: z.boolean().optional(),
  signInPerMinute: z.number().int().min(1).optional(),
  fontPath: z.string().optional(),
  flowsEditorPath: z.string().regex(/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/, 'a path such as /flows').optional(),
});

const fontCandidates = ['/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf', '/usr/share/fonts/truetype/fonts-japanese-gothic.ttf'];

/** A TrueType font with Japanese glyphs for PDFs (Debian's fonts-ipafont-gothic), if installed. */
export function findJapaneseFont(): string | undefined {
  return fontCandidates.find((f) => existsSync(f));
}

/** Maps framework errors (body limits, multipart limits) onto the catalogue. */
function catalogueCode(err: unknown): { code: ErrorCode; detail?: string } {
  if (isMimamoriError(err)) return { code: err.code };
  const code = (err as { code?: string }).code ?? '';
  if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return { code: 'MIMAMORI_ERR_PAYLOAD_TOO_LARGE' };
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return { code: 'MIMAMORI_ERR_UNSUPPORTED_MEDIA' };
  if (code.startsWith('FST_ERR_CTP') || code === 'FST_ERR_VALIDATION') return { code: 'MIMAMORI_ERR_INVALID_INPUT' };
  return { code: 'MIMAMORI_ERR_UNAVAILABLE' };
}

const friendly: Partial<Record<ErrorCode, MessageKey>> = {
  MIMAMORI_ERR_INVALID_INPUT: 'invalidInput', MIMAMORI_ERR_FORBIDDEN: 'forbidden', MIMAMORI_ERR_NOT_FOUND: 'notFound',
  MIMAMORI_ERR_CSRF: 'csrf', MIMAMORI_ERR_LOCKED_OUT: 'lockedOut', MIMAMORI_ERR_RATE_LIMITED: 'rateLimited',
  MIMAMORI_ERR_PAYLOAD_TOO_LARGE: 'tooLarge', MIMAMORI_ERR_UNSUPPORTED_MEDIA: 'notImage', MIMAMORI_ERR_IMAGE_TOO_LARGE: 'imageTooLarge', MIMAMORI_ERR_UNAUTHENTICATED: 'badCredentials',
  MIMAMORI_ERR_READ_ONLY: 'readOnlyRefused',
};

/** The banner on every page of the reference hub, in both languages. */
function referenceBanner(r: ReferenceInfo): string {
  const when = localWhen(r.backupAt, r.timezone ?? 'Asia/Tokyo');
  return html`<div class="error reference-banner" role="note" id="reference-banner"><p>参照専用 — バックアップ ${when} の内容です / Reference copy — read-only, from the backup of ${when}</p>
<p><a href="/operator/contacts">緊急連絡先一覧 / Emergency contact list</a> · <a href="/operator/contacts.pdf">PDF</a></p></div>`.html;
}

const wantsHtml = (req: FastifyRequest) => /text\/html/.test(req.headers.accept ?? '') && !req.url.includes('.json');

/** Builds the web app; nothing listens until `listen`. */
export async function createWebApp(opts: WebAppOptions): Promise<WebApp> {
  const checked = optionsSchema.safeParse(opts);
  if (!checked.success) throw new MimamoriError('MIMAMORI_ERR_CONFIG', checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  mkdirSync(opts.photosDir, { recursive: true });
  const maxPhotoBytes = opts.maxPhotoBytes ?? 8 * 1024 * 1024;
  const { store, clock, wallClock, logger } = opts;

  const local = createLocalLiveFeed();
  const external = opts.live;
  const live: LiveFeed = {
    subscribe(home, fn) {
      const offs = [local.subscribe(home, fn)];
      if (external) offs.push(external.subscribe(home, fn));
      return () => { for (const off of offs) off(); };
    },
  };
  const fontPath = opts.fontPath ?? findJapaneseFont();
  const ctx: WebContext = {
    store, clock, wallClock, logger, responder: opts.responder, engine: opts.engine, history: opts.history, escalation: opts.escalation, notifications: opts.notifications,
    publishButton: opts.publishButton, access: createAccessRules(store),
    auth: createAuth({ store, wallClock, rateLimit: { perMinute: opts.signInPerMinute ?? 20 }, totpSeedKey: opts.totpSeedKey, ...(opts.loginThrottle ? { loginThrottle: opts.loginThrottle } : {}) }),
    local, live, photosDir: opts.photosDir, maxPhotoBytes,
    photos: createPhotoProcessor(opts.maxPhotoPixels !== undefined ? { maxPixels: opts.maxPhotoPixels } : {}),
    fontPath,
    reports: createMonthlyReports({ store, history: opts.history, dir: opts.reportsDir ?? join(dirname(opts.photosDir), 'reports'), fontPath, clock }),
    secureCookies: opts.secureCookies ?? false,
    ...(opts.readOnly ? { reference: opts.readOnly } : {}),
    ...(opts.flowsEditorPath && !opts.readOnly ? { flowsEditor: { path: opts.flowsEditorPath, pass: createEditorPass({ store, wallClock, key: opts.totpSeedKey }) } } : {}),
  };
  const readOnly = opts.readOnly;

  const app = Fastify({ logger: false, bodyLimit: 256 * 1024, trustProxy: false });
  const routes: Array<{ method: string; url: string; access: Access }> = [];
  app.addHook('onRoute', (r) => {
    const access = r.config?.access;
    // One mechanism for every route: a route without an access declaration is a bug.
    if (!access) throw new Error(`route ${String(r.method)} ${r.url} has no access declaration`);
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url, access });
  });
  app.decorateRequest('viewer', null);
  app.decorateRequest('scope', null);
  app.decorateRequest('accessed', null as unknown as Set<string>);
  await app.register(fastifyHelmet, securityHeaders(ctx.secureCookies));
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
  await app.register(fastifyMultipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: maxPhotoBytes, files: 6, fields: 20, fieldSize: 64 * 1024, parts: 30 } });

  // 0. A reference copy refuses every write before anything else (body, session, CSRF) is looked at.
  if (readOnly) {
    const banner = referenceBanner(readOnly);
    app.addHook('onRequest', async (req, reply) => {
      if (req.method === 'GET' || req.method === 'HEAD' || sessionRoutes.includes(`${req.method} ${req.routeOptions.url ?? ''}`)) return;
      reply.header('allow', 'GET, HEAD');
      throw new MimamoriError('MIMAMORI_ERR_READ_ONLY', `${req.method} ${req.routeOptions.url ?? req.url}`);
    });
    app.addHook('onSend', async (_req, reply, payload) => {
      if (typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
      return payload.replace(/<body([^>]*)>/, (m) => `${m}${banner}`);
    });
  }

  // 1. Who is asking (before any body is read).
  app.addHook('onRequest', async (req, reply) => {
    req.accessed = new Set();
    const access = req.routeOptions.config?.access;
    if (!access || access.roles === 'public') return;
    const found = await ctx.auth.sessionFor(req.cookies[sessionCookie]);
    if (!found) {
      if (req.method === 'GET' && wantsHtml(req)) return reply.redirect(`/signin?next=${encodeURIComponent(req.url)}`, 303);
      throw new MimamoriError('MIMAMORI_ERR_UNAUTHENTICATED');
    }
    if (!found.session.mfaOk && !access.beforeSecondFactor) {
      if (req.method === 'GET' && wantsHtml(req)) return reply.redirect('/signin/totp', 303);
      throw new MimamoriError('MIMAMORI_ERR_UNAUTHENTICATED', 'second factor required');
    }
    // A temporary password an operator set: the person chooses their own before anything else (docs/accounts.md).
    if (found.account.mustChangePassword && !access.duringPasswordChange && !access.beforeSecondFactor) {
      if (req.method === 'GET' && wantsHtml(req)) return reply.redirect(passwordPath, 303);
      throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN', 'a new password must be chosen first');
    }
    if (access.roles !== 'any' && !access.roles.includes(found.account.role)) throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN');
    req.viewer = found;
  });

  // 2. CSRF on every state-changing request, then the home the path is about.
  app.addHook('preHandler', async (req) => {
    const access = req.routeOptions.config?.access;
    if (!access || access.roles === 'public') return;
    const viewer = req.viewer!;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const body = req.body as Record<string, unknown> | undefined;
      const token = (req.headers['x-csrf-token'] as string | undefined) ?? (typeof body?._csrf === 'string' ? body._csrf : undefined);
      if (!sameToken(token, viewer.session.csrf)) throw new MimamoriError('MIMAMORI_ERR_CSRF');
    }
    const params = (req.params ?? {}) as Record<string, string>;
    for (const [name, resolve] of Object.entries(scopeResolvers)) {
      const value = params[name];
      if (value === undefined) continue;
      const homeId = await resolve(store, value);
      if (!homeId) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
      const rel = await ctx.access.relation(viewer.account, homeId);
      if (!rel || !ctx.access.allows(rel, access.need ?? 'coarse')) throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN');
      if (req.scope && req.scope.homeId !== rel.homeId) throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN');
      req.scope = rel;
      req.accessed.add(rel.homeId);
    }
  });

  // 3. The access log: every successful read of a home's personal data.
  const lastLogged = new Map<string, number>();
  app.addHook('onResponse', async (req, reply) => {
    const access = req.routeOptions.config?.access;
    if (readOnly) {
      // The reference hub logs every read of a signed-in person, page by page, home by home.
      if (!req.viewer || reply.statusCode >= 400 || (req.method !== 'GET' && req.method !== 'HEAD')) return;
      const what = `reference copy: ${req.method} ${req.url}`.slice(0, 500);
      for (const homeId of req.accessed.size > 0 ? req.accessed : ['']) await store.recordAccess({ at: clock.now(), viewerId: req.viewer.account.id, homeId, what });
      return;
    }
    if (!access?.log || !req.viewer || reply.statusCode >= 400) return;
    const now = clock.now();
    for (const homeId of req.accessed) {
      // Her own data is not logged; an operator is never the resident (and asking would read every home once per home seen).
      if (req.viewer.account.role !== 'operator' && (await ctx.access.relation(req.viewer.account, homeId))?.kind === 'resident') continue;
      // Live pages refresh themselves; one entry per viewer, home and page per five minutes.
      const key = `${req.viewer.account.id}|${homeId}|${access.log}`;
      if ((lastLogged.get(key) ?? -Infinity) > now - 5 * 60_000) continue;
      lastLogged.set(key, now);
      if (lastLogged.size > 50_000) lastLogged.clear();
      await store.recordAccess({ at: now, viewerId: req.viewer.account.id, homeId, what: access.log });
    }
  });

  app.setErrorHandler(async (err, req, reply) => {
    const { code } = catalogueCode(err);
    const entry = errorCatalogue[code];
    if (code === 'MIMAMORI_ERR_UNAVAILABLE') logger.error({ err, url: req.routeOptions.url }, 'web request failed');
    const lang = req.viewer?.account.language ?? guessLanguage(req.query, req.headers['accept-language']);
    const t = translator(lang);
    const key = friendly[code];
    const message = key ? t(key, { max: Math.round(maxPhotoBytes / 1024 / 1024), megapixels: ctx.photos.maxPixels / 1e6 }) : entry.message;
    // A route may name what to tell the person (`details.userMessage`, a catalogue key): shown in their language instead of the technical detail.
    const said = isMimamoriError(err) ? (err.details as { userMessage?: unknown } | undefined)?.userMessage : undefined;
    const detail = typeof said === 'string' && said in messages ? t(said as MessageKey) : isMimamoriError(err) ? err.message : entry.message;
    reply.code(entry.status);
    if (wantsHtml(req)) {
      const body = html`<p class="error" role="alert">${message}</p>${req.method !== 'GET' ? html`<p>${t('nothingChanged')}</p>` : ''}<p class="muted">${detail}</p><p><a href="/">${t('appName')}</a></p>`;
      return reply.type('text/html; charset=utf-8').send(page({ lang, title: message, body }));
    }
    return reply.send({ code, message: detail, userMessage: message });
  });
  app.setNotFoundHandler({}, async (req, reply) => {
    reply.code(404);
    return wantsHtml(req)
      ? reply.type('text/html; charset=utf-8').send(page({ lang: guessLanguage(req.query, req.headers['accept-language']), title: translator('ja')('notFound'), body: html`<p><a href="/">/</a></p>` }))
      : reply.send({ code: 'MIMAMORI_ERR_NOT_FOUND', message: errorCatalogue.MIMAMORI_ERR_NOT_FOUND.message });
  });

  const modules: RouteModule[] = [assetRoutes, accountRoutes, familyRoutes, staffRoutes, caregiverRoutes, operatorRoutes, fleetRoutes, tabletRoutes, liveRoutes, contactRoutes, notificationSettingsRoutes, onboardingRoutes, reportRoutes, operatorAccountRoutes, deadLetterRoutes, escalationFormRoutes, passwordRoutes, facilityRoutes];
  if (readOnly) modules.push(referenceRefusals);
  for (const m of modules) m(app, ctx);
  const video = await createVideo(app, ctx, opts.video); // video check-ins (issue 5)
  await app.ready();

  return {
    app,
    routes,
    video,
    async listen(host, port) {
      await app.listen({ host, port });
      const addr = app.server.address();
      return `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}`;
    },
    close: () => app.close(),
  };
}
