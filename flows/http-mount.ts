/**
 * Serves Node-RED's editor and admin API under one path of an existing HTTP
 * server, whatever framework owns the server's other routes (the hub's is
 * Fastify, which cannot add routes after it listens). Requests under the path
 * go to Node-RED; everything else goes to the server's own handlers as before.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
/** An Express-style app: Node-RED's `httpAdmin`. */
export type ConnectApp = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Mounts `app` at `path` (e.g. `/flows`) on `server`; returns the unmount function. */
export function mountAt(server: Server, path: string, app: ConnectApp, onError: (err: unknown) => void): () => void {
  const others = server.listeners('request') as Handler[];
  server.removeAllListeners('request');
  const dispatch: Handler = (req, res) => {
    const url = req.url ?? '/';
    const rest = url.startsWith(path) ? url.slice(path.length) : undefined;
    if (rest === undefined || (rest !== '' && rest[0] !== '/' && rest[0] !== '?')) {
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
  };
}
