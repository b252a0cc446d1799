/**
 * A local Twilio-compatible HTTP server: the part of Twilio's REST API that
 * SMS uses (`/2010-04-01/Accounts/{AccountSid}/Messages.json`), with HTTP
 * Basic authentication, Twilio's validation errors, a queued → sent →
 * delivered lifecycle on the injected clock, and signed status callbacks.
 * Tests and the offline demo point the real `twilio` library at it; every
 * accepted message is kept in memory and, when `recordFile` is given,
 * appended to an NDJSON file — "the local Twilio server's record".
 *
 * Special numbers for failure paths are listed in `specialNumbers` and
 * documented in docs/local-twilio.md.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { Logger } from '../core/logger.js';
import { signTwilioRequest } from './twilio-signature.js';

/** Twilio's message statuses that this server produces. */
export type LocalMessageStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

/** One message the server accepted, as it stands now. */
export interface LocalMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
  status: LocalMessageStatus;
  numSegments: number;
  errorCode?: number;
  errorMessage?: string;
  statusCallback?: string;
  dateCreated: number;
  dateUpdated: number;
  dateSent?: number;
}

export interface LocalTwilio {
  /** Base URL, e.g. `http://127.0.0.1:41234` (give it to `createTwilioClient({ baseUrl })`). */
  url: string;
  accountSid: string;
  authToken: string;
  /** Every accepted message, oldest first (a snapshot). */
  messages(): LocalMessage[];
  /** Called when a message is accepted and on each status change; returns an unsubscribe function. */
  onMessage(fn: (m: LocalMessage) => void): () => void;
  /** Resolves when every status callback and record-file write started so far has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalTwilioOptions {
  port?: number;
  /** Defaults to a random `AC…` sid. */
  accountSid?: string;
  /** Defaults to a random 32-hex token. */
  authToken?: string;
  /** NDJSON file every accepted message and status change is appended to. */
  recordFile?: string;
  logger: Logger;
  /** Drives the queued → sent → delivered timers and the dates; defaults to real time. */
  clock?: SchedulerLike;
  /** Clock milliseconds from acceptance to `sent`, and to the final status. */
  delays?: { sentMs?: number; finalMs?: number };
  /** Messages kept in memory (oldest dropped first). */
  maxMessages?: number;
}

/**
 * Destination numbers with scripted outcomes, so failure paths can be tested
 * without a phone network (docs/local-twilio.md).
 */
export const specialNumbers = {
  /** Accepted, then `failed` (30008 Unknown error) without ever being sent. */
  failed: '+81000000000',
  /** Accepted, `sent`, then `undelivered` (30003 Unreachable destination handset). */
  undelivered: '+81000000001',
  /** Refused at once: 400, 21610 (the recipient replied STOP). */
  unsubscribed: '+81000000002',
} as const;

const e164 = /^\+[1-9]\d{1,14}$/;
const apiVersion = '2010-04-01';
const maxBodyChars = 1600;

interface TwilioError { status: number; code: number; message: string }

const twilioError = (status: number, code: number, message: string): TwilioError => ({ status, code, message });

function sendError(reply: FastifyReply, e: TwilioError): FastifyReply {
  return reply.code(e.status).type('application/json').send({
    code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: e.status,
  });
}

/** Twilio's dates are RFC 2822 with a numeric zone. */
const rfc2822 = (t: number): string => new Date(t).toUTCString().replace('GMT', '+0000');

/** GSM-7 messages fit 160 characters (153 per part); anything else is UCS-2 (70, 67 per part). */
function segments(body: string): number {
  const chars = [...body].length;
  // eslint-disable-next-line no-control-regex
  const gsm = /^[\x0a\x0d\x20-\x7e£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà]*$/.test(body);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  return chars <= single ? 1 : Math.ceil(chars / part);
}

function toResource(m: LocalMessage): Record<string, unknown> {
  const uri = `/${apiVersion}/Accounts/${m.accountSid}/Messages/${m.sid}.json`;
  return {
    account_sid: m.accountSid,
    api_version: apiVersion,
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: m.dateSent === undefined ? null : rfc2822(m.dateSent),
    date_updated: rfc2822(m.dateUpdated),
    direction: 'outbound-api',
    error_code: m.errorCode ?? null,
    error_message: m.errorMessage ?? null,
    from: m.from,
    messaging_service_sid: null,
    num_media: '0',
    num_segments: String(m.numSegments),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
    to: m.to,
    uri,
  };
}

/** Reads the user and password of an HTTP Basic `Authorization` header. */
function basicAuth(header: string | undefined): { user: string; pass: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

const formString = (v: unknown): string | undefined => (Array.isArray(v) ? formString(v[v.length - 1]) : typeof v === 'string' ? v : undefined);

/**
 * Starts the local Twilio-compatible server on 127.0.0.1 (`port` 0 = a free port).
 *
 * @example
 * const local = await startLocalTwilio({ logger, recordFile: 'data/twilio-messages.ndjson' });
 * const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
 */
export async function startLocalTwilio(opts: LocalTwilioOptions): Promise<LocalTwilio> {
  const accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = opts.authToken ?? randomBytes(16).toString('hex');
  const clock = opts.clock ?? asyncScheduler;
  const sentMs = opts.delays?.sentMs ?? 100;
  const finalMs = Math.max(sentMs, opts.delays?.finalMs ?? 400);
  const maxMessages = opts.maxMessages ?? 10_000;
  const log = opts.logger.child({ component: 'local-twilio' });

  const bySid = new Map<string, LocalMessage>();
  const listeners = new Set<(m: LocalMessage) => void>();
  const pending = new Set<Promise<unknown>>();
  const timers = new Set<{ unsubscribe(): void }>();
  let recordChain: Promise<void> = opts.recordFile ? mkdir(dirname(opts.recordFile), { recursive: true }).then(() => undefined) : Promise.resolve();
  let closed = false;
  let baseUrl = '';

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  function record(kind: 'message' | 'status', m: LocalMessage): void {
    const file = opts.recordFile;
    if (!file) return;
    const line = kind === 'message'
      ? { kind, at: new Date(m.dateUpdated).toISOString(), ...toResource(m) }
      : { kind, at: new Date(m.dateUpdated).toISOString(), sid: m.sid, to: m.to, status: m.status, error_code: m.errorCode ?? null };
    // One chain keeps lines in order and whole.
    recordChain = recordChain.then(() => appendFile(file, `${JSON.stringify(line)}\n`, 'utf8')).catch((err: unknown) => {
      log.error({ err }, 'local Twilio: cannot append to the record file');
    });
    void track(recordChain);
  }

  function emit(m: LocalMessage): void {
    const snapshot = { ...m };
    for (const fn of listeners) {
      try { fn(snapshot); } catch (err) { log.error({ err }, 'local Twilio: onMessage listener threw'); }
    }
  }

  async function postCallback(m: LocalMessage): Promise<void> {
    if (!m.statusCallback) return;
    const params: Record<string, string> = {
      AccountSid: m.accountSid, ApiVersion: apiVersion, From: m.from, MessageSid: m.sid,
      MessageStatus: m.status, SmsSid: m.sid, SmsStatus: m.status, To: m.to,
    };
    if (m.errorCode !== undefined) params.ErrorCode = String(m.errorCode);
    try {
      const res = await fetch(m.statusCallback, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signTwilioRequest(authToken, m.statusCallback, params),
          'user-agent': 'TwilioProxy/1.1 (mimamori local)',
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      if (!res.ok) log.warn({ sid: m.sid, status: m.status, httpStatus: res.status }, 'local Twilio: status callback refused');
    } catch (err) {
      log.warn({ sid: m.sid, status: m.status, err: (err as Error).message }, 'local Twilio: status callback failed');
    }
  }

  function setStatus(m: LocalMessage, status: LocalMessageStatus, error?: { code: number; message: string }): void {
    if (closed) return;
    const now = clock.now();
    m.status = status;
    m.dateUpdated = now;
    if (status === 'sent') m.dateSent = now;
    if (error) { m.errorCode = error.code; m.errorMessage = error.message; }
    record('status', m);
    emit(m);
    void track(postCallback({ ...m }));
  }

  function later(delay: number, work: () => void): void {
    const sub = clock.schedule(() => { timers.delete(sub); work(); }, delay);
    timers.add(sub);
  }

  /** Scripted lifecycle: most numbers are delivered; the special ones fail. */
  function runLifecycle(m: LocalMessage): void {
    if (m.to === specialNumbers.failed) {
      later(sentMs, () => setStatus(m, 'failed', { code: 30008, message: 'Unknown error' }));
      return;
    }
    later(sentMs, () => setStatus(m, 'sent'));
    if (m.to === specialNumbers.undelivered) later(finalMs, () => setStatus(m, 'undelivered', { code: 30003, message: 'Unreachable destination handset' }));
    else later(finalMs, () => setStatus(m, 'delivered'));
  }

  function validate(body: Record<string, unknown>): { to: string; from: string; text: string; statusCallback?: string } | TwilioError {
    const to = formString(body.To)?.trim();
    const from = formString(body.From)?.trim();
    const text = formString(body.Body);
    const statusCallback = formString(body.StatusCallback);
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!e164.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!e164.test(from)) return twilioError(400, 21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
    if (text === undefined || text === '') return twilioError(400, 21602, 'Message body is required.');
    if ([...text].length > maxBodyChars) return twilioError(400, 21617, `The concatenated message body exceeds the ${maxBodyChars} character limit.`);
    if (statusCallback !== undefined) {
      let ok = false;
      try { ok = ['http:', 'https:'].includes(new URL(statusCallback).protocol); } catch { ok = false; }
      if (!ok) return twilioError(400, 21609, 'Invalid StatusCallback url.');
    }
    if (to === specialNumbers.unsubscribed) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
    return statusCallback === undefined ? { to, from, text } : { to, from, text, statusCallback };
  }

  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 256 * 1024 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });

  // Twilio answers bad credentials with 401 and error 20003 before anything else.
  app.addHook('onRequest', async (req: FastifyRequest<{ Params: { account?: string } }>, reply) => {
    const creds = basicAuth(req.headers.authorization);
    if (!creds || creds.user !== accountSid || creds.pass !== authToken) {
      log.warn({ method: req.method }, 'local Twilio: refused bad credentials');
      reply.header('www-authenticate', 'Basic realm="Twilio API"');
      return sendError(reply, twilioError(401, 20003, 'Authenticate'));
    }
    return undefined;
  });

  const base = `/${apiVersion}/Accounts/:account`;
  const checkAccount = (req: FastifyRequest<{ Params: { account: string } }>, reply: FastifyReply): boolean => {
    if (req.params.account === accountSid) return true;
    sendError(reply, twilioError(403, 20003, 'Authenticate'));
    return false;
  };
  const notFound = (reply: FastifyReply, path: string) => sendError(reply, twilioError(404, 20404, `The requested resource ${path} was not found`));

  app.post<{ Params: { account: string }; Body: Record<string, unknown> }>(`${base}/Messages.json`, async (req, reply) => {
    if (!checkAccount(req, reply)) return reply;
    const v = validate(req.body ?? {});
    if ('code' in v) return sendError(reply, v);
    const now = clock.now();
    const m: LocalMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`, accountSid, to: v.to, from: v.from, body: v.text, status: 'queued',
      numSegments: segments(v.text), dateCreated: now, dateUpdated: now,
    };
    if (v.statusCallback !== undefined) m.statusCallback = v.statusCallback;
    bySid.set(m.sid, m);
    if (bySid.size > maxMessages) {
      const oldest = bySid.keys().next().value;
      if (oldest !== undefined) bySid.delete(oldest);
    }
    log.info({ sid: m.sid, segments: m.numSegments }, 'local Twilio: message queued');
    record('message', m);
    emit(m);
    runLifecycle(m);
    return reply.code(201).send(toResource(m));
  });

  app.get<{ Params: { account: string; file: string } }>(`${base}/Messages/:file`, async (req, reply) => {
    if (!checkAccount(req, reply)) return reply;
    const m = bySid.get(req.params.file.replace(/\.json$/, ''));
    return m ? reply.send(toResource(m)) : notFound(reply, req.url);
  });

  app.get<{ Params: { account: string }; Querystring: Record<string, string | undefined> }>(`${base}/Messages.json`, async (req, reply) => {
    if (!checkAccount(req, reply)) return reply;
    const q = req.query;
    const pageSize = Math.min(1000, Math.max(1, Number(q.PageSize ?? 50) || 50));
    const page = Math.max(0, Number(q.Page ?? 0) || 0);
    // Twilio lists the newest message first.
    const all = [...bySid.values()].reverse().filter((m) => (!q.To || m.to === q.To) && (!q.From || m.from === q.From));
    const start = page * pageSize;
    const slice = all.slice(start, start + pageSize);
    const listUri = (p: number) => {
      const params = new URLSearchParams();
      if (q.To) params.set('To', q.To);
      if (q.From) params.set('From', q.From);
      params.set('PageSize', String(pageSize));
      params.set('Page', String(p));
      return `/${apiVersion}/Accounts/${accountSid}/Messages.json?${params.toString()}`;
    };
    return reply.send({
      messages: slice.map(toResource),
      end: start + Math.max(0, slice.length - 1),
      first_page_uri: listUri(0),
      next_page_uri: start + pageSize < all.length ? listUri(page + 1) : null,
      previous_page_uri: page > 0 ? listUri(page - 1) : null,
      page,
      page_size: pageSize,
      start,
      uri: listUri(page),
    });
  });

  app.setNotFoundHandler((req, reply) => notFound(reply, req.url.split('?')[0] ?? req.url));

  const address = await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  baseUrl = address;
  log.info({ url: baseUrl }, 'local Twilio server listening');

  return {
    url: baseUrl,
    accountSid,
    authToken,
    messages: () => [...bySid.values()].map((m) => ({ ...m })),
    onMessage(fn) {
      listeners.add(fn);
      return () => { listeners.delete(fn); };
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) t.unsubscribe();
      timers.clear();
      listeners.clear();
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await app.close();
    },
  };
}
