/**
 * LINE through the official `@line/bot-sdk` `MessagingApiClient` (against
 * LINE, or the local LINE-compatible server). A person's address is the LINE
 * user id bound to their contact by a one-time link code (line-webhook.ts).
 * An alert page is the text plus a buttons template — 確認しました / 向かっています
 * — whose postbacks carry the alert's reply code and come back through the
 * signed webhook to the same responder as SMS replies.
 *
 * What `sent` means: LINE accepted the push. LINE sends no delivery receipts
 * for push messages, so there is no later word. A push is retried once on a
 * network error or a 5xx with the same `X-Line-Retry-Key`, which LINE
 * de-duplicates (409 = already accepted), so a retry never sends twice.
 */
import { randomUUID } from 'node:crypto';
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import type { Logger } from '../../core/logger.js';
import type { Language } from '../../core/store.js';
import type { Channel, ChannelMessage, SendResult } from '../channel.js';

export interface LineChannelOptions {
  /** `new messagingApi.MessagingApiClient({ channelAccessToken, baseURL? })`. */
  client: messagingApi.MessagingApiClient;
  logger: Logger;
}

/** What a postback button asks for. */
export type LinePostbackAction = 'ack' | 'omw';

/** The postback data of an answer button: `a=ack&code=K27&alert=<id>` (LINE allows 300 characters). */
export function linePostbackData(action: LinePostbackAction, alertId: string, code: string | undefined): string {
  const p = new URLSearchParams({ a: action });
  if (code) p.set('code', code);
  p.set('alert', alertId);
  return p.toString();
}

/** Reads postback data made by `linePostbackData`; undefined for anything else. */
export function readLinePostback(data: string): { action: LinePostbackAction; alertId: string; code?: string } | undefined {
  const p = new URLSearchParams(data);
  const action = p.get('a');
  const alertId = p.get('alert');
  if ((action !== 'ack' && action !== 'omw') || !alertId) return undefined;
  const code = p.get('code');
  return code ? { action, alertId, code } : { action, alertId };
}

const buttonText: Record<Language, { ask: (code?: string) => string; ack: string; omw: string }> = {
  ja: { ask: (code) => `ご対応をお願いします${code ? `（${code}）` : ''}`, ack: '確認しました', omw: '向かっています' },
  en: { ask: (code) => `Please respond${code ? ` (${code})` : ''}`, ack: 'Seen it', omw: 'On my way' },
};

/** The LINE messages for one notification: the text, and answer buttons for an alert page. */
export function lineMessages(msg: ChannelMessage): messagingApi.Message[] {
  const text: messagingApi.TextMessage = { type: 'text', text: msg.text.slice(0, 5000) || '—' };
  if (!msg.alertId || !msg.replyCode) return [text];
  const words = buttonText[msg.to.language];
  const buttons: messagingApi.TemplateMessage = {
    type: 'template',
    // Shown in the chat list and on devices that cannot show templates (LINE allows 400 characters).
    altText: msg.text.slice(0, 400) || words.ask(msg.replyCode),
    template: {
      type: 'buttons',
      text: words.ask(msg.replyCode),
      actions: [
        { type: 'postback', label: words.ack, data: linePostbackData('ack', msg.alertId, msg.replyCode), displayText: words.ack },
        { type: 'postback', label: words.omw, data: linePostbackData('omw', msg.alertId, msg.replyCode), displayText: words.omw },
      ],
    } as messagingApi.ButtonsTemplate,
  };
  return [text, buttons];
}

/** LINE's error, for the notification record: status and LINE's message, never the user id or text. */
function describeLineError(err: unknown): string {
  if (err instanceof HTTPFetchError) {
    let detail = '';
    try { detail = (JSON.parse(err.body) as { message?: string }).message ?? ''; } catch { /* not JSON */ }
    return `line ${err.status}${detail ? `: ${detail}` : ''}`;
  }
  return `line unreachable: ${(err as Error).message}`;
}

const retryable = (err: unknown) => !(err instanceof HTTPFetchError) || err.status >= 500;

/**
 * Creates the LINE channel.
 *
 * @example
 * const client = new messagingApi.MessagingApiClient({ channelAccessToken, baseURL: local.url });
 * const line = createLineChannel({ client, logger });
 */
export function createLineChannel(opts: LineChannelOptions): Channel {
  const log = opts.logger;
  return {
    name: 'line',
    addressKind: 'line',

    async send(msg) {
      const userId = msg.to.addresses?.find((a) => a.kind === 'line' && a.verification === 'verified')?.address;
      if (!userId) return { status: 'failed', error: 'no LINE account linked' };
      const request: messagingApi.PushMessageRequest = { to: userId, messages: lineMessages(msg) };
      const retryKey = randomUUID();
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await opts.client.pushMessage(request, retryKey);
          const providerId = res.sentMessages[0]?.id;
          log.info({ providerId, alertId: msg.alertId, attempt }, 'line message pushed');
          const out: SendResult = { status: 'sent' };
          if (providerId) out.providerId = providerId;
          return out;
        } catch (err) {
          // 409: an earlier attempt with this retry key was accepted after all — sent exactly once.
          if (err instanceof HTTPFetchError && err.status === 409) {
            const providerId = err.headers.get('x-line-accepted-request-id') ?? undefined;
            log.info({ providerId, alertId: msg.alertId, attempt }, 'line push was already accepted');
            return providerId ? { status: 'sent', providerId } : { status: 'sent' };
          }
          const error = describeLineError(err);
          if (attempt < 2 && retryable(err)) { log.warn({ alertId: msg.alertId, error }, 'line push failed; retrying with the same retry key'); continue; }
          log.warn({ alertId: msg.alertId, error }, 'line message not sent');
          return { status: 'failed', error };
        }
      }
    },
  };
}
