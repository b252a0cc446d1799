/**
 * A real redis-server (Debian's) for one test: a free loopback port, a temp
 * folder, no persistence (`--save ''`, no append-only file). Resolves once it
 * answers PING; stopped and its folder removed when the test ends. The
 * cluster building blocks (cluster/) are tested against it, never a mock.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { freePort, tempDir, type Teardown } from './wait.js';

export const redisServerPath = process.env.MIMAMORI_REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The redis-server process id (the bench reads its CPU time). */
  pid: number;
  /** Stops the server now (idempotent; also done at teardown). */
  stop(): Promise<void>;
}

/** Starts redis-server for this test (a second try on another port if the first was taken meanwhile). */
export async function startRedis(t: Teardown, o: { startTimeoutMs?: number } = {}): Promise<TestRedis> {
  if (!existsSync(redisServerPath)) throw new Error(`redis-server not found at ${redisServerPath}: sudo apt-get install redis-server (npm test's set-up does it)`);
  const dir = tempDir(t, 'mimamori-redis-');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(redisServerPath, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', '--logfile', '',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited; } };
    t.teardown(stop);
    try {
      await waitForPing(port, () => child.exitCode !== null, o.startTimeoutMs ?? 30_000);
      return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid!, stop };
    } catch (err) {
      await stop();
      lastError = new Error(`redis-server did not answer on port ${port}: ${(err as Error).message} ${stderr}`);
    }
  }
  throw lastError;
}

/** PINGs until PONG; gives up when the process died or after `ms` (a loaded machine starts processes slowly). */
async function waitForPing(port: number, died: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => { /* retried below */ });
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch (err) {
      if (died() || Date.now() > deadline) throw err;
    } finally {
      probe.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface CuttableLink {
  /** `redis://127.0.0.1:<relay port>`: connect through this to be cut off later. */
  url: string;
  /** Cuts every connection through the relay and refuses new ones: to Redis and to the node, the other side went silent. */
  cut(): Promise<void>;
}

/**
 * A TCP relay in front of a test Redis, to take one cluster node off the
 * network without telling it: its connections drop and reconnecting fails,
 * as for a crashed process or a pulled cable. Closed at teardown.
 */
export async function cuttableLink(t: Teardown, redis: TestRedis): Promise<CuttableLink> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(redis.port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => { inbound.destroy(); outbound.destroy(); });
      s.on('close', () => { sockets.delete(s); inbound.destroy(); outbound.destroy(); });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  const cut = async () => {
    if (server.listening) server.close();
    for (const s of sockets) s.destroy();
    await closed;
  };
  t.teardown(cut);
  return { url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`, cut };
}
