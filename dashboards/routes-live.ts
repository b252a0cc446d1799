/**
 * Server-sent events: each open page hears about changes (alerts, news,
 * attendance) of the homes its viewer may see, and nothing else. Only the
 * event's type and ids travel; the page re-reads itself through the normal,
 * access-checked routes.
 */
import type { ServerResponse } from 'node:http';
import { viewerOf, type RouteModule } from './context.js';

export const liveRoutes: RouteModule = (app, ctx) => {
  const open = new Set<ServerResponse>();
  app.addHook('onClose', async () => { for (const res of open) res.end(); open.clear(); });

  app.get('/live', { config: { access: { roles: 'any' } } }, async (req, reply) => {
    const homes = new Set((await ctx.access.visibleHomes(viewerOf(req).account)).map((r) => r.homeId));
    reply.hijack();
    const res = reply.raw;
    // Subscribed before the stream answers: a page re-reads itself when its stream opens
    // (client/app.ts), so no change can fall between that read and this subscription.
    const off = ctx.live.subscribe('*', (e) => {
      if (!homes.has(e.homeId)) return;
      res.write(`data: ${JSON.stringify({ type: e.type, homeId: e.homeId, alertId: e.alertId, at: e.at })}\n\n`);
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 3000\n\n');
    open.add(res);
    // A comment every 25 s keeps proxies from closing an idle stream (real time: this is I/O, not a rule).
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    keepAlive.unref();
    req.raw.on('close', () => { off(); clearInterval(keepAlive); open.delete(res); });
  });
};
