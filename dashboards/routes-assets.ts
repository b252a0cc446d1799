/** Static assets (the page script, chart.js from node_modules) and the health check. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { clientScript } from './client-script.js';
import type { RouteModule } from './context.js';

export const assetRoutes: RouteModule = (app) => {
  const require = createRequire(import.meta.url);
  let chartJs: Buffer | undefined;
  app.get('/static/app.js', { config: { access: { roles: 'public' } } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(clientScript));
  app.get('/static/chart.js', { config: { access: { roles: 'public' } } }, async (_req, reply) => {
    chartJs ??= readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'));
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=86400').send(chartJs);
  });
  app.get('/healthz', { config: { access: { roles: 'public' } } }, async () => ({ ok: true }));
};
