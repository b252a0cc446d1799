/**
 * Serves Node-RED's editor and admin API under one path of an existing HTTP
 * server, whatever framework owns the server's other routes (the hub's is
 * Fastify, which cannot add routes after it listens). Requests under the path
 * go to Node-RED; everything else goes to the server's own handlers as before.
 * WebSocket upgrades are split the same way: the web app's own upgrade
 * handler refuses paths it does not know, which would cut the editor's
 * live connection.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** True when `url` is `path` itself or below it. */
const under = (url: string, path: string): boolean => url.startsWith(path) && (url.length === path.length || '/?'.includes(url[path.length]!));
/** An Express-style app: Node-RED's `httpAdmin`. */
export type ConnectApp = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Mounts `app` at `path` (e.g. `/flows`) on `server`. Upgrade listeners already
 * on the server stop seeing upgrades under `path`; listeners added later
 * (Node-RED's, which checks its own path) see all. Returns the unmount function.
 * Call it before Node-RED adds its upgrade listener.
 */
export function mountAt(server: Server, path: string, app: ConnectApp, onError: (err: unknown) => void): () => void {
  const others = server.listeners('request') as Handler[];
  const theirs = server.listeners('upgrade') as UpgradeHandler[];
  const wrapped = theirs.map((l): UpgradeHandler => function (this: Server, req, socket, head) {
    if (!under(req.url ?? '/', path)) l.call(this, req, socket, head);
  });
  server.removeAllListeners('upgrade');
  for (const w of wrapped) server.on('upgrade', w);
  server.removeAllListeners('request');
  const dispatch: Handler = (req, res) => {
    const url = req.url ?? '/';
    const rest = under(url, path) ? url.slice(path.length) : undefined;
    if (rest === undefined) {
      for (const h of others) h.call(server, req, res);
      return;
    }
    if (rest === '' || rest[0] === '?') {
      // The editor's assets are relative to the path with its trailing slash.
      res.writeHead(301, { location: `${path}/${rest}` }).end();
      return;
    }
    // What Express does when it mounts a sub-app: strip the prefix, remember it.
    const r = req as IncomingMessage & { originalUrl?: string; baseUrl?: string };
    r.originalUrl = url;
    r.baseUrl = path;
    req.url = rest;
    app(req, res, (err) => {
      if (err) onError(err);
      if (!res.headersSent) res.writeHead(err ? 500 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(err ? 'flows: internal error' : 'flows: not found');
    });
  };
  server.on('request', dispatch);
  return () => {
    server.removeListener('request', dispatch);
    for (const h of others) server.on('request', h);
    for (const w of wrapped) server.removeListener('upgrade', w);
    for (const l of theirs) server.on('upgrade', l);
  };
}
