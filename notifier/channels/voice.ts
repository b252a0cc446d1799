/**
 * Voice calls through the real twilio-node client: the alert is read out in
 * the recipient's language (TwiML `<Say>`), and a one-key `<Gather>` lets
 * them press 1 (acknowledge) or 2 (on my way); the key comes back to the
 * hub's Gather route (twilio-webhooks.ts) with the alert id in its URL.
 * Answering-machine detection is on, and the call's status callbacks are
 * read so that a voicemail (or a busy / unanswered phone) never counts as
 * having reached someone.
 */
import type { Language } from '../../core/store.js';
import type { Logger } from '../../core/logger.js';
import { MimamoriError } from '../../core/errors.js';
import type { Channel, ChannelMessage, DeliveryReceipt, ReceiptRequest, SendResult, SentMatch, SentQuery } from '../channel.js';
import { describeTwilioError, type TwilioClient } from '../twilio-client.js';
import { validateTwilioSignature } from '../twilio-signature.js';
import { alertCallTwiml } from '../twiml.js';

export interface VoiceChannelOptions {
  /** From `createTwilioClient`. */
  client: TwilioClient;
  /** The calling number (E.164). */
  from: string;
  logger: Logger;
  /** Public URL of the hub's Gather route, e.g. `https://hub.example/twilio/voice/gather`. */
  gatherActionUrl: string;
  /** Public URL of the hub's voice status route, e.g. `https://hub.example/twilio/voice/status`. */
  statusCallbackUrl?: string;
  /** Token that signs the callbacks; defaults to the client's auth token. */
  authToken?: string;
  /** Answering-machine detection (default on: a voicemail must never count as reaching someone). */
  machineDetection?: boolean;
  /** Seconds the phone rings before Twilio gives up (`no-answer`); Twilio's default is 60. */
  ringSeconds?: number;
}

const e164 = /^\+[1-9]\d{1,14}$/;
/** Calls read per lookup: a crash window holds one call; a few more cover alerts to the same person. */
const lookupLimit = 50;
/** Twilio's limit on inline TwiML (error 32018). */
const maxTwiml = 4000;

const first = (v: string | readonly string[] | undefined): string | undefined => (typeof v === 'string' ? v : v?.[0]);

/**
 * The Gather action URL for one call: the alert, the person called and their
 * language travel in the query, which Twilio's signature covers.
 */
export function gatherActionUrl(base: string, ids: { alertId?: string; contactId?: string; language: Language }): string {
  const u = new URL(base);
  if (ids.alertId) u.searchParams.set('alert', ids.alertId);
  if (ids.contactId) u.searchParams.set('contact', ids.contactId);
  u.searchParams.set('lang', ids.language);
  return u.toString();
}

/** TwiML for the call, shortening the spoken text (never the options) to fit Twilio's 4000-character limit. */
function fittedTwiml(text: string, language: Language, action: string): string {
  const build = (body: string) => alertCallTwiml({ text: body, language, gatherAction: action });
  const whole = build(text);
  if (whole.length <= maxTwiml) return whole;
  // The longest prefix that fits (escaping makes the length non-linear, so search rather than estimate).
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (build(`${chars.slice(0, mid).join('')}…`).length <= maxTwiml) lo = mid; else hi = mid - 1;
  }
  return build(`${chars.slice(0, lo).join('')}…`);
}

/**
 * What a call status callback means for the notification: only a person
 * answering is `delivered`; a machine, no answer or busy is `undelivered`.
 */
export function callReceipt(params: ReceiptRequest['params']): DeliveryReceipt | undefined {
  const providerId = first(params.CallSid);
  const callStatus = first(params.CallStatus);
  if (!providerId || !callStatus) return undefined;
  const answeredBy = first(params.AnsweredBy);
  const answered = callStatus === 'in-progress' || callStatus === 'completed';
  if (answered) {
    if (answeredBy === undefined || answeredBy === 'human') return { providerId, status: 'delivered', outcome: 'reached' };
    // machine_start, machine_end_*, fax — and `unknown`: when detection cannot tell, we do not assume a person heard it.
    return { providerId, status: 'undelivered', outcome: 'voicemail', error: `voicemail (answered by ${answeredBy})` };
  }
  switch (callStatus) {
    case 'no-answer': return { providerId, status: 'undelivered', outcome: 'no-answer', error: 'no answer' };
    case 'busy': return { providerId, status: 'undelivered', outcome: 'busy', error: 'busy' };
    case 'failed': return { providerId, status: 'failed', outcome: 'failed', error: 'call failed' };
    case 'canceled': return { providerId, status: 'canceled', outcome: 'failed', error: 'call canceled' };
    case 'ringing': case 'initiated': return { providerId, status: 'sending' };
    default: return { providerId, status: 'queued' };
  }
}

/**
 * Creates the voice channel.
 *
 * @example
 * const voice = createVoiceChannel({ client, from: '+815000000000', logger,
 *   gatherActionUrl: 'https://hub.example/twilio/voice/gather', statusCallbackUrl: 'https://hub.example/twilio/voice/status' });
 * await voice.send({ to: contact, text: '山田花子さんの家で…', alertId });
 */
export function createVoiceChannel(opts: VoiceChannelOptions): Channel {
  if (!e164.test(opts.from)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'voice channel needs an E.164 from number');
  try { new URL(opts.gatherActionUrl); } catch { throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'voice channel needs an absolute gatherActionUrl'); }
  const authToken = opts.authToken ?? opts.client.password;
  if (!authToken) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'voice channel needs the Twilio auth token to check callbacks');
  const log = opts.logger;
  const amd = opts.machineDetection ?? true;

  return {
    name: 'voice',
    addressKind: 'phone',
    spoken: true,

    async send(msg: ChannelMessage): Promise<SendResult> {
      const phone = msg.to.phone?.replace(/[\s-]/g, '');
      if (!phone) return { status: 'failed', error: 'recipient has no phone number' };
      if (!e164.test(phone)) return { status: 'failed', error: 'phone number is not in E.164 form (21211)' };
      const ids: { alertId?: string; contactId?: string; language: Language } = { language: msg.to.language };
      if (msg.alertId) ids.alertId = msg.alertId;
      if (msg.to.id) ids.contactId = msg.to.id;
      const twiml = fittedTwiml(msg.text, msg.to.language, gatherActionUrl(opts.gatherActionUrl, ids));
      const params: Parameters<TwilioClient['calls']['create']>[0] = { to: phone, from: opts.from, twiml };
      if (amd) params.machineDetection = 'Enable';
      if (opts.ringSeconds !== undefined) params.timeout = opts.ringSeconds;
      if (opts.statusCallbackUrl) {
        params.statusCallback = opts.statusCallbackUrl;
        params.statusCallbackMethod = 'POST';
        params.statusCallbackEvent = ['initiated', 'ringing', 'answered', 'completed'];
      }
      try {
        const call = await opts.client.calls.create(params);
        log.info({ providerId: call.sid, twilioStatus: call.status, alertId: msg.alertId }, 'call handed to Twilio');
        return call.status === 'failed' ? { providerId: call.sid, status: 'failed', error: 'call failed' } : { providerId: call.sid, status: 'queued' };
      } catch (err) {
        const error = describeTwilioError(err);
        log.warn({ alertId: msg.alertId, error }, 'call not placed');
        return { status: 'failed', error };
      }
    },

    async findSent(q: SentQuery): Promise<SentMatch | undefined> {
      // A call's text is not in Twilio's list (only its TwiML source), so a call matches on number and time.
      const after = Math.floor(q.after / 1000) * 1000;
      const started = await opts.client.calls.list({ to: q.to, startTimeAfter: new Date(after), limit: lookupLimit });
      // A call not yet answered or dialled has no StartTime: look at the newest ones too.
      const recent = await opts.client.calls.list({ to: q.to, limit: lookupLimit });
      const candidates = [...started, ...recent.filter((c) => !c.startTime && c.dateCreated && c.dateCreated.getTime() >= after)]
        .filter((c) => c.to === q.to && c.direction.startsWith('outbound') && (c.from === opts.from || c.from === undefined))
        .sort((a, b) => (a.dateCreated?.getTime() ?? 0) - (b.dateCreated?.getTime() ?? 0));
      const seen = new Set<string>();
      for (const c of candidates) {
        if (seen.has(c.sid)) continue;
        seen.add(c.sid);
        if (await q.taken(c.sid)) continue;
        // The status callbacks of a call made before the crash went to a dead hub: read its outcome now.
        const params: Record<string, string> = { CallSid: c.sid, CallStatus: c.status };
        if (c.answeredBy) params.AnsweredBy = c.answeredBy;
        const r = callReceipt(params);
        const match: SentMatch = { providerId: c.sid, status: r?.status ?? 'queued' };
        if (r?.error) match.error = r.error;
        return match;
      }
      return undefined;
    },

    verifyReceipt(req: ReceiptRequest): DeliveryReceipt | undefined {
      if (!validateTwilioSignature(authToken, req.signature, req.url, req.params)) return undefined;
      return callReceipt(req.params);
    },
  };
}
