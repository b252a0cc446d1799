/**
 * The broker's three network doors — MQTT over TCP, over TLS and over
 * WebSocket (`/mqtt`) — each handing its size-guarded stream to aedes.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { MimamoriError } from '../core/errors.js';
import { guardPacketSize, type GuardedConnection, type OversizeInfo } from './packet-size-guard.js';

export interface ListenerOptions {
  host: string;
  tcpPort: number;
  tlsPort: number;
  wsPort: number;
  tls: { key: string; cert: string };
  maxPacketSize: number;
  /** Receives every accepted connection, size-guarded (broker/packet-size-guard.ts). */
  onConnection(conn: GuardedConnection, req?: IncomingMessage): void;
  onOversize(info: OversizeInfo, conn: GuardedConnection): void;
  onSocketError(err: Error, listener: string): void;
}

export interface Listeners { ports: { tcp: number; tls: number; ws: number }; close(): Promise<void> }

const which = {
  tcp: { label: 'MQTT (TCP)', env: 'MIMAMORI_MQTT_PORT' },
  tls: { label: 'MQTT over TLS', env: 'MIMAMORI_MQTTS_PORT' },
  ws: { label: 'MQTT over WebSocket', env: 'MIMAMORI_WS_PORT' },
} as const;

function bind(server: NetServer | HttpServer, host: string, port: number, kind: keyof typeof which): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const { label, env } = which[kind];
      const why = err.code === 'EADDRINUSE' ? 'is already in use' : err.code === 'EACCES' ? 'needs privileges to bind' : `cannot be opened (${err.message})`;
      reject(new MimamoriError('MIMAMORI_ERR_CONFIG', `${label} port ${port} on ${host} ${why}; set ${env} to a free port (0 picks any free port) / ポート ${port} (${label}) は使用できません。${env} で別のポートを指定してください`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) { resolve(); return; }
    server.close(() => resolve());
  });
}

/** Opens all three listeners; if one cannot bind, the others are closed again and the error says which port and variable. */
export async function openListeners(opts: ListenerOptions): Promise<Listeners> {
  // Every open connection, so close() can cut those that never sent CONNECT.
  const live = new Set<GuardedConnection>();
  const guard = (conn: GuardedConnection) => {
    guardPacketSize(conn, opts.maxPacketSize, opts.onOversize);
    live.add(conn);
    conn.once('close', () => live.delete(conn));
    return conn;
  };

  const tcp = createNetServer((socket: Socket) => {
    socket.setNoDelay(true);
    opts.onConnection(guard(socket));
  });
  const tls = createTlsServer({ key: opts.tls.key, cert: opts.tls.cert, minVersion: 'TLSv1.2' }, (socket: TLSSocket) => {
    socket.setNoDelay(true);
    opts.onConnection(guard(socket));
  });
  tls.on('tlsClientError', (err) => opts.onSocketError(err, 'tls'));
  const http = createHttpServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('MQTT over WebSocket is served at /mqtt\n');
  });
  // A WebSocket frame may carry several MQTT packets; the guard enforces the real per-packet limit.
  const wss = new WebSocketServer({ server: http, path: '/mqtt', maxPayload: opts.maxPacketSize * 4 + 1024 });
  wss.on('connection', (ws, req) => {
    // The peer address, as a socket has it, for lockout and logs.
    const stream = Object.defineProperty(createWebSocketStream(ws), 'remoteAddress', { value: req.socket.remoteAddress, enumerable: true }) as GuardedConnection;
    opts.onConnection(guard(stream), req);
  });
  wss.on('error', (err) => opts.onSocketError(err, 'ws'));

  const servers = [tcp, tls, http];
  const close = async () => {
    for (const conn of live) conn.destroy();
    for (const client of wss.clients) client.terminate();
    wss.close();
    http.closeAllConnections();
    await Promise.all(servers.map(closeServer));
  };
  try {
    const ports = {
      tcp: await bind(tcp, opts.host, opts.tcpPort, 'tcp'),
      tls: await bind(tls, opts.host, opts.tlsPort, 'tls'),
      ws: await bind(http, opts.host, opts.wsPort, 'ws'),
    };
    return { ports, close };
  } catch (err) {
    await close();
    throw err;
  }
}
