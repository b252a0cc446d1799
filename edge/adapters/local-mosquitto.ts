/**
 * A development stand-in for a home's own MQTT broker: Debian's mosquitto as
 * a child process on a free loopback port, with a throw-away config in
 * `dir`. The demo street (`npm start -- --via-bridge`) and the tests use it
 * to carry zigbee2mqtt / Shelly / Tasmota payloads to the device bridge. A
 * real home runs its own mosquitto (docs/devices.md), never this.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MimamoriError } from '../../core/errors.js';

export const defaultMosquittoPath = '/usr/sbin/mosquitto';

export interface LocalMosquitto { url: string; port: number; stop(): Promise<void> }

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts mosquitto (anonymous, in-memory sessions, loopback only) and resolves once it takes a connection. */
export async function startLocalMosquitto(o: { dir: string; mosquittoPath?: string; startTimeoutMs?: number }): Promise<LocalMosquitto> {
  const program = o.mosquittoPath ?? defaultMosquittoPath;
  if (!existsSync(program)) {
    throw new MimamoriError('MIMAMORI_ERR_MISSING_DEPENDENCY', `mosquitto not found at ${program}: install Debian's mosquitto (sudo apt-get install mosquitto; MIMAMORI_DEMO_VIA_BRIDGE=1 npm start does it for you)`);
  }
  mkdirSync(o.dir, { recursive: true });
  const port = await freeLoopbackPort();
  const conf = join(o.dir, 'mosquitto.conf');
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error',
    // As root mosquitto would drop to the "mosquitto" user, who cannot read our files.
    ...(process.getuid?.() === 0 ? [`user ${userInfo().username}`] : []),
  ].join('\n'));
  const child: ChildProcess = spawn(program, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited; } };
  const url = `mqtt://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.startTimeoutMs ?? 30_000); // a loaded machine is slow to start a process
  for (;;) {
    try {
      const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000 });
      await probe.endAsync(true);
      return { url, port, stop };
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `mosquitto did not start: ${(err as Error).message} ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
