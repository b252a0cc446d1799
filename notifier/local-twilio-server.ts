/**
 * A local Twilio-compatible HTTP server: the part of Twilio's REST API that
 * SMS uses (`/2010-04-01/Accounts/{AccountSid}/Messages.json`), with HTTP
 * Basic authentication, Twilio's validation errors, a queued → sent →
 * delivered lifecycle on the injected clock, and signed status callbacks.
 * Tests and the offline demo point the real `twilio` library at it; every
 * accepted message is kept in memory and, when `recordFile` is given,
 * appended to an NDJSON file — "the local Twilio server's record".
 *
 * Voice (`Calls.json`): queued → initiated → ringing → in-progress →
 * completed (or busy / no-answer / failed) on the clock, signed status
 * callbacks with answering-machine detection (`AnsweredBy`), TwiML from the
 * call's `Url` or inline `Twiml`, and a simulated callee per number that
 * presses a key and POSTs the `<Gather action>` signed, like Twilio.
 * Inbound SMS: `simulateInboundSms` POSTs a signed webhook to the configured
 * SMS URL (a phone number's "A message comes in" URL) and sends the
 * `<Message>` replies back out as ordinary outbound messages.
 *
 * Lists (`GET Messages.json`, `GET Calls.json`) page newest first and filter
 * on To, From, Status and Twilio's date filters (`DateSent>`, `DateSent<`,
 * `StartTime>`, `StartTime<`), which the hub uses to reconcile sends after a
 * crash.
 *
 * Special numbers for failure paths are listed in `specialNumbers` and
 * `specialCallNumbers` and documented in docs/local-twilio.md.
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

/** Twilio's call statuses. */
export type LocalCallStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/** What answering-machine detection reports (`MachineDetection=Enable` stops at `machine_start`). */
export type LocalAnsweredBy = 'human' | 'machine_start' | 'unknown';

/** How the simulated person (or machine) at a number behaves when called. */
export interface CalleeScript {
  answer: 'human' | 'machine' | 'no-answer' | 'busy' | 'failed';
  /** Key a human presses during the first `<Gather>`; none: listens and hangs up. */
  press?: string;
  /** Clock ms the phone rings before it is answered (or, for `no-answer`, before Twilio gives up). */
  afterMs?: number;
  /** Clock ms after answering that the key is pressed. */
  pressAfterMs?: number;
}

/** One call the server accepted, as it stands now. */
export interface LocalCall {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  status: LocalCallStatus;
  direction: 'outbound-api';
  /** Where the call's TwiML came from. */
  url?: string;
  method: 'GET' | 'POST';
  twiml?: string;
  statusCallback?: string;
  statusCallbackEvents: string[];
  machineDetection?: string;
  answeredBy?: LocalAnsweredBy;
  dateCreated: number;
  dateUpdated: number;
  startTime?: number;
  endTime?: number;
  /** Seconds from answer to hang-up. */
  duration?: number;
  /** The TwiML the call ran (inline, or fetched from `url` when answered). */
  document?: string;
  /** The `<Say>` texts of that document, in order (what the callee heard). */
  said: string[];
  /** The key pressed, once posted to the Gather action. */
  digits?: string;
  gatherAction?: string;
  /** HTTP status and TwiML the Gather action answered with. */
  gatherResponse?: { status: number; body: string };
  /** Why the call's TwiML could not be run (fetch failed, bad document). */
  error?: string;
}

/** One simulated inbound SMS and what the hub answered. */
export interface LocalInboundSms {
  sid: string;
  from: string;
  to: string;
  body: string;
  at: number;
  /** The webhook URL it was posted to. */
  url: string;
  /** HTTP status of the webhook's answer (0: no answer). */
  httpStatus: number;
  /** `<Message>` bodies of the TwiML answer; each is also sent back as an outbound message. */
  replies: string[];
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
  /** Every accepted call, oldest first (a snapshot). */
  calls(): LocalCall[];
  /** Called when a call is accepted and on each change; returns an unsubscribe function. */
  onCall(fn: (c: LocalCall) => void): () => void;
  /** Scripts how the callee at `phone` behaves on every later call to it (overrides the special numbers). */
  scriptNumber(phone: string, script: CalleeScript): void;
  /** Sets the URL inbound SMS are posted to (a Twilio number's "A message comes in" webhook). */
  setInboundSmsUrl(url: string): void;
  /**
   * A person texts one of our numbers: POSTs a signed webhook (From, To, Body,
   * MessageSid, AccountSid, …) to the inbound SMS URL, then sends any
   * `<Message>` in the TwiML answer back to them.
   */
  simulateInboundSms(sms: { from: string; to: string; body: string }): Promise<LocalInboundSms>;
  /** Every simulated inbound SMS, oldest first. */
  inboundMessages(): LocalInboundSms[];
  /** Resolves when every status callback, webhook and record-file write started so far has finished. */
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
  /** Messages kept in memory (oldest dropped first); also the limit for calls. */
  maxMessages?: number;
  /** Inbound SMS webhook URL (can be set later with `setInboundSmsUrl`). */
  inboundSmsUrl?: string;
  /**
   * Clock ms of a call's life: dialling to ringing, ringing to answer (default
   * of `CalleeScript.afterMs`), answer to keypress, answer to hang-up, and how
   * long an unanswered phone rings.
   */
  callDelays?: { ringMs?: number; answerMs?: number; pressMs?: number; talkMs?: number; noAnswerMs?: number };
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

/** Numbers with a scripted callee (docs/local-twilio.md); any other number answers as a person who presses nothing. */
export const specialCallNumbers = {
  /** A person answers and presses 1 (acknowledge). */
  pressOne: '+81000000010',
  /** A person answers and presses 2 (on my way). */
  pressTwo: '+81000000011',
  /** Voicemail: answering-machine detection says `machine_start`. */
  voicemail: '+81000000012',
  /** Rings until Twilio gives up: `no-answer`. */
  noAnswer: '+81000000013',
  /** `busy`. */
  busy: '+81000000014',
  /** The call cannot be placed: `failed`. */
  failed: '+81000000015',
} as const;

const defaultScripts: Record<string, CalleeScript> = {
  [specialCallNumbers.pressOne]: { answer: 'human', press: '1' },
  [specialCallNumbers.pressTwo]: { answer: 'human', press: '2' },
  [specialCallNumbers.voicemail]: { answer: 'machine' },
  [specialCallNumbers.noAnswer]: { answer: 'no-answer' },
  [specialCallNumbers.busy]: { answer: 'busy' },
  [specialCallNumbers.failed]: { answer: 'failed' },
};

const callEvents = ['initiated', 'ringing', 'answered', 'completed'] as const;
const maxInlineTwiml = 4000;

const xmlEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (s: string): string => s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_m, e: string) => {
  if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  return xmlEntities[e.toLowerCase()] ?? _m;
});

/** The bits of a TwiML document the simulated callee needs: what it hears, where its keypress goes. */
export function readTwiml(doc: string): { said: string[]; gather?: { action?: string; method: string }; messages: string[] } {
  const said = [...doc.matchAll(/<Say\b[^>]*>([\s\S]*?)<\/Say>/g)].map((m) => unescapeXml(m[1] ?? '').trim());
  const messages = [...doc.matchAll(/<Message\b[^>]*>([\s\S]*?)<\/Message>/g)].map((m) => unescapeXml((m[1] ?? '').replace(/<\/?Body>/g, '')).trim());
  const g = /<Gather\b([^>]*)>/.exec(doc);
  if (!g) return { said, messages };
  const attrs: Record<string, string> = {};
  for (const a of (g[1] ?? '').matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) if (a[1]) attrs[a[1]] = unescapeXml(a[2] ?? '');
  const gather: { action?: string; method: string } = { method: (attrs.method ?? 'POST').toUpperCase() };
  if (attrs.action !== undefined) gather.action = attrs.action;
  return { said, gather, messages };
}

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

/**
 * Twilio's date filters on list requests: `Name` (a day, or one exact second),
 * `Name>` (on or after) and `Name<` (on or before), as twilio-node sends them
 * (`dateSentAfter` → `DateSent>`). A resource without that date never matches
 * a filter on it. Returns `undefined` when a filter is not a date.
 */
function dateFilter(q: Record<string, string | undefined>, name: string): ((t: number | undefined) => boolean) | undefined {
  const tests: Array<(t: number) => boolean> = [];
  for (const [suffix, value] of [['', q[name]], ['>', q[`${name}>`]], ['<', q[`${name}<`]]] as const) {
    if (value === undefined || value === '') continue;
    const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
    const at = Date.parse(dayOnly ? `${value}T00:00:00Z` : value);
    if (Number.isNaN(at)) return undefined;
    if (suffix === '>') tests.push((t) => t >= at);
    else if (suffix === '<') tests.push((t) => (dayOnly ? t < at + 86_400_000 : t <= at));
    else tests.push((t) => (dayOnly ? t >= at && t < at + 86_400_000 : Math.floor(t / 1000) === Math.floor(at / 1000)));
  }
  return (t) => tests.length === 0 || (t !== undefined && tests.every((fn) => fn(t)));
}

/** The date filter parameters of a list request, to carry into its page URIs. */
const dateParams = (name: string) => [name, `${name}>`, `${name}<`] as const;

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
  let recordChain: Promise<void> = opts.recordFile
    ? mkdir(dirname(opts.recordFile), { recursive: true }).then(() => undefined, (err: unknown) => { log.error({ err }, 'local Twilio: cannot make the record folder'); })
    : Promise.resolve();
  let closed = false;
  let baseUrl = '';
  const calls = new Map<string, LocalCall & { chain: Promise<void>; sequence: number }>();
  const callListeners = new Set<(c: LocalCall) => void>();
  const scripts = new Map<string, CalleeScript>();
  const inbound: LocalInboundSms[] = [];
  let inboundSmsUrl = opts.inboundSmsUrl;
  const ringMs = opts.callDelays?.ringMs ?? 100;
  const answerMs = opts.callDelays?.answerMs ?? 2000;
  const pressMs = opts.callDelays?.pressMs ?? 5000;
  const talkMs = Math.max(pressMs + 1, opts.callDelays?.talkMs ?? 20_000);
  const noAnswerMs = opts.callDelays?.noAnswerMs ?? 30_000;

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  function record(kind: 'message' | 'status', m: LocalMessage): void {
    recordLine(kind === 'message'
      ? { kind, at: new Date(m.dateUpdated).toISOString(), ...toResource(m) }
      : { kind, at: new Date(m.dateUpdated).toISOString(), sid: m.sid, to: m.to, status: m.status, error_code: m.errorCode ?? null });
  }

  function recordLine(line: Record<string, unknown>): void {
    const file = opts.recordFile;
    if (!file) return;
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

  // ── Voice ────────────────────────────────────────────────────────────────

  type CallState = LocalCall & { chain: Promise<void>; sequence: number };

  const callSnapshot = (c: CallState): LocalCall => {
    const { chain: _chain, sequence: _seq, ...rest } = c;
    return { ...rest, said: [...rest.said], statusCallbackEvents: [...rest.statusCallbackEvents] };
  };

  function emitCall(c: CallState): void {
    const snapshot = callSnapshot(c);
    for (const fn of callListeners) {
      try { fn(snapshot); } catch (err) { log.error({ err }, 'local Twilio: onCall listener threw'); }
    }
  }

  /** Runs `work` after everything this call already started: callbacks and webhooks keep their order. */
  function inCall(c: CallState, work: () => Promise<void>): void {
    c.chain = c.chain.then(work).catch((err: unknown) => { log.error({ err, sid: c.sid }, 'local Twilio: call step failed'); });
    void track(c.chain);
  }

  /** Twilio's common voice webhook parameters. */
  function callParams(c: CallState, extra: Record<string, string> = {}): Record<string, string> {
    const p: Record<string, string> = {
      AccountSid: c.accountSid, ApiVersion: apiVersion, CallSid: c.sid, CallStatus: c.status, Direction: c.direction,
      From: c.from, To: c.to, Called: c.to, Caller: c.from, ...extra,
    };
    if (c.answeredBy) p.AnsweredBy = c.answeredBy;
    return p;
  }

  /** A signed form POST (or GET with the parameters in the query), as Twilio makes its webhooks. */
  async function signedRequest(url: string, params: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Promise<{ status: number; body: string }> {
    if (method === 'GET') {
      const u = new URL(url);
      for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
      const res = await fetch(u, { headers: { 'x-twilio-signature': signTwilioRequest(authToken, u.toString(), {}), 'user-agent': 'TwilioProxy/1.1 (mimamori local)' }, signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.text() };
    }
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(authToken, url, params), 'user-agent': 'TwilioProxy/1.1 (mimamori local)' },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.text() };
  }

  const recordCallStatus = (c: CallState): void => recordLine({ kind: 'call-status', at: new Date(c.dateUpdated).toISOString(), sid: c.sid, to: c.to, status: c.status, answered_by: c.answeredBy ?? null });

  /**
   * Moves the call on (at this clock time, applied in the call's order) and
   * posts the status callback when the caller asked for this event.
   */
  function setCallStatus(c: CallState, status: LocalCallStatus, event: (typeof callEvents)[number], answeredBy?: LocalAnsweredBy): void {
    if (closed) return;
    const now = clock.now();
    inCall(c, async () => {
      if (closed) return;
      c.status = status;
      c.dateUpdated = now;
      if (answeredBy) c.answeredBy = answeredBy;
      if (status === 'in-progress') c.startTime = now;
      const final = event === 'completed';
      if (final) {
        c.endTime = now;
        c.duration = c.startTime === undefined ? 0 : Math.round((now - c.startTime) / 1000);
      }
      recordCallStatus(c);
      emitCall(c);
      if (!c.statusCallback || !c.statusCallbackEvents.includes(event)) return;
      c.sequence += 1;
      const extra: Record<string, string> = { CallbackSource: 'call-progress-events', SequenceNumber: String(c.sequence - 1), Timestamp: rfc2822(now) };
      if (final) { extra.CallDuration = String(c.duration ?? 0); extra.Duration = String(Math.ceil((c.duration ?? 0) / 60)); }
      try {
        const res = await signedRequest(c.statusCallback, callParams(c, extra));
        if (res.status >= 400) log.warn({ sid: c.sid, status, httpStatus: res.status }, 'local Twilio: call status callback refused');
      } catch (err) {
        log.warn({ sid: c.sid, status, err: (err as Error).message }, 'local Twilio: call status callback failed');
      }
    });
  }

  /** Fetches (or takes the inline) TwiML when the call is answered. */
  function loadDocument(c: CallState): void {
    inCall(c, async () => {
      const params = callParams(c);
      let doc = c.twiml;
      if (doc === undefined && c.url) {
        try {
          const res = await signedRequest(c.url, params, c.method);
          if (res.status >= 400) { c.error = `11200 HTTP retrieval failure (${res.status})`; return; }
          doc = res.body;
        } catch (err) {
          c.error = `11200 HTTP retrieval failure (${(err as Error).message})`;
          return;
        }
      }
      if (doc === undefined || !/<Response\b/.test(doc)) { c.error = '12100 Document parse failure'; return; }
      c.document = doc;
      c.said = readTwiml(doc).said;
      recordLine({ kind: 'call-twiml', at: new Date(clock.now()).toISOString(), sid: c.sid, said: c.said });
      emitCall(c);
    });
  }

  /** The callee presses `digits`: POST the first Gather's action, signed. */
  function press(c: CallState, digits: string): void {
    inCall(c, async () => {
      if (!c.document) return;
      const gather = readTwiml(c.document).gather;
      if (!gather) return;
      // A Gather without action posts to the document's own URL (only a fetched document has one).
      let action: string;
      try { action = new URL(gather.action ?? c.url ?? '', c.url).toString(); } catch { c.error = '11100 Invalid URL format (Gather action)'; return; }
      c.digits = digits;
      c.gatherAction = action;
      const params = callParams(c, { Digits: digits, FinishedOnKey: '' });
      try {
        const res = await signedRequest(action, params, gather.method === 'GET' ? 'GET' : 'POST');
        c.gatherResponse = res;
        const next = readTwiml(res.body);
        c.said.push(...next.said);
      } catch (err) {
        c.gatherResponse = { status: 0, body: '' };
        c.error = `11200 HTTP retrieval failure (${(err as Error).message})`;
      }
      recordLine({ kind: 'gather', at: new Date(clock.now()).toISOString(), sid: c.sid, digits, http_status: c.gatherResponse.status });
      emitCall(c);
    });
  }

  /** Plays out the callee's script on the clock; every timer is set now, so one big clock step runs the whole call in order. */
  function runCall(c: CallState): void {
    const script = scripts.get(c.to) ?? defaultScripts[c.to] ?? { answer: 'human' };
    later(0, () => setCallStatus(c, 'initiated', 'initiated'));
    if (script.answer === 'failed') { later(ringMs, () => setCallStatus(c, 'failed', 'completed')); return; }
    if (script.answer === 'busy') { later(ringMs, () => setCallStatus(c, 'busy', 'completed')); return; }
    later(ringMs, () => setCallStatus(c, 'ringing', 'ringing'));
    if (script.answer === 'no-answer') { later(ringMs + (script.afterMs ?? noAnswerMs), () => setCallStatus(c, 'no-answer', 'completed')); return; }
    const answerAt = ringMs + (script.afterMs ?? answerMs);
    later(answerAt, () => {
      const answeredBy = c.machineDetection ? (script.answer === 'human' ? 'human' : 'machine_start') : undefined;
      setCallStatus(c, 'in-progress', 'answered', answeredBy);
      loadDocument(c);
    });
    const pressAfter = script.pressAfterMs ?? pressMs;
    if (script.answer === 'human' && script.press !== undefined) {
      const digits = script.press;
      later(answerAt + Math.min(pressAfter, talkMs - 1), () => { if (!closed) press(c, digits); });
    }
    later(answerAt + talkMs, () => setCallStatus(c, 'completed', 'completed'));
  }

  function toCallResource(c: LocalCall): Record<string, unknown> {
    const uri = `/${apiVersion}/Accounts/${c.accountSid}/Calls/${c.sid}.json`;
    return {
      account_sid: c.accountSid, annotation: null, answered_by: c.answeredBy ?? null, api_version: apiVersion, caller_name: null,
      date_created: rfc2822(c.dateCreated), date_updated: rfc2822(c.dateUpdated), direction: c.direction,
      duration: c.duration === undefined ? null : String(c.duration), end_time: c.endTime === undefined ? null : rfc2822(c.endTime),
      forwarded_from: null, from: c.from, from_formatted: c.from, group_sid: null, parent_call_sid: null, phone_number_sid: null,
      price: null, price_unit: 'USD', queue_time: '0', sid: c.sid, start_time: c.startTime === undefined ? null : rfc2822(c.startTime),
      status: c.status, subresource_uris: { notifications: uri.replace(/\.json$/, '/Notifications.json'), recordings: uri.replace(/\.json$/, '/Recordings.json') },
      to: c.to, to_formatted: c.to, trunk_sid: null, uri,
    };
  }

  function validateCall(body: Record<string, unknown>): Omit<LocalCall, 'sid' | 'accountSid' | 'status' | 'direction' | 'dateCreated' | 'dateUpdated' | 'said'> | TwilioError {
    const to = formString(body.To)?.trim();
    const from = formString(body.From)?.trim();
    const url = formString(body.Url);
    const twiml = formString(body.Twiml);
    const statusCallback = formString(body.StatusCallback);
    const method = (formString(body.Method) ?? 'POST').toUpperCase();
    const machineDetection = formString(body.MachineDetection);
    const events = body.StatusCallbackEvent === undefined ? ['completed'] : (Array.isArray(body.StatusCallbackEvent) ? body.StatusCallbackEvent : [body.StatusCallbackEvent]).flatMap((e) => String(e).split(/[\s,]+/)).filter(Boolean);
    if (!to) return twilioError(400, 21201, "No 'To' number is specified");
    if (!e164.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!from) return twilioError(400, 21213, "No 'From' number is specified");
    if (!e164.test(from)) return twilioError(400, 21212, `Invalid 'From' Phone Number: ${from}`);
    const httpUrl = (u: string): boolean => { try { return ['http:', 'https:'].includes(new URL(u).protocol); } catch { return false; } };
    if (url === undefined && twiml === undefined) return twilioError(400, 21205, "A 'Url', 'Twiml' or 'ApplicationSid' parameter is required");
    if (url !== undefined && !httpUrl(url)) return twilioError(400, 21205, 'Url is not a valid URL');
    if (url === undefined && twiml !== undefined && [...twiml].length > maxInlineTwiml) return twilioError(400, 32018, `Twiml size exceeded maximum allowed value of ${maxInlineTwiml} characters`);
    if (method !== 'GET' && method !== 'POST') return twilioError(400, 21206, 'Method must be GET or POST');
    if (statusCallback !== undefined && !httpUrl(statusCallback)) return twilioError(400, 21609, 'Invalid StatusCallback url.');
    const unknown = events.find((e) => !(callEvents as readonly string[]).includes(e));
    if (unknown !== undefined) return twilioError(400, 21626, `Invalid StatusCallbackEvent: ${unknown}`);
    if (machineDetection !== undefined && machineDetection !== 'Enable' && machineDetection !== 'DetectMessageEnd') return twilioError(400, 21626, 'MachineDetection must be Enable or DetectMessageEnd');
    const out: ReturnType<typeof validateCall> = { to, from, method, statusCallbackEvents: events };
    // Twilio prefers Url when both are given.
    if (url !== undefined) out.url = url; else if (twiml !== undefined) out.twiml = twiml;
    if (statusCallback !== undefined) out.statusCallback = statusCallback;
    if (machineDetection !== undefined) out.machineDetection = machineDetection;
    return out;
  }

  // ── Inbound SMS ──────────────────────────────────────────────────────────

  /** Accepts an outbound message (API or a `<Message>` reply) and starts its lifecycle. */
  function acceptMessage(v: { to: string; from: string; text: string; statusCallback?: string }): LocalMessage {
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
    return m;
  }

  async function simulateInboundSms(sms: { from: string; to: string; body: string }): Promise<LocalInboundSms> {
    const url = inboundSmsUrl;
    if (!url) throw new Error('local Twilio: no inbound SMS URL configured (setInboundSmsUrl)');
    if (!e164.test(sms.from) || !e164.test(sms.to)) throw new Error('local Twilio: inbound SMS numbers must be E.164');
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const at = clock.now();
    const params: Record<string, string> = {
      AccountSid: accountSid, ApiVersion: apiVersion, Body: sms.body, From: sms.from, MessageSid: sid, NumMedia: '0',
      NumSegments: String(segments(sms.body)), SmsMessageSid: sid, SmsSid: sid, SmsStatus: 'received', To: sms.to,
    };
    recordLine({ kind: 'inbound', at: new Date(at).toISOString(), sid, from: sms.from, to: sms.to, body: sms.body });
    const entry: LocalInboundSms = { sid, from: sms.from, to: sms.to, body: sms.body, at, url, httpStatus: 0, replies: [] };
    inbound.push(entry);
    if (inbound.length > maxMessages) inbound.shift();
    const work = (async () => {
      try {
        const res = await signedRequest(url, params);
        entry.httpStatus = res.status;
        if (res.status < 400) entry.replies = readTwiml(res.body).messages.filter((b) => b !== '');
      } catch (err) {
        log.warn({ sid, err: (err as Error).message }, 'local Twilio: inbound SMS webhook failed');
      }
      log.info({ sid, httpStatus: entry.httpStatus, replies: entry.replies.length }, 'local Twilio: inbound SMS delivered to the webhook');
      // Twilio sends a <Message> reply from the number that was texted, back to the sender.
      if (!closed) for (const text of entry.replies) acceptMessage({ to: sms.from, from: sms.to, text });
    })();
    await track(work);
    return { ...entry, replies: [...entry.replies] };
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
  /**
   * One page of a Twilio list resource (newest first), with Twilio's paging
   * envelope; the page URIs keep the filters `keep` so twilio-node can follow them.
   */
  function listPage<T>(q: Record<string, string | undefined>, resource: 'Messages' | 'Calls', key: 'messages' | 'calls', items: T[], toJson: (item: T) => unknown, keep: string[]) {
    const pageSize = Math.min(1000, Math.max(1, Number(q.PageSize ?? 50) || 50));
    const page = Math.max(0, Number(q.Page ?? 0) || 0);
    const start = page * pageSize;
    const slice = items.slice(start, start + pageSize);
    const listUri = (p: number) => {
      const params = new URLSearchParams();
      for (const k of keep) { const value = q[k]; if (value) params.set(k, value); }
      params.set('PageSize', String(pageSize));
      params.set('Page', String(p));
      return `/${apiVersion}/Accounts/${accountSid}/${resource}.json?${params.toString()}`;
    };
    return {
      [key]: slice.map(toJson),
      end: start + Math.max(0, slice.length - 1),
      first_page_uri: listUri(0),
      next_page_uri: start + pageSize < items.length ? listUri(page + 1) : null,
      previous_page_uri: page > 0 ? listUri(page - 1) : null,
      page,
      page_size: pageSize,
      start,
      uri: listUri(page),
    };
  }
  const notFound = (reply: FastifyReply, path: string) => sendError(reply, twilioError(404, 20404, `The requested resource ${path} was not found`));

  app.post<{ Params: { account: string }; Body: Record<string, unknown> }>(`${base}/Messages.json`, async (req, reply) => {
    if (!checkAccount(req, reply)) return reply;
    const v = validate(req.body ?? {});
    if ('code' in v) return sendError(reply, v);
    const m = acceptMessage(v);
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
    const sentFilter = dateFilter(q, 'DateSent');
    if (!sentFilter) return sendError(reply, twilioError(400, 20001, 'Invalid DateSent filter'));
    // Twilio lists the newest message first.
    const all = [...bySid.values()].reverse().filter((m) => (!q.To || m.to === q.To) && (!q.From || m.from === q.From) && sentFilter(m.dateSent));
    return reply.send(listPage(q, 'Messages', 'messages', all, toResource, ['To', 'From', ...dateParams('DateSent')]));
  });

  app.post<{ Params: { account: string }; Body: Record<string, unknown> }>(`${base}/Calls.json`, async (req, reply) => {
    if (!checkAccount(req, reply)) return reply;
    const v = validateCall(req.body ?? {});
    if ('code' in v) return sendError(reply, v);
    const now = clock.now();
    const c: CallState = {
      ...v, sid: `CA${randomBytes(16).toString('hex')}`, accountSid, status: 'queued', direction: 'outbound-api',
      dateCreated: now, dateUpdated: now, said: [], chain: Promise.resolve(), sequence: 0,
    };
    calls.set(c.sid, c);
    if (calls.size > maxMessages) {
      const oldest = calls.keys().next().value;
      if (oldest !== undefined) calls.delete(oldest);
    }
    log.info({ sid: c.sid, amd: c.machineDetection ?? 'off' }, 'local Twilio: call queued');
    recordLine({ kind: 'call', at: new Date(now).toISOString(), ...toCallResource(c), url: c.url ?? null, twiml: c.twiml ?? null, machine_detection: c.machineDetection ?? null });
    emitCall(c);
    runCall(c);
    return reply.code(201).send(toCallResource(c));
  });

  app.get<{ Params: { account: string; file: string } }>(`${base}/Calls/:file`, async (req, reply) => {
    if (!checkAccount(req, reply)) return reply;
    const c = calls.get(req.params.file.replace(/\.json$/, ''));
    return c ? reply.send(toCallResource(c)) : notFound(reply, req.url);
  });

  app.get<{ Params: { account: string }; Querystring: Record<string, string | undefined> }>(`${base}/Calls.json`, async (req, reply) => {
    if (!checkAccount(req, reply)) return reply;
    const q = req.query;
    const startFilter = dateFilter(q, 'StartTime');
    if (!startFilter) return sendError(reply, twilioError(400, 20001, 'Invalid StartTime filter'));
    const all = [...calls.values()].reverse().filter((c) => (!q.To || c.to === q.To) && (!q.From || c.from === q.From) && (!q.Status || c.status === q.Status) && startFilter(c.startTime));
    return reply.send(listPage(q, 'Calls', 'calls', all, toCallResource, ['To', 'From', 'Status', ...dateParams('StartTime')]));
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
    calls: () => [...calls.values()].map(callSnapshot),
    onCall(fn) {
      callListeners.add(fn);
      return () => { callListeners.delete(fn); };
    },
    scriptNumber(phone, script) {
      scripts.set(phone, { ...script });
    },
    setInboundSmsUrl(url) {
      inboundSmsUrl = url;
    },
    simulateInboundSms,
    inboundMessages: () => inbound.map((m) => ({ ...m, replies: [...m.replies] })),
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) t.unsubscribe();
      timers.clear();
      listeners.clear();
      callListeners.clear();
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await recordChain; // even with nothing recorded, the record folder is being made
      await app.close();
    },
  };
}
