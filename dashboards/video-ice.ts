/**
 * ICE servers for video calls, from configuration: STUN/TURN with
 * time-limited credentials in coturn's shared-secret scheme (`use-auth-secret`,
 * the "TURN REST API": username = `expiry:user`, credential =
 * base64(HMAC-SHA1(secret, username))), or Twilio Network Traversal tokens
 * when a Twilio client is configured. The long-term TURN secret never leaves
 * the hub; browsers only get credentials that expire.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import type { TwilioClient } from '../notifier/index.js';

/** What a browser passes to `new RTCPeerConnection({ iceServers })`. */
export interface IceServer { urls: string | string[]; username?: string; credential?: string }

export interface VideoIceConfig {
  /** e.g. `['stun:turn.example.jp:3478']`. */
  stun?: string[];
  /** coturn with `use-auth-secret` and `static-auth-secret=<secret>`. */
  turn?: { urls: string[]; secret: string; ttlSeconds?: number };
  /** Twilio Network Traversal Service (`client.tokens.create`); preferred when set. */
  twilio?: { client: Pick<TwilioClient, 'tokens'>; ttlSeconds?: number };
}

const configSchema = z.object({
  stun: z.array(z.string().regex(/^stuns?:/)).optional(),
  turn: z.object({ urls: z.array(z.string().regex(/^turns?:/)).min(1), secret: z.string().min(16), ttlSeconds: z.number().int().min(60).max(86_400).optional() }).optional(),
  twilio: z.object({ client: z.object({ tokens: z.unknown() }), ttlSeconds: z.number().int().min(60).max(86_400).optional() }).optional(),
});

/**
 * coturn's REST-API credentials for `user`, valid until `now + ttlSeconds`.
 *
 * @example
 * turnCredentials('s3cret…', 'care1', Date.now(), 3600) // { username: '1767139200:care1', credential: 'q1…=' }
 */
export function turnCredentials(secret: string, user: string, now: number, ttlSeconds: number): { username: string; credential: string } {
  const username = `${Math.floor(now / 1000) + ttlSeconds}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

export interface IceProvider {
  /** ICE servers for one signed-in person (the id goes into the TURN username, never a name). */
  iceServers(accountId: string): Promise<IceServer[]>;
}

/**
 * Validates the ICE configuration and returns the provider the signalling hands
 * to each browser. `wallNow` is real time on purpose: the expiry is checked by
 * coturn against its own wall clock, not by the hub's (possibly virtual) clock.
 */
export function createIceProvider(cfg: VideoIceConfig, wallNow: () => number = Date.now): IceProvider {
  const checked = configSchema.safeParse(cfg);
  if (!checked.success) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `video ICE: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return {
    async iceServers(accountId) {
      if (cfg.twilio) {
        const token = await cfg.twilio.client.tokens.create({ ttl: cfg.twilio.ttlSeconds ?? 3600 });
        return token.iceServers.map((s) => {
          const out: IceServer = { urls: s.urls ?? s.url ?? [] };
          if (s.username) out.username = s.username;
          if (s.credential) out.credential = s.credential;
          return out;
        });
      }
      const out: IceServer[] = [];
      if (cfg.stun?.length) out.push({ urls: cfg.stun });
      if (cfg.turn) out.push({ urls: cfg.turn.urls, ...turnCredentials(cfg.turn.secret, accountId, wallNow(), cfg.turn.ttlSeconds ?? 3600) });
      return out;
    },
  };
}
