/**
 * The HTTP edge for delivery receipts: a fastify plugin with one POST route
 * that Twilio (or the local Twilio server) calls with form-encoded status
 * callbacks. It hands the request to `notifier.handleStatusCallback`, which
 * checks the `X-Twilio-Signature`; forged or unsigned callbacks get 403.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ReceiptRequest, ReceiptResult } from './channel.js';

export interface StatusCallbackRouteOptions {
  /** The notifier (its `handleStatusCallback`). */
  notifier: { handleStatusCallback(req: ReceiptRequest): Promise<ReceiptResult> };
  /** Route path, e.g. `/twilio/status`. */
  path: string;
  /**
   * The public URL Twilio was given as StatusCallback (what it signs). Needed
   * behind a proxy or TLS terminator; without it the URL is rebuilt from the
   * request's Host header.
   */
  publicUrl?: string;
}

function formParams(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * Registers the status-callback route. Register it inside its own plugin
 * scope (as below) so its form parser does not leak into other routes.
 *
 * @example
 * await app.register(statusCallbackRoute, { notifier, path: '/twilio/status', publicUrl: 'https://hub.example/twilio/status' });
 */
export const statusCallbackRoute: FastifyPluginAsync<StatusCallbackRouteOptions> = async (app: FastifyInstance, opts) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, formParams(body as string));
  });
  app.post(opts.path, async (req, reply) => {
    const url = opts.publicUrl ?? `${req.protocol}://${req.host}${req.url}`;
    const header = req.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    const params = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string | string[]>;
    const r = await opts.notifier.handleStatusCallback({ url, signature, params });
    if (!r.accepted) return reply.code(403).send({ code: 'MIMAMORI_ERR_FORBIDDEN', message: 'Not allowed: bad or missing X-Twilio-Signature' });
    // Twilio only needs a 2xx; an empty TwiML-free body is fine.
    return reply.code(204).send();
  });
};
