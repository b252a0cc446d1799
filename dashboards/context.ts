/**
 * What every route module of the web app receives, and the request fields the
 * access hook fills in.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock, WallClock } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Language, Store, WebAccount, WebSession } from '../core/store.js';
import type { RuleEngine } from '../rules/index.js';
import type { AlertResponder } from '../notifier/index.js';
import type { Access, AccessRules, Relation } from './access.js';
import type { Auth } from './auth.js';
import type { EditorPass } from './editor-pass.js';
import { translator } from './i18n.js';
import type { LiveFeed, LocalLiveFeed } from './live-feed.js';
import type { PhotoProcessor } from './photos.js';
import type { MonthlyReports } from './monthly-reports.js';

declare module 'fastify' {
  interface FastifyContextConfig { access?: Access }
  interface FastifyRequest {
    viewer: Viewer | null;
    /** The relation to the home named in the path, when there is one. */
    scope: Relation | null;
    /** Homes whose personal data this response shows (for the access log). */
    accessed: Set<string>;
  }
}

export interface Viewer { account: WebAccount; session: WebSession }

/**
 * One reading of the home's history, for charts and the day's timeline.
 * `active`: the sensor went active (motion seen, door opened, kettle on,
 * water or gas flowing) or, when false, returned to rest; absent for kinds
 * without such a state.
 */
export interface ActivityPoint { at: number; kind: string; device?: string; active?: boolean }
/** How many events of a home fell in one quarter hour starting at `at`. */
export interface ActivityCount { at: number; count: number }
/**
 * Quarter hours: every time zone's offset is a whole number of them, so each
 * bucket lies in one local hour and one local day wherever the home is.
 */
export const activityBucketMs = 15 * 60_000;
/** History the charts read (InfluxDB in the hub; anything in tests). */
export interface HistoryQuery {
  /** The events themselves, oldest first (capped: for a timeline, not for counting). */
  activity(homeId: string, from: number, to: number): Promise<ActivityPoint[]>;
  /** Events in [from, to) counted per `activityBucketMs` bucket (empty buckets left out): every event counts. */
  activityCounts(homeId: string, from: number, to: number): Promise<ActivityCount[]>;
}

/** Where escalation policies live (the notifier); the editor validates through it. */
export interface EscalationPolicies {
  get(homeId: string): Promise<unknown>;
  /** Validates and saves; returns human-readable errors and saves nothing when there are any. */
  set(homeId: string, policy: unknown, actor: string): Promise<{ errors: string[] }>;
}

/** A person's own notification settings (the notifier, through the hub): issue 17. */
export interface NotificationSettings {
  /** The channels this hub has (what a person may choose). */
  channelNames(): string[];
  /** Validates, saves and audits (actor `account:<id>`); errors are readable, nothing saved when there are any. */
  setPreferences(contactId: string, prefs: unknown, actor: string): Promise<{ errors: string[] }>;
  /** The channels that reach the person, in order: for pages (their order first) and for notices and follow-ups. */
  reach(contactId: string): Promise<{ own: string[]; followUp: string[] }>;
  /** Sends a short test message on one channel, audited. */
  sendTest(contactId: string, channel: string, actor: string): Promise<{ status: string; error?: string }>;
  /** The language of every message to the person from now on, audited. */
  setLanguage(contactId: string, language: Language, actor: string): Promise<void>;
  /** A one-time code that links a LINE account to the contact. */
  lineLinkCode(contactId: string): Promise<{ code: string; expiresAt: number }>;
  /** Web push, when the hub has it (docs/channels.md). */
  push?: PushSettings;
  /** An operator's "retry now" of a dead letter: the notification sent once more on its channel, audited (notifier/direct-send.ts). */
  retryNotification?(alertId: string, notificationId: string, actor: string): Promise<{ status: string; error?: string }>;
}

/** Web push through the notifier: the VAPID key browsers subscribe with, per-device subscriptions, and the notifications' action buttons. */
export interface PushSettings {
  /** The hub's VAPID public key (base64url), for `pushManager.subscribe({ applicationServerKey })`. */
  publicKey: string;
  /** Keeps a device's subscription (as `PushSubscription.toJSON()` gives it); readable errors, nothing saved when there are any. */
  subscribe(contactId: string, subscription: unknown, label: string | undefined, actor: string): Promise<{ errors: string[] }>;
  /** Forgets the device with this endpoint; how many subscriptions were removed. */
  unsubscribe(contactId: string, endpoint: string, actor: string): Promise<number>;
  /** A notification's button: the signed token and `ack` / `omw` (notifier/push-action.ts). */
  action(token: string, action: 'ack' | 'omw'): Promise<{ status: number; ok: boolean; message: string; reason?: string }>;
}

export interface WebContext {
  /** Absent when the web app runs without a notifier (tests of other pages). */
  notifications?: NotificationSettings | undefined;
  store: Store;
  /** The hub's clock (sped-up simulated time in the demo): alerts, readings, news. */
  clock: Clock;
  /** Wall-clock time: sign-in, sessions, TOTP, video calls and check-in schedules. */
  wallClock: WallClock;
  logger: Logger;
  responder: AlertResponder;
  engine: Pick<RuleEngine, 'setAway' | 'lastSignOfLife' | 'awayUntil'>;
  history: HistoryQuery | undefined;
  escalation: EscalationPolicies | undefined;
  publishButton(home: string, press: 'help' | 'ok'): Promise<void>;
  access: AccessRules;
  auth: Auth;
  /** The web app's own changes; merged with the hub's feed for subscribers. */
  local: LocalLiveFeed;
  live: LiveFeed;
  photosDir: string;
  maxPhotoBytes: number;
  /** News photos are decoded here: a pixel limit and a queue of their own (photos.ts). */
  photos: PhotoProcessor;
  fontPath: string | undefined;
  /** Monthly reports, made on demand and kept (monthly-reports.ts). */
  reports: MonthlyReports;
  secureCookies: boolean;
  /** Set when the app serves a backup read-only (the reference hub, backup/reference.ts). */
  reference?: ReferenceInfo;
  /** The Node-RED editor's path and the pass into it, when the hub serves it (editor-pass.ts). */
  flowsEditor?: { path: string; pass: EditorPass };
}

/** What the read-only reference hub serves: which backup, taken when, by which hub. */
export interface ReferenceInfo {
  backupId: string;
  /** When the backup was taken (ms). */
  backupAt: number;
  /** The host name of the hub that took it, when the archive says. */
  hub?: string;
  /** Time zone the banner's date is shown in (default Asia/Tokyo). */
  timezone?: string;
}

export type RouteModule = (app: FastifyInstance, ctx: WebContext) => void;

/** The signed-in viewer; the access hook guarantees one on non-public routes. */
export function viewerOf(req: FastifyRequest): Viewer {
  if (!req.viewer) throw new MimamoriError('MIMAMORI_ERR_UNAUTHENTICATED');
  return req.viewer;
}

/** The relation the access hook resolved for a home-scoped route. */
export function scopeOf(req: FastifyRequest): Relation {
  if (!req.scope) throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN');
  return req.scope;
}

export function langOf(req: FastifyRequest): Language {
  return req.viewer?.account.language ?? 'ja';
}

export const tOf = (req: FastifyRequest) => translator(langOf(req));

/** Validates input once at the edge; a failure is a 400 with the fields named. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', r.error.issues.map((i) => `${i.path.join('.') || '(form)'}: ${i.message}`).join('; '));
  return r.data;
}

/** After a form post: back to where the person came from (same-origin paths only). */
export function backTo(req: FastifyRequest, reply: FastifyReply, fallback: string, notice?: string) {
  const ref = req.headers.referer;
  let target = fallback;
  if (ref) {
    try {
      const u = new URL(ref);
      if (u.host === req.headers.host) target = u.pathname;
    } catch { /* ignore a malformed referer */ }
  }
  return reply.redirect(notice ? `${target}?notice=${encodeURIComponent(notice)}` : target, 303);
}

/** Publishes a change the web app itself made (news, attendance, responses) to open pages. */
export function publishLocal(ctx: WebContext, e: { type: string; homeId: string; alertId?: string }): void {
  ctx.local.publish({ ...e, at: ctx.clock.now() });
}

/** Form fields as strings (urlencoded or multipart key-values), without the CSRF token. */
export function formOf(req: FastifyRequest): Record<string, unknown> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const { _csrf: _ignored, ...rest } = body;
  return rest;
}
