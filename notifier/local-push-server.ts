/**
 * A local web push service (RFC 8030) for tests and the offline demo, like
 * the local Twilio and LINE servers: the hub's push channel sends to it with
 * the real `web-push` library, and it does what a browser vendor's push
 * service and the browser together would do with the message:
 *
 * - checks the VAPID authorisation (RFC 8292): `Authorization: vapid t=<JWT>, k=<key>`,
 *   the JWT's ES256 signature under the key `k`, its `aud` (this service's
 *   origin) and `exp` (in the future, at most 24 hours ahead);
 * - decrypts the `aes128gcm` payload (RFC 8188, RFC 8291) with the
 *   subscription's private key and auth secret, which it made itself
 *   (`subscribe()`: ECDH P-256 + 16 random bytes, as a browser does);
 * - records the message (in memory, `GET /messages` as JSON, and with
 *   `recordFile` appended to NDJSON) and answers `201 Created` with a
 *   `Location` naming the message, as RFC 8030 §5 says.
 *
 * An unknown subscription gets 404 and an unsubscribed one 410 — the answers
 * on which a sender removes the subscription. It listens on HTTPS (web-push
 * speaks nothing else) with a self-signed certificate made at start; the
 * sender trusts it through `ca`. A development stand-in, never a real push
 * service (docs/channels.md).
 */
import { createECDH, createPublicKey, generateKeyPairSync, createDecipheriv, hkdfSync, createHmac, randomBytes, randomUUID, verify as verifySignature } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import Fastify, { type FastifyReply } from 'fastify';
import forge from 'node-forge';
import type { Logger } from '../core/logger.js';
import type { PushSubscriptionData } from './push-subscription.js';

/** One push the service accepted, decrypted. */
export interface LocalPushMessage {
  /** The message id (the `Location` answered to the sender). */
  id: string;
  /** The subscription's endpoint. */
  endpoint: string;
  /** Wall-clock ms when it arrived. */
  at: number;
  ttl: number;
  urgency?: string;
  topic?: string;
  /** The decrypted payload, as text. */
  text: string;
  /** The payload parsed as JSON, when it is JSON. */
  json?: unknown;
  /** The VAPID claims that authorised it. */
  vapid: { aud: string; exp: number; sub?: string; publicKey: string };
}

export interface LocalPush {
  /** The service's origin (`https://127.0.0.1:<port>`): what a VAPID `aud` must be. */
  readonly url: string;
  /** The self-signed certificate (PEM) a sender must trust. */
  readonly ca: string;
  readonly messages: readonly LocalPushMessage[];
  /** A new subscription, as a browser's `PushSubscription.toJSON()` would give it. */
  subscribe(): PushSubscriptionData;
  /** The subscription is gone (the browser unsubscribed): pushes to it get 410. */
  unsubscribe(endpoint: string): void;
  /** Messages to one subscription, oldest first. */
  sentTo(endpoint: string): LocalPushMessage[];
  /** Called for every accepted message; returns an unsubscribe function. */
  onMessage(fn: (m: LocalPushMessage) => void): () => void;
  close(): Promise<void>;
}

export interface LocalPushOptions {
  logger: Logger;
  /** Appends every accepted message to this NDJSON file. */
  recordFile?: string;
  /** Wall-clock time for the VAPID `exp` check (default `Date.now`). */
  now?: () => number;
}

/** What a record of the service says about a request it refused. */
class Refusal extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** A self-signed certificate for 127.0.0.1 (and localhost), made at start. */
function selfSignedCert(): { key: string; cert: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: 'mimamori local push service' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { key: privateKey, cert: forge.pki.certificateToPem(cert) };
}

/** A P-256 public key from its uncompressed point (65 bytes, base64url), as a KeyObject. */
function p256PublicKey(raw: Buffer) {
  if (raw.length !== 65 || raw[0] !== 4) throw new Refusal(401, 'the VAPID key is not an uncompressed P-256 point');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
}

/**
 * Checks `Authorization: vapid t=<jwt>, k=<public key>` (RFC 8292 §3): an
 * ES256 JWT signed with the key `k`, for this origin, not expired, at most
 * 24 hours ahead. Returns its claims.
 */
export function checkVapid(header: string | undefined, origin: string, now: number): LocalPushMessage['vapid'] {
  const m = /^vapid\s+t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)\s*$/.exec(header ?? '');
  if (!m?.[1] || !m[2]) throw new Refusal(401, 'missing or malformed VAPID authorization');
  const [h, p, s] = m[1].split('.');
  if (!h || !p || !s) throw new Refusal(401, 'the VAPID token is not a JWT');
  let head: { alg?: unknown }; let claims: { aud?: unknown; exp?: unknown; sub?: unknown };
  try {
    head = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof head;
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof claims;
  } catch { throw new Refusal(401, 'the VAPID token is not JSON'); }
  if (head.alg !== 'ES256') throw new Refusal(401, 'the VAPID token is not ES256');
  const key = p256PublicKey(Buffer.from(m[2], 'base64url'));
  const ok = verifySignature('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) throw new Refusal(403, 'the VAPID signature does not verify with the key sent');
  if (claims.aud !== origin) throw new Refusal(403, `the VAPID audience is not ${origin}`);
  const nowS = Math.floor(now / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= nowS) throw new Refusal(403, 'the VAPID token has expired');
  if (claims.exp > nowS + 24 * 3600) throw new Refusal(403, 'the VAPID token expires more than 24 hours ahead');
  const out: LocalPushMessage['vapid'] = { aud: claims.aud, exp: claims.exp, publicKey: m[2] };
  if (typeof claims.sub === 'string') out.sub = claims.sub;
  return out;
}

/** The subscriber's side of a subscription: its ECDH private key and auth secret. */
interface SubscriberKeys { ecdh: ReturnType<typeof createECDH>; auth: Buffer; gone: boolean }

/**
 * Decrypts an `aes128gcm` web push body (RFC 8291 §3.4, RFC 8188 §2) for a
 * subscriber: header `salt(16) | rs(4) | idlen(1) | keyid` where keyid is
 * the sender's ephemeral public key; one record, padded with a 0x02
 * delimiter.
 */
export function decryptPushBody(body: Buffer, ecdh: ReturnType<typeof createECDH>, authSecret: Buffer): Buffer {
  if (body.length < 21 + 65 + 17) throw new Refusal(400, 'the body is too short for aes128gcm');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] ?? 0;
  if (idlen !== 65) throw new Refusal(400, 'the keyid is not a P-256 public key');
  const senderPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  if (records.length > rs) throw new Refusal(400, 'more than one record: not what web push sends');
  let shared: Buffer;
  try { shared = ecdh.computeSecret(senderPublic); } catch { throw new Refusal(400, 'the sender key is not on P-256'); }
  // RFC 8291 §3.3: IKM from the ECDH secret, keyed by the auth secret, bound to both public keys.
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, authSecret, keyInfo, 32));
  // RFC 8188 §2.2/2.3: content key and nonce from the salt.
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const cek = createHmac('sha256', prk).update(Buffer.from('Content-Encoding: aes128gcm\0\x01')).digest().subarray(0, 16);
  const nonce = createHmac('sha256', prk).update(Buffer.from('Content-Encoding: nonce\0\x01')).digest().subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  let plain: Buffer;
  try { plain = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]); } catch { throw new Refusal(400, 'the payload does not decrypt with the subscription keys'); }
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Refusal(400, 'the last record lacks the 0x02 padding delimiter');
  return plain.subarray(0, end);
}

/**
 * Starts the local push service on 127.0.0.1 and a free port.
 *
 * @example
 * const local = await startLocalPush({ logger });
 * const sub = local.subscribe(); // store it as the person's push address
 * // web-push: sendNotification(sub, payload, { vapidDetails, agent: new https.Agent({ ca: local.ca }) })
 */
export async function startLocalPush(opts: LocalPushOptions): Promise<LocalPush> {
  const log = opts.logger;
  const now = opts.now ?? Date.now;
  const tls = selfSignedCert();
  const app = Fastify({ logger: false, https: { key: tls.key, cert: tls.cert } });
  const subscribers = new Map<string, SubscriberKeys>();
  const messages: LocalPushMessage[] = [];
  const listeners = new Set<(m: LocalPushMessage) => void>();
  let origin = '';
  let writes: Promise<unknown> = opts.recordFile ? mkdir(dirname(opts.recordFile), { recursive: true }) : Promise.resolve();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 8192 }, (_req, body, done) => { done(null, body); });

  const refuse = (reply: FastifyReply, err: unknown) => {
    if (!(err instanceof Refusal)) throw err;
    log.warn({ status: err.status, reason: err.message }, 'local push service refused a push');
    return reply.code(err.status).send({ error: err.message });
  };

  app.post<{ Params: { id: string } }>('/push/:id', async (req, reply) => {
    try {
      const sub = subscribers.get(req.params.id);
      if (!sub) throw new Refusal(404, 'no such subscription');
      if (sub.gone) throw new Refusal(410, 'the subscription has been removed');
      const vapid = checkVapid(req.headers.authorization, origin, now());
      const ttl = Number(req.headers.ttl);
      if (!Number.isInteger(ttl) || ttl < 0) throw new Refusal(400, 'a TTL header is required (RFC 8030 §5.2)');
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new Refusal(415, 'only aes128gcm is accepted (RFC 8291)');
      const body = req.body;
      if (!Buffer.isBuffer(body)) throw new Refusal(400, 'an encrypted body is required');
      const text = decryptPushBody(body, sub.ecdh, sub.auth).toString('utf8');
      const m: LocalPushMessage = { id: randomUUID(), endpoint: `${origin}/push/${req.params.id}`, at: now(), ttl, text, vapid };
      const urgency = req.headers.urgency; const topic = req.headers.topic;
      if (typeof urgency === 'string') m.urgency = urgency;
      if (typeof topic === 'string') m.topic = topic;
      try { m.json = JSON.parse(text); } catch { /* a text payload */ }
      messages.push(m);
      if (opts.recordFile) { const file = opts.recordFile; writes = writes.then(() => appendFile(file, `${JSON.stringify(m)}\n`)).catch((err: unknown) => log.warn({ err }, 'push record not written')); }
      for (const fn of listeners) { try { fn(m); } catch (err) { log.warn({ err }, 'push listener failed'); } }
      return reply.code(201).header('location', `${origin}/messages/${m.id}`).send();
    } catch (err) { return refuse(reply, err); }
  });

  // The record, like the other local servers': newest last.
  app.get('/messages', async () => ({ messages }));
  app.get<{ Params: { id: string } }>('/messages/:id', async (req, reply) => {
    const m = messages.find((x) => x.id === req.params.id);
    return m ?? reply.code(404).send({ error: 'no such message' });
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('local push service: no address');
  origin = `https://127.0.0.1:${addr.port}`;

  return {
    url: origin,
    ca: tls.cert,
    messages,
    subscribe() {
      const id = randomBytes(16).toString('base64url');
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      subscribers.set(id, { ecdh, auth, gone: false });
      return { endpoint: `${origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
    },
    unsubscribe(endpoint) {
      const id = endpoint.slice(endpoint.lastIndexOf('/') + 1);
      const sub = subscribers.get(id);
      if (sub) sub.gone = true;
    },
    sentTo: (endpoint) => messages.filter((m) => m.endpoint === endpoint),
    onMessage(fn) { listeners.add(fn); return () => { listeners.delete(fn); }; },
    async close() { await app.close(); await writes; },
  };
}
