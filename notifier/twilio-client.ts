/**
 * The real twilio-node client, optionally pointed at the local
 * Twilio-compatible server. twilio-node always builds `https://*.twilio.com`
 * URLs; its documented extension point is a custom `httpClient` (an object
 * with `request(opts)` resolving to `{ statusCode, body, headers }`). Ours is
 * twilio-node's own `RequestClient` with the URL's origin rewritten, so form
 * encoding, auth headers and response parsing stay exactly the library's.
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type * as HttpResponse from 'twilio/lib/http/response.js';
import { MimamoriError } from '../core/errors.js';

export type TwilioClient = twilio.Twilio;

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** Base URL of a local Twilio-compatible server, e.g. `http://127.0.0.1:41234`. Absent: real Twilio. */
  baseUrl?: string;
  /** Per-request timeout in ms (twilio-node's default is 30 s; alerts should not wait that long). */
  timeoutMs?: number;
}

/** Hosts twilio-node talks to: api.twilio.com, messaging.twilio.com, regional/edge variants… */
const twilioHost = /(^|\.)twilio\.com$/i;

/**
 * Rewrites `https://api.twilio.com/2010-04-01/…` to `<baseUrl>/2010-04-01/…`,
 * keeping the path and query exactly as twilio-node built them.
 */
export function rewriteTwilioUrl(uri: string, baseUrl: string): string {
  const u = new URL(uri);
  if (!twilioHost.test(u.hostname)) return uri;
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}${u.pathname}${u.search}`;
}

class RedirectingRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string, timeoutMs: number) {
    super({ timeout: timeoutMs, keepAlive: true });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<HttpResponse.default<TData>> {
    return super.request<TData>({ ...opts, uri: rewriteTwilioUrl(opts.uri, this.baseUrl) });
  }
}

/**
 * Creates the real twilio-node client. With `baseUrl`, every request goes to
 * that server instead of Twilio (tests, the offline demo).
 *
 * @example
 * const client = createTwilioClient({ accountSid: local.accountSid, authToken: local.authToken, baseUrl: local.url });
 * await client.messages.create({ to: '+819012345678', from: '+815000000000', body: 'テスト' });
 */
export function createTwilioClient(opts: TwilioClientOptions): TwilioClient {
  if (!/^AC[0-9a-fA-F]{32}$/.test(opts.accountSid)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'Twilio accountSid must be AC followed by 32 hex digits');
  if (!opts.authToken) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'Twilio authToken is required');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (opts.baseUrl !== undefined) {
    try { new URL(opts.baseUrl); } catch { throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'Twilio baseUrl must be a URL'); }
    return twilio(opts.accountSid, opts.authToken, { httpClient: new RedirectingRequestClient(opts.baseUrl, timeoutMs), autoRetry: false });
  }
  return twilio(opts.accountSid, opts.authToken, { timeout: timeoutMs });
}

/**
 * A failed Twilio request in words, without phone numbers: a RestException
 * carries Twilio's own code; anything else is the network or a timeout.
 */
export function describeTwilioError(err: unknown): string {
  const e = err as { code?: unknown; status?: unknown; message?: string };
  const text = typeof e.code === 'number'
    ? `twilio ${e.code} (HTTP ${String(e.status)}): ${e.message ?? ''}`
    : `cannot reach Twilio: ${e.code === undefined ? '' : `${String(e.code)} `}${e.message ?? String(err)}`;
  return text.replace(/\+\d{6,15}/g, '[number]');
}
