/**
 * E-mail over SMTP (nodemailer). The subject and body are in the
 * recipient's language; when the message concerns an alert and links are
 * configured, the body ends with a signed one-time acknowledgement link
 * (notifier/ack-link.ts). An address the server refuses comes back as
 * `failed`, never as a throw.
 */
import nodemailer from 'nodemailer';
import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../../core/logger.js';
import type { Language } from '../../core/store.js';
import { MimamoriError } from '../../core/errors.js';
import { signAckLink } from '../ack-link.js';
import type { Channel, ChannelMessage, SendResult } from '../channel.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  user?: string;
  pass?: string;
  /** Refuse to send without STARTTLS (for a mail server across a network). */
  requireTLS?: boolean;
}

export interface EmailChannelOptions {
  smtp: SmtpSettings;
  /** The sender, e.g. `見守り <mimamori@example.jp>`. */
  from: string;
  logger: Logger;
  clock: SchedulerLike;
  /** Signed acknowledgement links: the secret, the public URL of the `/ack` route, and how long a link lives. */
  ackLinks?: { secret: string; baseUrl: string; ttlMs?: number };
  /** Per-connection timeout in ms (alerts must not wait on a dead mail server). */
  timeoutMs?: number;
}

const emailPattern = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

const words: Record<Language, { prefix: string; link: string; validFor: (hours: number) => string }> = {
  ja: { prefix: '【見守り】', link: '確認した方は、こちらを開いてボタンを押してください（1回だけ使えます）:', validFor: (h) => `（${h}時間有効）` },
  en: { prefix: '[Mimamori] ', link: 'If you have seen this, open this link and press a button (it works once):', validFor: (h) => `(valid for ${h} hours)` },
};

/** A subject from the first line of the text, without our own prefix twice, at most 60 characters. */
export function subjectFor(msg: ChannelMessage): string {
  const w = words[msg.to.language];
  const line = (msg.subject ?? msg.text.split('\n')[0] ?? '').replace(/^【見守り[^】]*】|^\[Mimamori\]\s*/u, '').trim();
  const chars = [...line];
  const short = chars.length > 60 ? `${chars.slice(0, 59).join('')}…` : line;
  return `${w.prefix}${short}`;
}

const scrub = (s: string): string => s.replace(/[^\s<>@]+@[^\s<>@]+/g, '[address]');

/**
 * Creates the e-mail channel.
 *
 * @example
 * const email = createEmailChannel({ smtp: { host: '127.0.0.1', port: 2525 }, from: '見守り <mimamori@example.jp>', logger, clock,
 *   ackLinks: { secret, baseUrl: 'https://hub.example/ack' } });
 */
export function createEmailChannel(opts: EmailChannelOptions): Channel {
  if (!opts.smtp.host || !Number.isInteger(opts.smtp.port) || opts.smtp.port <= 0) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'e-mail channel needs an SMTP host and port');
  if (!opts.from) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'e-mail channel needs a from address');
  if (opts.ackLinks) {
    try { new URL(opts.ackLinks.baseUrl); } catch { throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'ackLinks.baseUrl must be an absolute URL'); }
  }
  const log = opts.logger;
  const timeout = opts.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    host: opts.smtp.host,
    port: opts.smtp.port,
    secure: opts.smtp.secure ?? false,
    requireTLS: opts.smtp.requireTLS ?? false,
    ...(opts.smtp.user ? { auth: { user: opts.smtp.user, pass: opts.smtp.pass ?? '' } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  const ttlMs = opts.ackLinks?.ttlMs ?? 24 * 3600_000;

  function body(msg: ChannelMessage): string {
    if (!opts.ackLinks || !msg.alertId) return msg.text;
    const w = words[msg.to.language];
    const claims: Parameters<typeof signAckLink>[1] = { alertId: msg.alertId, language: msg.to.language, expiresAt: opts.clock.now() + ttlMs };
    if (msg.to.id) claims.contactId = msg.to.id;
    const url = `${opts.ackLinks.baseUrl.replace(/\/+$/, '')}/${signAckLink(opts.ackLinks.secret, claims)}`;
    return `${msg.text}\n\n${w.link}\n${url}\n${w.validFor(Math.round(ttlMs / 3600_000))}`;
  }

  return {
    name: 'email',
    addressKind: 'email',

    async send(msg: ChannelMessage): Promise<SendResult> {
      const to = msg.to.email?.trim();
      if (!to) return { status: 'failed', error: 'recipient has no e-mail address' };
      if (!emailPattern.test(to)) return { status: 'failed', error: 'e-mail address is malformed' };
      try {
        const info = await transport.sendMail({
          from: opts.from, to, subject: subjectFor(msg), text: body(msg),
          headers: { 'Content-Language': msg.to.language, 'Auto-Submitted': 'auto-generated' },
        });
        if (info.rejected.length > 0) return { status: 'failed', error: 'the mail server refused the address' };
        log.info({ providerId: info.messageId, alertId: msg.alertId }, 'e-mail handed to the mail server');
        return { providerId: info.messageId, status: 'sent' };
      } catch (err) {
        const e = err as { responseCode?: number; code?: string; message?: string };
        const error = scrub(e.responseCode ? `smtp ${e.responseCode}: ${e.message ?? ''}` : `cannot reach the mail server: ${e.code ?? ''} ${e.message ?? String(err)}`.replace(/\s+/g, ' '));
        log.warn({ alertId: msg.alertId, error }, 'e-mail not sent');
        return { status: 'failed', error };
      }
    },

    async close() {
      transport.close();
    },
  };
}
