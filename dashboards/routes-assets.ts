/** Static assets (the browser's modules, the stylesheet, icons and manifest, chart.js from node_modules) and the health check. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { clientModules, createClientAssets, staticFiles, type ClientModule, type StaticFile } from './client-assets.js';
import type { RouteModule } from './context.js';

export const assetRoutes: RouteModule = (app) => {
  const require = createRequire(import.meta.url);
  const client = createClientAssets();
  let chartJs: Buffer | undefined;
  for (const name of clientModules) {
    app.get(`/static/${name}.js`, { config: { access: { roles: 'public' } } }, async (_req, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await client.script(name as ClientModule)));
  }
  for (const [name, type] of Object.entries(staticFiles)) {
    app.get(`/static/${name}`, { config: { access: { roles: 'public' } } }, async (_req, reply) =>
      reply.type(type).header('cache-control', 'no-cache').send(client.file(name as StaticFile)));
  }
  // The service worker at the root, so its scope is the whole app (a worker's scope is at most its own folder).
  app.get('/sw.js', { config: { access: { roles: 'public' } } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await client.script('sw')));
  // Browsers ask for /favicon.ico at the root whatever the page says.
  app.get('/favicon.ico', { config: { access: { roles: 'public' } } }, async (_req, reply) =>
    reply.type(staticFiles['favicon.ico']).header('cache-control', 'max-age=86400').send(client.file('favicon.ico')));
  app.get('/static/chart.js', { config: { access: { roles: 'public' } } }, async (_req, reply) => {
    chartJs ??= readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'));
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=86400').send(chartJs);
  });
  app.get('/healthz', { config: { access: { roles: 'public' } } }, async () => ({ ok: true }));
};
