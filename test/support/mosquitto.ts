/**
 * A real mosquitto (Debian's) on a free loopback port with a temp config: the
 * home broker that zigbee2mqtt, Shelly and Tasmota publish to. Anonymous
 * logins, sessions kept in memory for as long as it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, tempDir, type Teardown } from './wait.js';

export const mosquittoPath = process.env.MIMAMORI_MOSQUITTO_PATH ?? '/usr/sbin/mosquitto';

export interface Mosquitto { url: string; port: number; stop(): Promise<void> }

/** Starts mosquitto for this test; stopped (and its folder removed) when the test ends. */
export async function startMosquitto(t: Teardown): Promise<Mosquitto> {
  if (!existsSync(mosquittoPath)) throw new Error(`mosquitto not found at ${mosquittoPath}: install Debian's mosquitto (npm test's set-up does)`);
  const dir = tempDir(t, 'mimamori-mosquitto-');
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error',
    // As root mosquitto would drop to the "mosquitto" user, who cannot read our temp files.
    ...(process.getuid?.() === 0 ? [`user ${userInfo().username}`] : []),
  ].join('\n'));
  const child: ChildProcess = spawn(mosquittoPath, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited; } };
  t.teardown(stop);
  const url = `mqtt://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000 });
      await probe.endAsync(true);
      return { url, port, stop };
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`mosquitto did not start: ${(err as Error).message} ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
