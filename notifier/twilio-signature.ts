/**
 * Twilio request signatures (`X-Twilio-Signature`), per Twilio's documented
 * algorithm (https://www.twilio.com/docs/usage/security#validating-requests):
 * take the full URL Twilio requested, append each POST parameter's name and
 * value sorted by name, HMAC-SHA1 the string keyed by the auth token, and
 * base64 the digest. The local Twilio server signs its status callbacks with
 * this, and the SMS channel checks incoming callbacks with it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Form parameters as Twilio sends them: a name may repeat (an array of values). */
export type TwilioParams = Record<string, string | readonly string[] | undefined>;

function signedString(url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    if (typeof value === 'string') data += name + value;
    // Repeated names: each distinct value once, in sorted order (what twilio-node does).
    else for (const v of [...new Set(value)].sort()) data += name + v;
  }
  return data;
}

/**
 * The `X-Twilio-Signature` value for a request to `url` carrying form `params`.
 *
 * @example
 * signTwilioRequest(token, 'https://hub.example/twilio/status', { MessageSid: 'SM…', MessageStatus: 'delivered' })
 */
export function signTwilioRequest(authToken: string, url: string, params: TwilioParams = {}): string {
  return createHmac('sha1', authToken).update(Buffer.from(signedString(url, params), 'utf8')).digest('base64');
}

/** `url` with and without its scheme's default port: Twilio may have signed either form. */
function urlVariants(url: string): string[] {
  const out = [url];
  let parsed: URL;
  try { parsed = new URL(url); } catch { return out; }
  const defaultPort = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : '';
  if (!defaultPort) return out;
  // Rebuild by string surgery so the path and query keep the exact characters that were signed.
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*?)(:\d+)?([/?#].*)?$/i.exec(url);
  if (!m) return out;
  const [, origin = '', port, rest = ''] = m;
  if (port === `:${defaultPort}`) out.push(origin + rest);
  else if (port === undefined) out.push(`${origin}:${defaultPort}${rest}`);
  return out;
}

/**
 * Whether `signature` (the `X-Twilio-Signature` header) is the valid signature
 * of a request to `url` with form `params`. Constant-time comparison; a
 * missing or malformed header is simply invalid.
 */
export function validateTwilioSignature(authToken: string, signature: string | undefined, url: string, params: TwilioParams = {}): boolean {
  if (!signature) return false;
  const got = Buffer.from(signature);
  return urlVariants(url).some((u) => {
    const want = Buffer.from(signTwilioRequest(authToken, u, params));
    return want.length === got.length && timingSafeEqual(want, got);
  });
}
