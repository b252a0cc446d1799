/**
 * Signed one-time acknowledgement links for e-mail: `https://hub/ack/<token>`
 * where the token carries the alert, the person, their language, an expiry
 * and a nonce, signed with HMAC-SHA256 under a secret from configuration.
 * Opening the link (GET) only shows a page with the buttons; pressing one
 * (POST) acts. Mail scanners and link previews fetch GET links by
 * themselves, so a GET must never acknowledge an alert on someone's behalf.
 * A token works once: its nonce is recorded (in the audit log, which is
 * durable) when used, and a second use is refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../core/logger.js';
import type { Language, Store } from '../core/store.js';
import { MimamoriError } from '../core/errors.js';
import { html, raw, type Html } from '../core/html.js';
import type { AlertResponder } from './responder.js';

export interface AckLinkClaims {
  alertId: string;
  contactId?: string;
  language: Language;
  /** Clock ms after which the link no longer works. */
  expiresAt: number;
  /** Random, one per link: what "used once" is recorded against. */
  nonce: string;
}

export type AckLinkCheck =
  | { ok: true; claims: AckLinkClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
/**
 * What a token is for: `ack-link` (an e-mail link) or `push-action` (a web push
 * notification's buttons). The purpose is in the MAC's domain separation, so a
 * token made for one is refused by the other.
 */
export type AckTokenPurpose = 'ack-link' | 'push-action';
const mac = (secret: string, payload: string, purpose: AckTokenPurpose): Buffer => createHmac('sha256', secret).update(`mimamori-${purpose}.v1.${payload}`).digest();

/**
 * A token for one person and one alert.
 *
 * @example
 * const token = signAckLink(secret, { alertId, contactId, language: 'ja', expiresAt: clock.now() + 24 * 3600_000 });
 * const url = `https://hub.example/ack/${token}`;
 */
export function signAckLink(secret: string, claims: Omit<AckLinkClaims, 'nonce'> & { nonce?: string }, purpose: AckTokenPurpose = 'ack-link'): string {
  if (secret.length < 16) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'the ack-link secret must be at least 16 characters');
  const body: Record<string, unknown> = { a: claims.alertId, l: claims.language, e: claims.expiresAt, n: claims.nonce ?? randomBytes(12).toString('base64url') };
  if (claims.contactId) body.c = claims.contactId;
  const payload = b64(JSON.stringify(body));
  return `${payload}.${b64(mac(secret, payload, purpose))}`;
}

/** Checks a token's signature and expiry (not whether it was used: that is the ledger's job). */
export function verifyAckLink(secret: string, token: string, now: number, purpose: AckTokenPurpose = 'ack-link'): AckLinkCheck {
  const m = /^([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m?.[1] || !m[2]) return { ok: false, reason: 'malformed' };
  const want = mac(secret, m[1], purpose);
  const got = Buffer.from(m[2], 'base64url');
  // 43 characters carry 258 bits for 256: the last character's two spare bits must be the canonical zeros,
  // or four spellings of one signature would all pass (an "altered" token that still acknowledges).
  if (got.length !== want.length || b64(got) !== m[2] || !timingSafeEqual(got, want)) return { ok: false, reason: 'bad_signature' };
  let body: Record<string, unknown>;
  try { body = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as Record<string, unknown>; } catch { return { ok: false, reason: 'malformed' }; }
  const { a, c, l, e, n } = body;
  if (typeof a !== 'string' || (l !== 'ja' && l !== 'en') || typeof e !== 'number' || typeof n !== 'string' || (c !== undefined && typeof c !== 'string')) return { ok: false, reason: 'malformed' };
  if (now > e) return { ok: false, reason: 'expired' };
  const claims: AckLinkClaims = { alertId: a, language: l, expiresAt: e, nonce: n };
  if (c !== undefined) claims.contactId = c;
  return { ok: true, claims };
}

/** Remembers which links were used. `claim` is true the first time only. */
export interface AckLinkLedger {
  claim(nonce: string, alertId: string, at: number): Promise<boolean>;
}

/**
 * A ledger kept in the store's audit log (`action: 'ack-link.used'`,
 * `subject: 'ack-link:<nonce>'`): durable across restarts, and visible in
 * the audit trail. Claims in this process are serialised so two clicks at
 * once cannot both win.
 */
export function auditLedger(store: Pick<Store, 'audit' | 'listAudit'>): AckLinkLedger {
  const inFlight = new Set<string>();
  return {
    async claim(nonce, alertId, at) {
      const subject = `ack-link:${nonce}`;
      if (inFlight.has(subject)) return false;
      inFlight.add(subject);
      try {
        if ((await store.listAudit(subject)).some((r) => r.action === 'ack-link.used')) return false;
        await store.audit({ at, actor: 'ack-link', action: 'ack-link.used', subject, detail: { alertId } });
        return true;
      } finally {
        inFlight.delete(subject);
      }
    },
  };
}

export interface AckLinkRouteOptions {
  secret: string;
  responder: AlertResponder;
  ledger: AckLinkLedger;
  clock: SchedulerLike;
  logger: Logger;
  /** Route prefix; the routes are `GET` and `POST {path}/:token`. Default `/ack`. */
  path?: string;
}

const pageWords: Record<Language, {
  title: string; ask: string; ack: string; omw: string; done: string; onWay: string; used: string; expired: string; invalid: string; failed: string;
}> = {
  ja: {
    title: '見守り: お知らせの確認', ask: 'このお知らせを確認しましたか？', ack: '確認しました（対応します）', omw: '今から向かいます',
    done: '確認を受け付けました。ほかのご家族にも、あなたが対応することをお知らせします。', onWay: '向かっていただけることを受け付けました。お気をつけて。',
    used: 'このリンクはすでに使われています。', expired: 'このリンクは有効期限が切れています。', invalid: 'このリンクは無効です。', failed: '受け付けられませんでした。すでに解決済みの可能性があります。',
  },
  en: {
    title: 'Mimamori: alert', ask: 'Have you seen this alert?', ack: 'I have seen it (I am handling it)', omw: 'I am on my way',
    done: 'Thank you, your acknowledgement is recorded. Everyone already told will hear that you are handling it.', onWay: 'Thank you, we have noted that you are on your way. Travel safely.',
    used: 'This link has already been used.', expired: 'This link has expired.', invalid: 'This link is not valid.', failed: 'That could not be recorded; the alert may already be resolved.',
  },
};

function page(reply: FastifyReply, status: number, language: Language, inner: Html): FastifyReply {
  const w = pageWords[language];
  const style = 'body{font:1.2rem/1.6 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}button{font-size:1.2rem;padding:.8rem 1.2rem;margin:.4rem 0;width:100%}';
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(
    html`<!doctype html><html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${w.title}</title><style>${raw(style)}</style></head><body><h1>${w.title}</h1>${inner}</body></html>`.html,
  );
}

/**
 * `GET {path}/:token` shows the question with two buttons; `POST {path}/:token`
 * (form field `action=ack|omw`) acts once through the responder.
 *
 * @example
 * await app.register(ackLinkRoutes, { secret, responder, ledger: auditLedger(store), clock, logger });
 */
export const ackLinkRoutes: FastifyPluginAsync<AckLinkRouteOptions> = async (app: FastifyInstance, opts) => {
  const path = (opts.path ?? '/ack').replace(/\/+$/, '');
  const log = opts.logger.child({ component: 'ack-link' });
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
  }

  const refuse = (reply: FastifyReply, check: Extract<AckLinkCheck, { ok: false }>) => {
    log.warn({ reason: check.reason }, 'refused an acknowledgement link');
    const w = pageWords.ja;
    const e = pageWords.en;
    // We cannot trust the token's language field when the token is bad: say it in both.
    const text = check.reason === 'expired' ? `${w.expired} / ${e.expired}` : `${w.invalid} / ${e.invalid}`;
    return page(reply, check.reason === 'expired' ? 410 : 403, 'ja', html`<p>${text}</p>`);
  };

  // A wildcard, not `:token`: tokens are longer than fastify's default maxParamLength (100).
  app.get<{ Params: { '*': string } }>(`${path}/*`, async (req, reply) => {
    const token = req.params['*'];
    const check = verifyAckLink(opts.secret, token, opts.clock.now());
    if (!check.ok) return refuse(reply, check);
    const w = pageWords[check.claims.language];
    const action = `${path}/${encodeURIComponent(token)}`;
    return page(reply, 200, check.claims.language, html`<p>${w.ask}</p><form method="post" action="${action}"><button name="action" value="ack">${w.ack}</button><button name="action" value="omw">${w.omw}</button></form>`);
  });

  app.post<{ Params: { '*': string }; Body: Record<string, string> | undefined }>(`${path}/*`, async (req, reply) => {
    const now = opts.clock.now();
    const check = verifyAckLink(opts.secret, req.params['*'], now);
    if (!check.ok) return refuse(reply, check);
    const { claims } = check;
    const w = pageWords[claims.language];
    const onMyWay = req.body?.action === 'omw';
    if (!(await opts.ledger.claim(claims.nonce, claims.alertId, now))) {
      log.warn({ alertId: claims.alertId }, 'refused a used acknowledgement link');
      return page(reply, 409, claims.language, html`<p>${w.used}</p>`);
    }
    const input = claims.contactId ? { alertId: claims.alertId, contactId: claims.contactId, via: 'web-link' as const } : { alertId: claims.alertId, via: 'web-link' as const };
    const result = onMyWay ? await opts.responder.onMyWay(input) : await opts.responder.acknowledge(input);
    log.info({ alertId: claims.alertId, action: onMyWay ? 'on-my-way' : 'acknowledge', ok: result.ok }, 'acknowledgement link used');
    if (!result.ok) return page(reply, 409, claims.language, html`<p>${w.failed}</p>`);
    return page(reply, 200, claims.language, html`<p>${onMyWay ? w.onWay : w.done}</p>`);
  });
};
