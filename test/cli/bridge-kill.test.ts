/**
 * `mimamori bridge run` as its own process, killed with SIGKILL in the middle
 * of a stream of door changes on a real mosquitto, then started again on the
 * same state folder: every change reaches the hub's ingest exactly once and
 * in order — the persistent session on the home broker, the disk queue, the
 * outbox and the hub's de-duplication together.
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { systemClock } from '../../core/clock.js';
import { startBridgeHub } from '../support/bridge-hub.js';
import { tsChildArgs } from '../support/ts-child.js';
import { tempDir, until } from '../support/wait.js';

const cli = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

function runBridge(t: Test, args: string[]): { child: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(process.execPath, tsChildArgs(cli, 'bridge', 'run', ...args), { env: { ...process.env, MIMAMORI_LOG_LEVEL: 'error' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return { child, exited };
}

t.test('a bridge killed mid-stream and started again: every door change exactly once, in order', async (t) => {
  // The bridge process stamps events with the wall clock, so the ingest bounds them against it.
  const { mosquitto, h, secrets, events } = await startBridgeHub(t, { 'front-door': 'door' }, { ingestClock: systemClock });
  const secret = secrets['front-door'];

  const dir = tempDir(t, 'mimamori-bridge-kill-');
  const mapFile = join(dir, 'devices.json');
  writeFileSync(mapFile, JSON.stringify({ home: 'h1', devices: [{ adapter: 'zigbee2mqtt', native: 'front_door', device: 'front-door', role: 'door', door: 'front', secret }] }));
  const args = ['--map', mapFile, '--hub', h.url(), '--local', mosquitto.url, '--state', join(dir, 'state')];

  const door = await mqtt.connectAsync(mosquitto.url, { clientId: 'front-door-sensor', reconnectPeriod: 0 });
  t.teardown(() => door.endAsync(true));
  const change = (i: number) => door.publishAsync('zigbee2mqtt/front_door', JSON.stringify({ contact: i % 2 === 0, battery: 90 }), { qos: 1 });
  const total = 60;

  let bridge = runBridge(t, args);
  // The first change proves the bridge's session is subscribed (later ones then wait in mosquitto for it).
  let lastTry = 0;
  await until(async () => {
    if (events().length === 0 && Date.now() - lastTry > 1000) { lastTry = Date.now(); await change(0); }
    return events().length > 0;
  }, 180_000, 'the bridge forwarding (a loaded machine is slow to start a process)');
  t.equal(events().length, 1);
  const stream = (async () => { for (let i = 1; i < total / 2; i++) await change(i); })();
  await until(() => events().length >= 6, 60_000, 'part of the stream at the hub');
  bridge.child.kill('SIGKILL');
  await bridge.exited;
  await stream;
  for (let i = total / 2; i < total; i++) await change(i); // while no bridge runs

  bridge = runBridge(t, args);
  await until(() => events().length >= total, 180_000, `${total} door changes at the hub`);
  bridge.child.kill('SIGTERM');
  await bridge.exited;
  const all = events();
  t.equal(all.length, total, 'every change exactly once');
  t.equal(new Set(all.map((e) => e.id)).size, total, 'ids unique');
  t.same(all.map((e) => (e.kind === 'door' ? e.open : undefined)), Array.from({ length: total }, (_, i) => i % 2 === 1), 'in order, none repeated');
});
