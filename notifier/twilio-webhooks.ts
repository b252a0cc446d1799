/**
 * The hub's Twilio webhooks, as one fastify plugin:
 *
 * | route (default path) | Twilio calls it when | answer |
 * | --- | --- | --- |
 * | `POST /twilio/sms` | someone texts our number (a reply to an alert) | `<Response><Message>` in the sender's language; bound to one alert by its reply code, or asks which |
 * | `POST /twilio/voice/gather?alert=…&contact=…&lang=…` | a key was pressed during an alert call | `<Say>` confirmation |
 * | `POST /twilio/voice/status` | a call moved on (ringing, answered, completed, AMD result) | 204 |
 *
 * Every request must carry a valid `X-Twilio-Signature` for the public URL
 * Twilio requested (the query included, so the alert id in a Gather URL is
 * covered); anything unsigned or forged gets 403 and a log line with no
 * personal data. Authentic requests act through the `AlertResponder`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.js';
import type { Language } from '../core/store.js';
import type { ReceiptRequest } from './channel.js';
import type { AlertResponder } from './responder.js';
import { parseAckReply, replyLanguage } from './ack-parser.js';
import { answerReply } from './reply-answer.js';
import { callReceipt } from './channels/voice.js';
import { validateTwilioSignature } from './twilio-signature.js';
import { messageTwiml, regatherTwiml, sayAndHangUpTwiml, voiceWords } from './twiml.js';

export interface TwilioWebhooksOptions {
  /** The Twilio auth token that signs the webhooks. */
  authToken: string;
  responder: AlertResponder;
  logger: Logger;
  /**
   * The hub's public base URL as Twilio reaches it (e.g. `https://hub.example`);
   * a request's signed URL is this plus the request path and query. Without
   * it the URL is rebuilt from the Host header (fine on loopback, wrong
   * behind a proxy).
   */
  publicUrl?: string;
  paths?: { sms?: string; gather?: string; voiceStatus?: string };
  /** The language of the contact with this phone, when known (SMS answers go in it). */
  languageForPhone?: (phone: string) => Promise<Language | undefined>;
  /** Where verified voice status callbacks go next (the notifier updates the notification record). */
  receipts?: { handleStatusCallback(req: ReceiptRequest): Promise<unknown> };
}

export const defaultWebhookPaths = { sms: '/twilio/sms', gather: '/twilio/voice/gather', voiceStatus: '/twilio/voice/status' } as const;

type Params = Record<string, string | string[]>;

function formParams(body: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const one = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
const asLanguage = (v: string | undefined): Language | undefined => (v === 'ja' || v === 'en' ? v : undefined);

const xml = (reply: FastifyReply, body: string): FastifyReply => reply.code(200).type('text/xml; charset=utf-8').send(body);

/**
 * Registers the webhook routes. Register it in its own scope (plain
 * `app.register`, as here) so its form parser stays with these routes.
 *
 * @example
 * await app.register(twilioWebhooks, { authToken, responder, logger, publicUrl: 'https://hub.example', receipts: notifier });
 */
export const twilioWebhooks: FastifyPluginAsync<TwilioWebhooksOptions> = async (app: FastifyInstance, opts) => {
  const log = opts.logger.child({ component: 'twilio-webhooks' });
  const paths = { ...defaultWebhookPaths, ...opts.paths };
  const base = opts.publicUrl?.replace(/\/+$/, '');

  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
      done(null, formParams(body as string));
    });
  }

  /** The URL Twilio signed, the parameters, and whether the signature holds. */
  function authentic(req: FastifyRequest, route: string): { url: string; params: Params; signature: string | undefined } | undefined {
    const url = base ? `${base}${req.url}` : `${req.protocol}://${req.host}${req.url}`;
    const header = req.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    const params = (req.body && typeof req.body === 'object' ? req.body : {}) as Params;
    if (validateTwilioSignature(opts.authToken, signature, url, params)) return { url, params, signature };
    // Never the body or the numbers: only what helps tell an attack from a misconfigured URL.
    log.warn({ route, signed: signature !== undefined, path: req.url.split('?')[0] }, 'refused a Twilio webhook without a valid signature');
    return undefined;
  }

  const forbidden = (reply: FastifyReply) => reply.code(403).send({ code: 'MIMAMORI_ERR_FORBIDDEN', message: 'Not allowed: bad or missing X-Twilio-Signature' });

  app.post(paths.sms, async (req, reply) => {
    const ok = authentic(req, 'sms');
    if (!ok) return forbidden(reply);
    const from = one(ok.params.From);
    const body = one(ok.params.Body) ?? '';
    if (!from) return reply.code(400).send({ code: 'MIMAMORI_ERR_INVALID_INPUT', message: 'From is required' });
    const language = replyLanguage(body, from, await opts.languageForPhone?.(from));
    const parsed = parseAckReply(body);
    // Bound to one alert: by its code, or the person's only open alert; never a guess (responder.ts bindReply).
    const bound = await opts.responder.bindReply(from, parsed.code);
    return xml(reply, messageTwiml(await answerReply({ responder: opts.responder, bound, parsed, via: 'sms', language, logger: log })));
  });

  app.post(paths.gather, async (req, reply) => {
    const ok = authentic(req, 'gather');
    if (!ok) return forbidden(reply);
    const q = req.query as Record<string, string | undefined>;
    const language = asLanguage(q.lang) ?? 'ja';
    const w = voiceWords[language];
    const alertId = q.alert;
    const digits = one(ok.params.Digits);
    const answeredBy = one(ok.params.AnsweredBy);
    if (!alertId) return xml(reply, sayAndHangUpTwiml(w.failed, language));
    // A machine cannot acknowledge; AMD marks such calls and a key from one is line noise.
    if (answeredBy !== undefined && answeredBy !== 'human') {
      log.warn({ route: 'gather', alertId, answeredBy }, 'ignored a keypress on a call answered by a machine');
      return xml(reply, sayAndHangUpTwiml(w.goodbye, language));
    }
    if (digits !== '1' && digits !== '2') return xml(reply, regatherTwiml(language, ok.url));
    const input = q.contact ? { alertId, contactId: q.contact, via: 'voice' as const } : { alertId, via: 'voice' as const };
    const result = digits === '1' ? await opts.responder.acknowledge(input) : await opts.responder.onMyWay(input);
    log.info({ route: 'gather', alertId, action: digits === '1' ? 'acknowledge' : 'on-my-way', ok: result.ok, reason: result.ok ? undefined : result.reason }, 'keypress handled');
    if (!result.ok) return xml(reply, sayAndHangUpTwiml(w.failed, language));
    return xml(reply, sayAndHangUpTwiml(digits === '1' ? w.acknowledged : w.onMyWay(), language));
  });

  app.post(paths.voiceStatus, async (req, reply) => {
    const ok = authentic(req, 'voice-status');
    if (!ok) return forbidden(reply);
    const receipt = callReceipt(ok.params);
    if (receipt) log.info({ route: 'voice-status', providerId: receipt.providerId, status: receipt.status, outcome: receipt.outcome }, 'call status');
    if (opts.receipts) await opts.receipts.handleStatusCallback({ url: ok.url, signature: ok.signature, params: ok.params });
    return reply.code(204).send();
  });
};
