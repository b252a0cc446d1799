/**
 * A real SMTP server on 127.0.0.1 (the `smtp-server` package) that keeps what
 * it receives: tests send e-mail through nodemailer to it, and the offline
 * demo can use it as its mail server. Messages are decoded just enough to
 * read them (single-part text: Subject with encoded words, base64 or
 * quoted-printable bodies). Recipients matching `refuse` get SMTP 550, as a
 * real server answers an unknown mailbox.
 */
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../core/logger.js';

export interface CapturedMail {
  /** Envelope sender and recipients. */
  from: string;
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
  raw: string;
}

export interface LocalSmtp {
  host: string;
  port: number;
  messages(): CapturedMail[];
  /** Called for each message received; returns an unsubscribe function. */
  onMail(fn: (m: CapturedMail) => void): () => void;
  close(): Promise<void>;
}

export interface LocalSmtpOptions {
  logger: Logger;
  port?: number;
  /** Recipients answered with `550 mailbox unavailable`. */
  refuse?: (address: string) => boolean;
  /** When set, clients must log in with these (AUTH PLAIN/LOGIN). */
  auth?: { user: string; pass: string };
}

function decodeWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g, (_m, _charset: string, enc: string, data: string) => (enc.toUpperCase() === 'B'
    ? Buffer.from(data, 'base64').toString('utf8')
    : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')));
}

function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Reads a single-part message (what nodemailer makes for a text-only mail). */
export function readMail(raw: string): { subject: string; text: string; headers: Record<string, string> } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    : encoding === 'quoted-printable' ? decodeQuotedPrintable(body)
      : body;
  return { subject: decodeWords(headers.subject ?? ''), text: text.replace(/\r\n/g, '\n').replace(/\n$/, ''), headers };
}

/**
 * Starts the server (`port` 0 = a free port).
 *
 * @example
 * const smtp = await startLocalSmtp({ logger, refuse: (a) => a.endsWith('@invalid.example') });
 */
export async function startLocalSmtp(opts: LocalSmtpOptions): Promise<LocalSmtp> {
  const log = opts.logger.child({ component: 'local-smtp' });
  const received: CapturedMail[] = [];
  const listeners = new Set<(m: CapturedMail) => void>();
  const server = new SMTPServer({
    secure: false,
    // Loopback only, no certificate to offer: plain SMTP like a local relay.
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !opts.auth,
    logger: false,
    size: 1024 * 1024,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (opts.refuse?.(address.address)) {
        cb(Object.assign(new Error('Requested action not taken: mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: CapturedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          ...readMail(raw),
          raw,
        };
        received.push(mail);
        log.info({ recipients: mail.to.length, bytes: raw.length }, 'local SMTP: message received');
        for (const fn of listeners) {
          try { fn(mail); } catch (err) { log.error({ err }, 'local SMTP: listener threw'); }
        }
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  server.on('error', (err) => log.warn({ err: err.message }, 'local SMTP: connection error'));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    messages: () => received.map((m) => ({ ...m, to: [...m.to] })),
    onMail(fn) {
      listeners.add(fn);
      return () => { listeners.delete(fn); };
    },
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); }),
  };
}
