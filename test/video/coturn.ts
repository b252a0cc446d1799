/**
 * A local coturn for tests: loopback only, TURN REST-API auth with a fresh
 * shared secret (the scheme the hub's ICE provider signs for), its own temp
 * folder, a free listening port, and a bounded wait until it answers a STUN
 * binding request. Stopped (by its own pid) when the test ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { freePort, tempDir, until, type Teardown } from '../support/wait.js';

export const turnserverPath = process.env.MIMAMORI_TURNSERVER ?? '/usr/bin/turnserver';

export function hasTurnserver(): boolean {
  return spawnSync(turnserverPath, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** One STUN binding request over UDP; true when a success response comes back within 300 ms. */
async function stunAnswers(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0); // Binding request (RFC 8489 §5)
  header.writeUInt16BE(0, 2);
  header.writeUInt32BE(0x2112a442, 4); // magic cookie
  randomBytes(12).copy(header, 8);
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.on('message', (msg) => { clearTimeout(timer); resolve(msg.readUInt16BE(0) === 0x0101); });
      socket.on('error', () => { clearTimeout(timer); resolve(false); });
      socket.send(header, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

export interface LocalTurn { port: number; secret: string; urls: string[] }

/** Starts coturn on 127.0.0.1 and waits until it answers. */
export async function startCoturn(t: Teardown): Promise<LocalTurn> {
  const dir = tempDir(t, 'mimamori-turn-');
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  // Relay ports: a small range of our own above the listening port's neighbourhood.
  const minPort = 40_000 + (port % 20_000);
  const child = spawn(turnserverPath, [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    `--min-port=${minPort}`, `--max-port=${minPort + 200}`,
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=mimamori.test', '--fingerprint',
    '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--no-multicast-peers',
    `--userdb=${join(dir, 'turndb')}`, `--pidfile=${join(dir, 'turn.pid')}`, `--log-file=${join(dir, 'turn.log')}`, '--simple-log',
  ], { stdio: 'ignore' });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => { exited = true; resolve(); }));
  t.teardown(async () => {
    if (exited) return;
    child.kill('SIGTERM');
    // Five seconds to stop by itself, then for sure.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exit, new Promise<void>((resolve) => { timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 5000); })]);
    clearTimeout(timer);
    await exit;
  });
  await until(async () => { if (exited) throw new Error('coturn exited at start'); return stunAnswers(port); }, 10_000, 'coturn to answer STUN');
  return { port, secret, urls: [`turn:127.0.0.1:${port}?transport=udp`] };
}
