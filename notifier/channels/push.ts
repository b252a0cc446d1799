/**
 * Web push through the real `web-push` library (VAPID, RFC 8292; payload
 * encrypted aes128gcm, RFC 8291) to every push subscription a person has
 * (one per device: contact addresses of kind `push`, push-subscription.ts).
 * An alert page carries two actions — 確認しました / 向かっています — and a
 * signed token for this alert and this person (ack-link.ts, purpose
 * `push-action`, expiring) that the service worker posts back to the hub
 * (push-action.ts) to acknowledge through the same responder as SMS and LINE.
 *
 * What `sent` means: the push service accepted the message for at least one
 * of the person's devices (201; its `Location` is the provider id). Push
 * services give no delivery receipt: only an answer tells us it was read.
 * A subscription the push service says is gone (404, 410) is removed at once
 * (`onGone`), as RFC 8030 §7.3 asks.
 */
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import webPush from 'web-push';
import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../../core/logger.js';
import type { Language } from '../../core/store.js';
import { signAckLink } from '../ack-link.js';
import type { Channel, ChannelMessage, SendResult } from '../channel.js';
import { readPushAddress } from '../push-subscription.js';

/** The hub's VAPID identity (RFC 8292): a P-256 key pair, base64url, and a contact URI. */
export interface VapidIdentity {
  /** `mailto:` or `https:` — who push services can contact about this sender. */
  subject: string;
  publicKey: string;
  privateKey: string;
}

export interface PushChannelOptions {
  vapid: VapidIdentity;
  logger: Logger;
  clock: SchedulerLike;
  /** Signs the action buttons' tokens; without it, pushes carry no actions. */
  actions?: { secret: string; ttlMs?: number };
  /** An extra certificate to trust (the local push service's), beside the system's. */
  ca?: string;
  /** Called with the address of a subscription the push service says is gone (404/410). */
  onGone?: (address: string) => Promise<void>;
  /** Per request (default 10 s). */
  timeoutMs?: number;
}

/** What the service worker receives (JSON, encrypted end to end). */
export interface PushPayload {
  v: 1;
  title: string;
  body: string;
  lang: Language;
  /** One notification per alert on a device: a later push for the same alert replaces it. */
  tag: string;
  alertId?: string;
  /** Answer buttons; their `action` goes back with `token` to `POST /push/action`. */
  actions?: Array<{ action: 'ack' | 'omw'; title: string }>;
  token?: string;
}

/** How long a push's action token works: a day, like an e-mail link. */
export const pushActionTtlMs = 24 * 3600_000;

const words: Record<Language, { title: string; ack: string; omw: string }> = {
  ja: { title: '見守り', ack: '確認しました', omw: '向かっています' },
  en: { title: 'Mimamori', ack: 'Seen it', omw: "I'm on my way" },
};

/**
 * The payload for one notification. Push services take about 4 KB: the text is
 * cut at 1000 characters (3 KB of Japanese) to leave room for the token.
 */
export function pushPayload(msg: ChannelMessage, token: string | undefined): PushPayload {
  const w = words[msg.to.language];
  const p: PushPayload = { v: 1, title: w.title, body: msg.text.slice(0, 1000), lang: msg.to.language, tag: msg.alertId ? `alert-${msg.alertId}` : `note-${Date.now().toString(36)}` };
  if (msg.alertId) p.alertId = msg.alertId;
  // Buttons on a page only (it has a reply code); a follow-up about the alert is just news.
  if (msg.alertId && msg.replyCode && token) {
    p.actions = [{ action: 'ack', title: w.ack }, { action: 'omw', title: w.omw }];
    p.token = token;
  }
  return p;
}

/** The push service's answer, for the notification record: never the endpoint (it names the device). */
function describe(err: unknown): string {
  if (err instanceof webPush.WebPushError) return `push service ${err.statusCode}`;
  return `push service unreachable: ${(err as Error).message}`;
}

/**
 * Creates the web push channel.
 *
 * @example
 * const push = createPushChannel({ vapid, logger, clock, actions: { secret }, onGone: (a) => store.removeContactAddress({ kind: 'push', address: a }).then(() => {}) });
 */
export function createPushChannel(opts: PushChannelOptions): Channel {
  const log = opts.logger;
  const agent = new Agent({ keepAlive: true, ...(opts.ca ? { ca: [...rootCertificates, opts.ca] } : {}) });
  const options: webPush.RequestOptions = { vapidDetails: opts.vapid, timeout: opts.timeoutMs ?? 10_000, agent, contentEncoding: 'aes128gcm' };

  return {
    name: 'push',
    addressKind: 'push',

    async send(msg) {
      const subs = (msg.to.addresses ?? []).filter((a) => a.kind === 'push' && a.verification !== 'pending')
        .map((a) => ({ address: a.address, sub: readPushAddress(a.address) }));
      if (subs.length === 0) return { status: 'failed', error: 'no push subscription' };
      // Per person and alert: the token names both, so it acknowledges nothing else.
      const token = msg.alertId && msg.replyCode && msg.to.id && opts.actions
        ? signAckLink(opts.actions.secret, { alertId: msg.alertId, contactId: msg.to.id, language: msg.to.language, expiresAt: opts.clock.now() + (opts.actions.ttlMs ?? pushActionTtlMs) }, 'push-action')
        : undefined;
      const payload = JSON.stringify(pushPayload(msg, token));
      const urgency = msg.alertId ? 'high' : 'normal';
      const results = await Promise.all(subs.map(async ({ address, sub }): Promise<SendResult> => {
        if (!sub) return { status: 'failed', error: 'not a push subscription' };
        try {
          const res = await webPush.sendNotification(sub, payload, { ...options, TTL: msg.alertId ? 3600 : 24 * 3600, urgency });
          const location = res.headers.location;
          return { status: 'sent', providerId: typeof location === 'string' ? location : `push-${res.statusCode}-${Date.now()}` };
        } catch (err) {
          const error = describe(err);
          if (err instanceof webPush.WebPushError && (err.statusCode === 404 || err.statusCode === 410)) {
            log.info({ alertId: msg.alertId, status: err.statusCode }, 'push subscription is gone; removing it');
            try { await opts.onGone?.(address); } catch (e) { log.warn({ err: e }, 'push subscription not removed'); }
          } else log.warn({ alertId: msg.alertId, error }, 'push not sent');
          return { status: 'failed', error };
        }
      }));
      const sent = results.find((r) => r.status === 'sent');
      if (sent) {
        log.info({ alertId: msg.alertId, devices: results.filter((r) => r.status === 'sent').length, of: results.length }, 'push sent');
        return sent;
      }
      return { status: 'failed', error: [...new Set(results.map((r) => r.error))].join('; ') };
    },

    async close() { agent.destroy(); },
  };
}
