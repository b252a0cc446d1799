/**
 * The hub's LINE webhook, as one fastify plugin (`POST /line/webhook`).
 *
 * Every request must carry a valid `X-Line-Signature` (HMAC-SHA256 of the
 * raw body with the channel secret, checked with the SDK's
 * `validateSignature`); anything unsigned or forged gets 403 and a log line
 * with no personal data. Authentic events:
 *
 * | event | the hub does | reply |
 * | --- | --- | --- |
 * | `follow` (friend added) | nothing yet | asks for the 6-digit link code from /account |
 * | text: a link code | binds the LINE user id to that person's contact (verified address), audited | "linked" in their language |
 * | text: `1`, `了解`, `2 K27`… (linked user) | same as an SMS reply (ack-parser.ts, reply-answer.ts), `via: 'line'` | the SMS words |
 * | `postback` from an alert's buttons | acknowledge / on my way for the alert's reply code, `via: 'line'` | confirmation |
 * | `unfollow` (blocked) | removes the LINE address, audited | — |
 *
 * LINE expects 200 for every authentic delivery, even when an event could not
 * be acted on (the person hears why in the reply).
 */
import { randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { SchedulerLike } from 'rxjs';
import { validateSignature, type messagingApi } from '@line/bot-sdk';
import type { Logger } from '../core/logger.js';
import type { Language, Store } from '../core/store.js';
import { normaliseReply, parseAckReply, replyTexts } from './ack-parser.js';
import { readLinePostback } from './channels/line.js';
import { answerReply } from './reply-answer.js';
import type { AlertResponder } from './responder.js';

export interface LineWebhookOptions {
  /** The LINE channel secret (signs webhooks). */
  channelSecret: string;
  /** The same SDK client the LINE channel uses, for replies. */
  client: messagingApi.MessagingApiClient;
  store: Store;
  responder: AlertResponder;
  logger: Logger;
  clock: SchedulerLike;
  path?: string;
}

/** How long a link code shown on /account stays valid. */
export const linkCodeTtlMs = 30 * 60_000;

/**
 * Makes a one-time 6-digit code that binds the LINE account which sends it to
 * this contact (replacing the contact's earlier code). Shown on /account.
 */
export async function issueLineLinkCode(store: Store, contactId: string, now: number, ttlMs = linkCodeTtlMs): Promise<{ code: string; expiresAt: number }> {
  for (let i = 0; ; i++) {
    const code = String(randomInt(1_000_000)).padStart(6, '0');
    try {
      await store.createLinkCode({ code, kind: 'line', contactId, expiresAt: now + ttlMs, createdAt: now });
      return { code, expiresAt: now + ttlMs };
    } catch (err) {
      if (i >= 5) throw err; // another person's live code: draw again
    }
  }
}

/** What the bot says about linking, per language. */
export const lineLinkTexts: Record<Language, { welcome: string; linked: string; badCode: string; notLinked: string; alreadyLinked: string }> = {
  ja: {
    welcome: '【見守り】友だち追加ありがとうございます。通知をLINEで受け取るには、見守りの「アカウント」ページ（/account）に表示される6桁の連携コードを送ってください。',
    linked: '【見守り】LINEの連携ができました。これから見守りのお知らせをLINEでお届けします。',
    badCode: '【見守り】連携コードが違うか、有効期限（30分）が切れています。アカウントページで新しいコードを表示してください。',
    notLinked: '【見守り】このLINEアカウントはまだ連携されていません。アカウントページの6桁の連携コードを送ってください。',
    alreadyLinked: '【見守り】このLINEアカウントは連携済みです。',
  },
  en: {
    welcome: '[Mimamori] Thank you for adding us. To get Mimamori alerts on LINE, send the 6-digit link code shown on your Account page (/account).',
    linked: '[Mimamori] LINE is linked. Mimamori alerts will now reach you here.',
    badCode: '[Mimamori] That link code is wrong or has expired (30 minutes). Show a new one on your Account page.',
    notLinked: '[Mimamori] This LINE account is not linked yet. Send the 6-digit link code from your Account page.',
    alreadyLinked: '[Mimamori] This LINE account is already linked.',
  },
};
/** Before we know who it is: both languages. */
const both = (k: keyof (typeof lineLinkTexts)['ja']) => `${lineLinkTexts.ja[k]}\n${lineLinkTexts.en[k]}`;

interface LineEvent {
  type: string;
  replyToken?: string;
  source?: { type?: string; userId?: string };
  message?: { type?: string; text?: string };
  postback?: { data?: string };
}

/**
 * Registers the webhook route in its own scope (its raw-body JSON parser stays here).
 *
 * @example
 * await app.register(lineWebhook, { channelSecret, client, store, responder, logger, clock });
 */
export const lineWebhook: FastifyPluginAsync<LineWebhookOptions> = async (app: FastifyInstance, opts) => {
  const log = opts.logger.child({ component: 'line-webhook' });
  const { store, responder, clock } = opts;

  // The signature covers the exact bytes LINE sent: keep them.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => { done(null, body); });

  async function reply(token: string | undefined, text: string): Promise<void> {
    if (!token) return;
    try { await opts.client.replyMessage({ replyToken: token, messages: [{ type: 'text', text: text.slice(0, 5000) }] }); } catch (err) {
      log.warn({ error: (err as Error).message }, 'line reply not sent');
    }
  }

  async function linkedContacts(userId: string) { return store.findContactsByAddress('line', userId); }

  async function onText(e: LineEvent, userId: string, text: string): Promise<void> {
    const now = clock.now();
    const contacts = await linkedContacts(userId);
    const code = normaliseReply(text).replace(/\s/g, '');
    if (/^\d{6}$/.test(code)) {
      const contactId = await store.takeLinkCode('line', code, now);
      const contact = contactId ? await store.getContact(contactId) : undefined;
      if (!contact) { log.info('line link code refused (unknown, used or expired)'); return reply(e.replyToken, both('badCode')); }
      await store.saveContactAddress({ contactId: contact.id, kind: 'line', address: userId, verification: 'verified', verifiedAt: now, createdAt: now });
      await store.audit({ at: now, actor: `contact:${contact.id}`, action: 'contact.address.link', subject: contact.id, detail: { kind: 'line', via: 'link-code' } });
      log.info({ contactId: contact.id }, 'LINE account linked to a contact');
      return reply(e.replyToken, lineLinkTexts[contact.language].linked);
    }
    const first = contacts[0];
    if (!first) return reply(e.replyToken, both('notLinked'));
    const parsed = parseAckReply(text);
    const bound = await responder.bindReplyFrom({ kind: 'line', address: userId }, parsed.code);
    return reply(e.replyToken, await answerReply({ responder, bound, parsed, via: 'line', language: first.language, logger: log }));
  }

  async function onPostback(e: LineEvent, userId: string, data: string): Promise<void> {
    const p = readLinePostback(data);
    const contacts = await linkedContacts(userId);
    const first = contacts[0];
    if (!first) return reply(e.replyToken, both('notLinked'));
    const words = replyTexts[first.language];
    if (!p) { log.info('line postback not ours'); return reply(e.replyToken, words.help); }
    // The button's code binds it like a typed "1 K27"; an alert without a code is named by its id.
    let target: { alertId: string; contactId: string } | undefined;
    if (p.code) {
      const bound = await responder.bindReplyFrom({ kind: 'line', address: userId }, p.code);
      if (bound.kind === 'one') target = bound;
    } else {
      const alert = await store.getAlert(p.alertId);
      const c = alert ? contacts.find((x) => x.homeId === alert.homeId) : undefined;
      if (alert && c) target = { alertId: alert.id, contactId: c.id };
    }
    if (!target) {
      const alert = await store.getAlert(p.alertId);
      log.info({ alertId: p.alertId }, 'line postback for an alert that does not need this person now');
      return reply(e.replyToken, alert?.status === 'resolved' ? words.alreadyResolved : words.noAlert);
    }
    const input = { ...target, via: 'line' as const };
    const result = p.action === 'ack' ? await responder.acknowledge(input) : await responder.onMyWay(input);
    log.info({ alertId: target.alertId, action: p.action, ok: result.ok, reason: result.ok ? undefined : result.reason }, 'line postback handled');
    if (!result.ok) return reply(e.replyToken, result.reason === 'already_resolved' ? words.alreadyResolved : words.refused);
    return reply(e.replyToken, p.action === 'ack' ? words.acknowledged : words.onMyWay());
  }

  async function onEvent(e: LineEvent): Promise<void> {
    const userId = e.source?.userId;
    if (!userId || e.source?.type !== 'user') return; // groups and rooms are not people we page
    switch (e.type) {
      case 'follow': {
        const linked = await linkedContacts(userId);
        return reply(e.replyToken, linked[0] ? lineLinkTexts[linked[0].language].alreadyLinked : both('welcome'));
      }
      case 'unfollow': {
        const linked = await linkedContacts(userId);
        const removed = await store.removeContactAddress({ kind: 'line', address: userId });
        const now = clock.now();
        for (const c of linked) await store.audit({ at: now, actor: `contact:${c.id}`, action: 'contact.address.unlink', subject: c.id, detail: { kind: 'line', via: 'unfollow' } });
        log.info({ removed }, 'LINE account blocked the bot; address removed');
        return;
      }
      case 'message':
        if (e.message?.type === 'text' && typeof e.message.text === 'string') return onText(e, userId, e.message.text);
        return;
      case 'postback':
        if (typeof e.postback?.data === 'string') return onPostback(e, userId, e.postback.data);
        return;
      default:
        return;
    }
  }

  app.post(opts.path ?? '/line/webhook', async (req, res) => {
    const raw = req.body;
    const header = req.headers['x-line-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!Buffer.isBuffer(raw) || !signature || !validateSignature(raw, opts.channelSecret, signature)) {
      // Never the body: only what helps tell an attack from a misconfigured secret.
      log.warn({ signed: signature !== undefined }, 'refused a LINE webhook without a valid signature');
      return res.code(403).send({ code: 'MIMAMORI_ERR_FORBIDDEN', message: 'Not allowed: bad or missing X-Line-Signature' });
    }
    let events: LineEvent[];
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as { events?: unknown };
      if (!Array.isArray(parsed.events)) throw new Error('no events array');
      events = parsed.events as LineEvent[];
    } catch (err) {
      return res.code(400).send({ code: 'MIMAMORI_ERR_INVALID_INPUT', message: `LINE webhook body: ${(err as Error).message}` });
    }
    for (const e of events) {
      try { await onEvent(e); } catch (err) { log.error({ err, type: e.type }, 'line event failed'); }
    }
    return res.code(200).send({});
  });
};
