/**
 * `POST /push/action`: where a push notification's buttons land. The service
 * worker posts `{ token, action: 'ack' | 'omw' }`; the token was signed by the
 * push channel for one alert and one person (ack-link.ts, purpose
 * `push-action`, so an e-mail link's token is refused here and the other way
 * round) and expires. No session is needed — the token is the authority, and
 * it can do nothing but answer that alert for that person. The answer goes
 * through the same responder as an SMS "1" or a LINE postback (`via: 'push'`),
 * so escalation stops exactly as it does there.
 *
 * Answers (JSON, in the token's language): 200 done; 403 forged, malformed or
 * expired (nothing acknowledged); 409 refused by the responder (already
 * resolved); 400 a bad body.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { SchedulerLike } from 'rxjs';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import type { Language } from '../core/store.js';
import { verifyAckLink } from './ack-link.js';
import { replyTexts } from './ack-parser.js';
import type { AlertResponder } from './responder.js';

export interface PushActionOptions {
  /** The secret the push channel signs action tokens with. */
  secret: string;
  responder: AlertResponder;
  clock: SchedulerLike;
  logger: Logger;
  /** Default `/push/action`. */
  path?: string;
}

const body = z.object({ token: z.string().min(1).max(4096), action: z.enum(['ack', 'omw']) });

/** What one press of a push action did. */
export type PushActionResult =
  | { status: 200; ok: true; alertId: string; message: string }
  | { status: 403 | 409; ok: false; reason: string; message: string };

const refusedWords: Record<Language, { invalid: string; expired: string }> = {
  ja: { invalid: 'この操作は無効です。', expired: 'この通知の有効期限が切れています。' },
  en: { invalid: 'This action is not valid.', expired: 'This notification has expired.' },
};

/**
 * Checks the token and answers the alert: the one function the route and
 * tests share (the browser test calls the route through the service worker).
 */
export async function answerPushAction(o: Omit<PushActionOptions, 'path'>, token: string, action: 'ack' | 'omw'): Promise<PushActionResult> {
  const check = verifyAckLink(o.secret, token, o.clock.now(), 'push-action');
  if (!check.ok) {
    o.logger.warn({ reason: check.reason }, 'push action refused');
    // The token's language cannot be trusted when the token is bad: both.
    const w = check.reason === 'expired' ? 'expired' : 'invalid';
    return { status: 403, ok: false, reason: check.reason, message: `${refusedWords.ja[w]} / ${refusedWords.en[w]}` };
  }
  const { claims } = check;
  if (!claims.contactId) return { status: 403, ok: false, reason: 'malformed', message: `${refusedWords.ja.invalid} / ${refusedWords.en.invalid}` };
  const input = { alertId: claims.alertId, contactId: claims.contactId, via: 'push' as const };
  const result = action === 'omw' ? await o.responder.onMyWay(input) : await o.responder.acknowledge(input);
  const words = replyTexts[claims.language];
  o.logger.info({ alertId: claims.alertId, action, ok: result.ok }, 'push action answered');
  if (!result.ok) return { status: 409, ok: false, reason: result.reason, message: result.reason === 'already_resolved' ? words.alreadyResolved : words.refused };
  return { status: 200, ok: true, alertId: claims.alertId, message: action === 'omw' ? words.onMyWay() : words.acknowledged };
}

/**
 * Registers `POST {path}` (JSON) on a fastify server of its own. The hub's web
 * app serves the same route (same origin as the service worker) through its
 * notifications port, which calls `answerPushAction`.
 *
 * @example
 * await app.register(pushActionRoutes, { secret, responder, clock, logger });
 */
export const pushActionRoutes: FastifyPluginAsync<PushActionOptions> = async (app: FastifyInstance, opts) => {
  const log = opts.logger.child({ component: 'push-action' });
  app.post(opts.path ?? '/push/action', async (req, reply) => {
    const parsed = body.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ code: 'MIMAMORI_ERR_INVALID_INPUT', message: 'expected { token, action: "ack" | "omw" }' });
    const r = await answerPushAction({ ...opts, logger: log }, parsed.data.token, parsed.data.action);
    return reply.code(r.status).header('cache-control', 'no-store').send(r.ok ? { ok: true, message: r.message } : { ok: false, code: r.status === 403 ? 'MIMAMORI_ERR_FORBIDDEN' : 'MIMAMORI_ERR_CONFLICT', reason: r.reason, message: r.message });
  });
};
