/**
 * SMS through the real twilio-node client (against Twilio, or the local
 * Twilio-compatible server). Delivery receipts arrive as Twilio status
 * callbacks, checked with our own `X-Twilio-Signature` validation.
 */
import type { Logger } from '../../core/logger.js';
import { MimamoriError } from '../../core/errors.js';
import type { Channel, ChannelMessage, DeliveryReceipt, ReceiptRequest, SendResult, SentMatch, SentQuery } from '../channel.js';
import { describeTwilioError, type TwilioClient } from '../twilio-client.js';
import { validateTwilioSignature } from '../twilio-signature.js';

export interface SmsChannelOptions {
  /** From `createTwilioClient`. */
  client: TwilioClient;
  /** The sending number (E.164) or an alphanumeric sender id. */
  from: string;
  logger: Logger;
  /** Public URL Twilio should POST delivery receipts to (the hub's status-callback route). */
  statusCallbackUrl?: string;
  /** Token that signs the callbacks; defaults to the client's auth token. */
  authToken?: string;
}

const e164 = /^\+[1-9]\d{1,14}$/;
/** Messages read per lookup: a crash window holds one message; a few more cover alerts to the same person. */
const lookupLimit = 50;

/** Twilio's statuses mapped onto the channel's three outcomes. */
function outcome(twilioStatus: string | undefined): SendResult['status'] {
  switch (twilioStatus) {
    case 'failed': case 'undelivered': case 'canceled': return 'failed';
    case 'sent': case 'delivered': case 'read': return 'sent';
    default: return 'queued';
  }
}

const first = (v: string | readonly string[] | undefined): string | undefined => (typeof v === 'string' ? v : v?.[0]);

/**
 * Creates the SMS channel.
 *
 * @example
 * const sms = createSmsChannel({ client, from: '+815000000000', logger, statusCallbackUrl: 'https://hub.example/twilio/status' });
 * await sms.send({ to: contact, text: '【見守り】…' });
 */
export function createSmsChannel(opts: SmsChannelOptions): Channel {
  if (!opts.from) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'SMS channel needs a from number');
  const authToken = opts.authToken ?? opts.client.password;
  if (!authToken) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'SMS channel needs the Twilio auth token to check status callbacks');
  const log = opts.logger;

  return {
    name: 'sms',
    addressKind: 'phone',

    async send(msg: ChannelMessage): Promise<SendResult> {
      const phone = msg.to.phone?.replace(/[\s-]/g, '');
      if (!phone) return { status: 'failed', error: 'recipient has no phone number' };
      // Twilio would refuse it too (21211); saying so here saves a round trip and a provider error.
      if (!e164.test(phone)) return { status: 'failed', error: 'phone number is not in E.164 form (21211)' };
      const params: { to: string; from: string; body: string; statusCallback?: string } = { to: phone, from: opts.from, body: msg.text };
      if (opts.statusCallbackUrl) params.statusCallback = opts.statusCallbackUrl;
      try {
        const m = await opts.client.messages.create(params);
        const status = outcome(m.status);
        log.info({ providerId: m.sid, twilioStatus: m.status, alertId: msg.alertId }, 'sms handed to Twilio');
        const out: SendResult = { providerId: m.sid, status };
        if (status === 'failed') out.error = `twilio ${m.errorCode ?? ''}: ${m.errorMessage ?? m.status}`.trim();
        return out;
      } catch (err) {
        const error = describeTwilioError(err);
        log.warn({ alertId: msg.alertId, error }, 'sms not sent');
        return { status: 'failed', error };
      }
    },

    async findSent(q: SentQuery): Promise<SentMatch | undefined> {
      // Twilio's dates have whole seconds: compare from the start of the key's second.
      const after = Math.floor(q.after / 1000) * 1000;
      const sent = await opts.client.messages.list({ to: q.to, dateSentAfter: new Date(after), limit: lookupLimit });
      // A message still queued has no DateSent, so the filter above cannot see it: look at the newest ones too.
      const recent = await opts.client.messages.list({ to: q.to, limit: lookupLimit });
      const candidates = [...sent, ...recent.filter((m) => !m.dateSent && m.dateCreated && m.dateCreated.getTime() >= after)]
        .filter((m) => m.to === q.to && m.body === q.text && m.direction.startsWith('outbound'))
        // The oldest first: the one sent right after the key was written.
        .sort((a, b) => (a.dateCreated?.getTime() ?? 0) - (b.dateCreated?.getTime() ?? 0));
      for (const m of candidates) {
        if (await q.taken(m.sid)) continue;
        const match: SentMatch = { providerId: m.sid, status: m.status };
        if (m.errorCode) match.error = `twilio ${m.errorCode}`;
        return match;
      }
      return undefined;
    },

    verifyReceipt(req: ReceiptRequest): DeliveryReceipt | undefined {
      if (!validateTwilioSignature(authToken, req.signature, req.url, req.params)) return undefined;
      const providerId = first(req.params.MessageSid) ?? first(req.params.SmsSid);
      const status = first(req.params.MessageStatus) ?? first(req.params.SmsStatus);
      if (!providerId || !status) return undefined;
      const receipt: DeliveryReceipt = { providerId, status };
      const code = first(req.params.ErrorCode);
      if (code) receipt.error = `twilio ${code}`;
      return receipt;
    },
  };
}
