/**
 * A local LINE-compatible server: the part of the LINE Messaging API the hub
 * uses (push, reply, the webhook endpoint setting), with the channel access
 * token checked, LINE's validation errors, `X-Line-Retry-Key` de-duplication,
 * and simulated LINE users who add the bot as a friend, type text and tap
 * postback buttons — delivered to the hub as webhooks signed like LINE's
 * (`X-Line-Signature`: base64 HMAC-SHA256 of the body, keyed by the channel
 * secret). Tests and the offline demo point the real `@line/bot-sdk`
 * `MessagingApiClient` at it (`baseURL`); every message it accepts is kept
 * in memory and, with `recordFile`, appended to an NDJSON file — "the local
 * LINE server's record". A development stand-in, never used in production
 * (docs/channels.md).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { Logger } from '../core/logger.js';

/** One message request the server accepted (a push or a reply). */
export interface LocalLineMessage {
  /** The first message's id, as `sentMessages[0].id` in LINE's answer. */
  id: string;
  kind: 'push' | 'reply';
  /** The LINE user id (push) or the user the reply token was issued for. */
  to: string;
  /** The messages as sent (text, template, ...), in LINE's JSON form. */
  messages: unknown[];
  at: number;
  retryKey?: string;
}

/** A webhook the server delivered to the hub, and the hub's answer. */
export interface LocalLineWebhook { events: unknown[]; status: number; at: number }

/** LINE user ids with scripted behaviour, for failure paths (docs/channels.md). */
export const specialLineUsers = {
  /** Pushes to this user are refused (400), like a user who blocked the bot. */
  refused: `U${'0'.repeat(31)}1`,
} as const;

export interface LocalLine {
  /** Base URL for `new messagingApi.MessagingApiClient({ baseURL, channelAccessToken })`. */
  readonly url: string;
  readonly channelAccessToken: string;
  /** The secret webhooks are signed with (give it to the hub's webhook route). */
  readonly channelSecret: string;
  /** Everything accepted so far, oldest first. */
  readonly messages: readonly LocalLineMessage[];
  /** Every webhook delivered, oldest first. */
  readonly webhooks: readonly LocalLineWebhook[];
  /** The webhook URL (set with the SDK's `setWebhookEndpoint`, or here). */
  webhookUrl: string | undefined;
  /** A new simulated LINE user id (`U` + 32 hex digits). */
  newUserId(): string;
  /** The user adds the bot as a friend: a `follow` event. Returns the hub's HTTP status. */
  follow(userId: string, o?: { forge?: boolean }): Promise<number>;
  /** The user types a text message. */
  say(userId: string, text: string, o?: { forge?: boolean }): Promise<number>;
  /** The user taps a postback button (its `data`). */
  postback(userId: string, data: string, o?: { forge?: boolean }): Promise<number>;
  /** The user blocks the bot: an `unfollow` event. */
  unfollow(userId: string): Promise<number>;
  /** Messages sent to one user, oldest first. */
  sentTo(userId: string): LocalLineMessage[];
  /** Called for every accepted message; returns an unsubscribe function. */
  onMessage(fn: (m: LocalLineMessage) => void): () => void;
  close(): Promise<void>;
}

export interface LocalLineOptions {
  logger: Logger;
  clock?: SchedulerLike;
  channelAccessToken?: string;
  channelSecret?: string;
  /** Appends every accepted message to this NDJSON file. */
  recordFile?: string;
  webhookUrl?: string;
}

const userIdPattern = /^U[0-9a-f]{32}$/;
/** A message id like LINE's: 18 digits. */
const messageId = () => String(BigInt(`0x${randomBytes(8).toString('hex')}`) % 10n ** 18n).padStart(18, '1');

/** LINE's signature of a webhook body: base64 HMAC-SHA256 keyed by the channel secret. */
export function signLineWebhook(channelSecret: string, body: string): string {
  return createHmac('sha256', channelSecret).update(body).digest('base64');
}

/**
 * Starts the server on 127.0.0.1 and a free port.
 *
 * @example
 * const line = await startLocalLine({ logger });
 * const client = new messagingApi.MessagingApiClient({ baseURL: line.url, channelAccessToken: line.channelAccessToken });
 */
export async function startLocalLine(opts: LocalLineOptions): Promise<LocalLine> {
  const clock = opts.clock ?? asyncScheduler;
  const log = opts.logger;
  const channelAccessToken = opts.channelAccessToken ?? randomBytes(24).toString('base64url');
  const channelSecret = opts.channelSecret ?? randomBytes(16).toString('hex');
  const messages: LocalLineMessage[] = [];
  const webhooks: LocalLineWebhook[] = [];
  const retryKeys = new Map<string, LocalLineMessage>();
  /** Reply tokens issued with webhook events: token → user, usable once. */
  const replyTokens = new Map<string, string>();
  let record: Promise<void> = opts.recordFile ? mkdir(dirname(opts.recordFile), { recursive: true }).then(() => undefined) : Promise.resolve();

  const listeners = new Set<(m: LocalLineMessage) => void>();
  const keep = (m: LocalLineMessage): void => {
    messages.push(m);
    for (const fn of listeners) { try { fn(m); } catch (err) { log.error({ err }, 'local LINE: onMessage listener threw'); } }
    log.info({ kind: m.kind, id: m.id, messages: m.messages.length }, 'local LINE: message accepted');
    const file = opts.recordFile;
    if (!file) return;
    record = record.then(() => appendFile(file, `${JSON.stringify(m)}\n`, 'utf8')).catch((err: unknown) => { log.error({ err }, 'local LINE: cannot write the record'); });
  };

  const app = Fastify({ logger: false, forceCloseConnections: true });
  const lineError = (message: string, details?: Array<{ message: string; property: string }>) => (details ? { message, details } : { message });

  app.addHook('onRequest', async (req, reply) => {
    if (req.headers.authorization !== `Bearer ${channelAccessToken}`) {
      return reply.code(401).send(lineError('Authentication failed. Confirm that the access token in the authorization header is valid.'));
    }
    return undefined;
  });

  const validMessages = (v: unknown): v is unknown[] => Array.isArray(v) && v.length >= 1 && v.length <= 5;

  app.post('/v2/bot/message/push', async (req, reply) => {
    const body = req.body as { to?: unknown; messages?: unknown } | undefined;
    const retryKey = req.headers['x-line-retry-key'];
    if (typeof retryKey === 'string') {
      const seen = retryKeys.get(retryKey);
      // LINE: a retried request that was already accepted is not sent again (409, with what was sent).
      if (seen) return reply.code(409).header('x-line-accepted-request-id', seen.id).send({ message: 'The retry key is already accepted', sentMessages: [{ id: seen.id }] });
    }
    if (typeof body?.to !== 'string' || !userIdPattern.test(body.to)) return reply.code(400).send(lineError('The request body has 1 error(s)', [{ message: 'Invalid user id', property: 'to' }]));
    if (!validMessages(body.messages)) return reply.code(400).send(lineError('The request body has 1 error(s)', [{ message: 'Size must be between 1 and 5', property: 'messages' }]));
    if (body.to === specialLineUsers.refused) return reply.code(400).send(lineError('Failed to send messages'));
    const m: LocalLineMessage = { id: messageId(), kind: 'push', to: body.to, messages: body.messages, at: clock.now() };
    if (typeof retryKey === 'string') { m.retryKey = retryKey; retryKeys.set(retryKey, m); }
    keep(m);
    return { sentMessages: body.messages.map((_, i) => ({ id: i === 0 ? m.id : messageId(), quoteToken: randomBytes(8).toString('hex') })) };
  });

  app.post('/v2/bot/message/reply', async (req, reply) => {
    const body = req.body as { replyToken?: unknown; messages?: unknown } | undefined;
    const user = typeof body?.replyToken === 'string' ? replyTokens.get(body.replyToken) : undefined;
    if (!user || typeof body?.replyToken !== 'string') return reply.code(400).send(lineError('Invalid reply token'));
    if (!validMessages(body.messages)) return reply.code(400).send(lineError('The request body has 1 error(s)', [{ message: 'Size must be between 1 and 5', property: 'messages' }]));
    replyTokens.delete(body.replyToken);
    const m: LocalLineMessage = { id: messageId(), kind: 'reply', to: user, messages: body.messages, at: clock.now() };
    keep(m);
    return { sentMessages: body.messages.map(() => ({ id: messageId() })) };
  });

  app.put('/v2/bot/channel/webhook/endpoint', async (req, reply) => {
    const endpoint = (req.body as { endpoint?: unknown } | undefined)?.endpoint;
    if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint)) return reply.code(400).send(lineError('Invalid webhook endpoint URL'));
    server.webhookUrl = endpoint;
    return {};
  });
  app.get('/v2/bot/channel/webhook/endpoint', async () => ({ endpoint: server.webhookUrl ?? '', active: server.webhookUrl !== undefined }));

  const url = await app.listen({ host: '127.0.0.1', port: 0 });

  async function deliver(userId: string, event: Record<string, unknown>, o: { forge?: boolean; reply?: boolean } = {}): Promise<number> {
    const target = server.webhookUrl;
    if (!target) throw new Error('local LINE: no webhook URL set');
    const full: Record<string, unknown> = {
      ...event, timestamp: clock.now(), mode: 'active', webhookEventId: randomUUID().replace(/-/g, '').toUpperCase(),
      deliveryContext: { isRedelivery: false }, source: { type: 'user', userId },
    };
    if (o.reply !== false) {
      const token = randomBytes(16).toString('hex');
      replyTokens.set(token, userId);
      full.replyToken = token;
    }
    const body = JSON.stringify({ destination: `U${randomBytes(16).toString('hex')}`, events: [full] });
    const signature = o.forge ? signLineWebhook(`${channelSecret}-forged`, body) : signLineWebhook(channelSecret, body);
    const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signature }, body });
    await res.arrayBuffer();
    webhooks.push({ events: [full], status: res.status, at: clock.now() });
    return res.status;
  }

  const server: LocalLine = {
    url, channelAccessToken, channelSecret, messages, webhooks,
    webhookUrl: opts.webhookUrl,
    newUserId: () => `U${randomBytes(16).toString('hex')}`,
    follow: (userId, o) => deliver(userId, { type: 'follow', follow: { isUnblocked: false } }, o),
    say: (userId, text, o) => deliver(userId, { type: 'message', message: { type: 'text', id: messageId(), quoteToken: randomBytes(8).toString('hex'), text } }, o),
    postback: (userId, data, o) => deliver(userId, { type: 'postback', postback: { data } }, o),
    unfollow: (userId) => deliver(userId, { type: 'unfollow' }, { reply: false }),
    sentTo: (userId) => messages.filter((m) => m.to === userId),
    onMessage(fn) { listeners.add(fn); return () => { listeners.delete(fn); }; },
    async close() { await app.close(); await record; },
  };
  log.info({ url }, 'local LINE server listening');
  return server;
}
