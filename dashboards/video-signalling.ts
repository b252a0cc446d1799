/**
 * The signalling WebSocket (`/video/ws`) on the web app's own HTTP server:
 * the upgrade is accepted only with a fresh session cookie whose second
 * factor is done, from a page of the same origin (a foreign page cannot ride
 * the cookie: cross-site WebSocket hijacking), for residents (the tablet),
 * caregivers and family. Every message is validated (video-protocol.ts) and
 * handed to the call registry, which checks the person's relation to the home.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { newToken, sessionCookie, type Auth } from './auth.js';
import type { Logger } from '../core/logger.js';
import type { WebRole } from '../core/store.js';
import type { IceProvider } from './video-ice.js';
import type { Peer, VideoCalls } from './video-calls.js';
import { clientMessage, type ServerMessage } from './video-protocol.js';

export const signallingPath = '/video/ws';
const allowedRoles: readonly WebRole[] = ['resident', 'caregiver', 'family'];

export interface SignallingOptions {
  app: FastifyInstance;
  auth: Auth;
  calls: VideoCalls;
  ice: IceProvider;
  logger: Logger;
  autoAnswerWarningMs: number;
  iceTransportPolicy: 'all' | 'relay';
}

/** Answers an upgrade we refuse with a plain HTTP status, then closes the socket. */
function refuse(socket: Duplex, status: 401 | 403 | 404, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}

/** Same origin as the request's Host (the page that opened the socket is ours). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  try { return new URL(origin).host === host; } catch { return false; }
}

/** Attaches the signalling endpoint to the app's server; returns a closer. */
export function attachSignalling(o: SignallingOptions): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 128 * 1024 });
  const sockets = new Set<WebSocket>();

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== signallingPath) return refuse(socket, 404, 'Not Found');
    if (!sameOrigin(req)) return refuse(socket, 403, 'Forbidden');
    const cookies = o.app.parseCookie(req.headers.cookie ?? '');
    const found = await o.auth.sessionFor(cookies[sessionCookie]);
    if (!found || !found.session.mfaOk) return refuse(socket, 401, 'Unauthorized');
    if (!allowedRoles.includes(found.account.role)) return refuse(socket, 403, 'Forbidden');
    const iceServers = await o.ice.iceServers(found.account.id);
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const peer: Peer = {
        id: newToken().slice(0, 16),
        account: found.account,
        send(m: ServerMessage) { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m)); },
      };
      // Messages are handled one at a time per browser, in order.
      let chain: Promise<void> = o.calls.connect(peer);
      peer.send({ type: 'welcome', peerId: peer.id, role: found.account.role, iceServers, iceTransportPolicy: o.iceTransportPolicy, autoAnswerWarningMs: o.autoAnswerWarningMs });
      ws.on('message', (raw) => {
        chain = chain.then(async () => {
          let parsed: unknown;
          try { parsed = JSON.parse(String(raw)); } catch { parsed = undefined; }
          const m = clientMessage.safeParse(parsed);
          if (!m.success) {
            peer.send({ type: 'error', code: 'invalid', message: m.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ') });
            return;
          }
          await o.calls.handle(peer, m.data);
        }).catch((err: unknown) => o.logger.error({ err }, 'video signalling failed'));
      });
      ws.on('close', () => {
        sockets.delete(ws);
        chain = chain.then(() => o.calls.disconnect(peer)).catch((err: unknown) => o.logger.error({ err }, 'video disconnect failed'));
      });
      // Dead connections (a tablet losing Wi-Fi) are noticed by ping/pong; real time, as this is I/O.
      let alive = true;
      ws.on('pong', () => { alive = true; });
      const ping = setInterval(() => { if (!alive) { ws.terminate(); return; } alive = false; ws.ping(); }, 30_000);
      ping.unref();
      ws.on('close', () => clearInterval(ping));
    });
  }

  const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void onUpgrade(req, socket, head).catch((err: unknown) => {
      o.logger.error({ err }, 'video upgrade failed');
      socket.destroy();
    });
  };
  o.app.server.on('upgrade', listener);

  return {
    async close() {
      o.app.server.off('upgrade', listener);
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
