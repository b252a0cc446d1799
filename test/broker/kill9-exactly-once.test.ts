/**
 * Exactly-once into InfluxDB across kill -9: the whole hub runs as a child
 * process against a real influxd (kept here, in the parent, as an external
 * InfluxDB outlives a hub that crashed). A device publishes N QoS 1 events
 * with many in flight, the hub is killed with SIGKILL mid-stream and
 * restarted on the same data folder, the device resends everything it had
 * no PUBACK for, and InfluxDB holds exactly N points: 0 lost, 0 doubled.
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import type { MqttClient } from 'mqtt';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { eventTopic } from '../../core/topics.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { startManagedInfluxd } from '../../history/managed-influxd.js';
import { tsChildArgs } from '../support/ts-child.js';
import { tempDir, until } from '../support/wait.js';
import { connect } from './helpers.js';

// Two whole-hub starts (TypeScript compiled on the fly) on a shared 2-core machine take minutes, not seconds.
t.setTimeout(600_000);

const child = fileURLToPath(new URL('./fixtures/hub-child.ts', import.meta.url));

interface Hub { proc: ChildProcess; mqttUrl: string; lines(): string[]; exited: Promise<void> }

async function startHubChild(t: Test, dataDir: string, influxUrl: string): Promise<Hub> {
  const proc = spawn(process.execPath, tsChildArgs(child, dataDir, influxUrl), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  t.teardown(() => { proc.kill('SIGKILL'); return exited; });
  const lines = () => out.split('\n').filter((l) => l.startsWith('{'));
  await until(() => lines().length > 0 || proc.exitCode !== null, 240_000, 'the hub child to start');
  if (proc.exitCode !== null) throw new Error(`the hub child exited with ${proc.exitCode}`);
  return { proc, mqttUrl: (JSON.parse(lines()[0]!) as { mqttUrl: string }).mqttUrl, lines, exited };
}

/**
 * A device like the edge agent: keeps every event until its PUBACK arrives,
 * `window` in flight at a time, and resends what is left after a reconnect.
 */
function device(total: number, base: number) {
  const unacked = new Set<number>(Array.from({ length: total }, (_, i) => i));
  let acked = 0;
  const payload = (i: number) => JSON.stringify({ id: `ev-${i}`, ts: new Date(base + i).toISOString(), kind: 'power', watts: i });
  return {
    acked: () => acked,
    left: () => unacked.size,
    /** Publishes everything not yet acknowledged over `client`; stops quietly when the connection dies. */
    async run(client: MqttClient, window: number): Promise<void> {
      const queue = [...unacked];
      const worker = async () => {
        for (let i = queue.shift(); i !== undefined && client.connected; i = queue.shift()) {
          try {
            await client.publishAsync(eventTopic('h1', 'meter'), payload(i), { qos: 1 });
            if (unacked.delete(i)) acked++;
          } catch {
            return; // connection lost: the event stays un-acknowledged
          }
        }
      };
      await Promise.all(Array.from({ length: window }, worker));
    },
  };
}

t.test('kill -9 mid-stream: every acknowledged event is in InfluxDB exactly once', async (t) => {
  const dir = tempDir(t, 'mimamori-kill9-');
  const influxd = await startManagedInfluxd({ dataDir: join(dir, 'influx'), logger: silentLogger() });
  t.teardown(() => influxd.close());
  const hubDir = join(dir, 'hub');
  const store = createSqliteStore(join(hubDir, 'mimamori.db'));
  await store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const creds = await provisionDevice(store, { homeId: 'h1', deviceId: 'meter', kind: 'power' });
  await store.close();

  const total = 3000;
  const dev = device(total, Date.now() - 60_000);
  const login = { username: creds.username, password: creds.secret, clientId: 'h1/meter' };

  const first = await startHubChild(t, hubDir, influxd.url);
  const c1 = await connect(first.mqttUrl, login);
  c1.on('error', () => undefined);
  const running = dev.run(c1, 64);
  await until(() => dev.acked() >= total / 3, 60_000, 'a third of the events acknowledged');
  first.proc.kill('SIGKILL');
  await first.exited;
  // Ended by hand (reconnectPeriod 0): its publishes in flight fail then and stay unacknowledged.
  c1.end(true);
  await running;
  const ackedBeforeCrash = dev.acked();
  t.ok(dev.left() > 0, `the crash came mid-stream (${ackedBeforeCrash} acknowledged, ${dev.left()} not)`);

  const second = await startHubChild(t, hubDir, influxd.url);
  const c2 = await connect(second.mqttUrl, login);
  await dev.run(c2, 64);
  t.equal(dev.left(), 0, 'every event acknowledged after the restart');
  await c2.endAsync();
  second.proc.kill('SIGTERM');
  await second.exited;
  const stats = JSON.parse(second.lines().find((l) => l.startsWith('{"stats"'))!) as { stats: { ingest: { events: number; duplicates: number; replayed: number } } };

  const u = new URL(influxd.url);
  const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database: 'mimamori' });
  const count = async () => Number((await influx.query<{ count: number }>(`SELECT COUNT(watts) FROM mimamori.raw.event WHERE home = 'h1'`))[0]?.count ?? 0);
  t.equal(await count(), total, `exactly ${total} points in InfluxDB: 0 lost, 0 doubled`);
  const distinct = await influx.query<{ count: number }>(`SELECT COUNT(DISTINCT(id)) FROM mimamori.raw.event WHERE home = 'h1'`);
  t.equal(Number(distinct[0]?.count), total, 'one point per event id');
  t.comment(`after the restart: ${stats.stats.ingest.events} fresh, ${stats.stats.ingest.duplicates} resends dropped, ${stats.stats.ingest.replayed} replayed from the outbox`);
});
