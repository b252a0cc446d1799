/**
 * Broker throughput: QoS 1 messages per second delivered from N device
 * publishers to one subscribing service, through createBroker with logins,
 * ACL and the packet size guard on — and the same load, in the same run,
 * through Debian's mosquitto with a password file and ACL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { createSqliteStore } from '../core/store.js';
import { allEventsFilter, eventTopic } from '../core/topics.js';
import { provisionDevice, provisionService } from '../broker/index.js';
import type { BenchRow } from './types.js';

const mosquittoPath = '/usr/sbin/mosquitto';
const home = 'bench';
/** Publishes each publisher keeps in flight; the same for both brokers. */
const window = 100;

interface Account { username: string; password: string }
interface Load { url: string; service: Account; devices: Array<Account & { topic: string }>; messages: number }

async function connect(url: string, account: Account, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { ...account, clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 }, false);
}

/** Runs the load; returns delivered messages per second at the subscriber. */
async function runLoad(load: Load): Promise<{ rate: number; delivered: number }> {
  const sub = await connect(load.url, load.service, 'bench-sub');
  await sub.subscribeAsync(allEventsFilter, { qos: 1 });
  const pubs = await Promise.all(load.devices.map((d) => connect(load.url, d, `${d.username}-pub`.replace(/[^a-z0-9-]/g, '-'))));
  let delivered = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((resolve) => { resolveAll = resolve; });
  sub.on('message', () => { if (++delivered === load.messages) resolveAll(); });
  const perPublisher = Math.ceil(load.messages / pubs.length);
  const payload = (i: number) => JSON.stringify({ id: `m${i}`, ts: '2026-11-21T07:12:00+09:00', kind: 'power', watts: i % 3000 });
  const started = performance.now();
  await Promise.all(pubs.map(async (pub, p) => {
    const topic = load.devices[p]!.topic;
    const count = Math.min(perPublisher, load.messages - p * perPublisher);
    for (let i = 0; i < count; i += window) {
      const batch: Array<Promise<unknown>> = [];
      for (let j = i; j < Math.min(count, i + window); j++) batch.push(pub.publishAsync(topic, payload(p * perPublisher + j), { qos: 1 }));
      await Promise.all(batch);
    }
  }));
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 60_000).unref());
  await Promise.race([all, timeout]);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([sub, ...pubs].map((c) => c.endAsync(true)));
  return { rate: delivered / seconds, delivered };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

/** Rejects with a clear message when `work` has not settled within `ms`: a bench step never hangs. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`bench step timed out after ${ms} ms: ${what}`)), ms); });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Starts mosquitto on a free loopback port with a password file for
 * `accounts` (hashed in one `mosquitto_passwd -U` run) and an ACL made of
 * `acl` lines; resolves once it accepts TCP connections.
 */
export async function startMosquittoWith(dir: string, accounts: Account[], acl: string[]): Promise<{ url: string; port: number; child: ChildProcess }> {
  const port = await freePort();
  const passwd = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  writeFileSync(passwd, accounts.map((a) => `${a.username}:${a.password}`).join('\n') + '\n', { mode: 0o600 });
  const r = spawnSync('mosquitto_passwd', ['-U', passwd]);
  if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr.toString()}`);
  writeFileSync(aclFile, acl.join('\n'), { mode: 0o600 });
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwd}`, `acl_file ${aclFile}`,
    'persistence false', 'max_queued_messages 0', 'log_dest none',
    // aedes does not cap in-flight QoS 1 messages towards a subscriber; mosquitto's default 20 would make the comparison unfair.
    'max_inflight_messages 0',
    // As root mosquitto would drop to the "mosquitto" user, who cannot read our temp files.
    ...(process.getuid?.() === 0 ? [`user ${userInfo().username}`] : []),
  ].join('\n'));
  const child = spawn(mosquittoPath, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) return { url: `mqtt://127.0.0.1:${port}`, port, child };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`mosquitto did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startMosquitto(dir: string, load: Omit<Load, 'url'>): Promise<{ url: string; child: ChildProcess }> {
  return startMosquittoWith(dir, [load.service, ...load.devices],
    [`user ${load.service.username}`, 'topic read mimamori/v1/#', '', ...load.devices.flatMap((d) => [`user ${d.username}`, `topic write ${d.topic}`, ''])]);
}

/** Starts bench/broker-child.js (the project's broker alone in a process) on a free port. */
async function startOurBroker(dir: string, storeFile: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./broker-child.js', import.meta.url)), join(dir, 'broker'), storeFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`broker child exited with ${code}: ${stderr}`)));
  });
  return { url: `mqtt://127.0.0.1:${port}`, child };
}

/** QoS 1 throughput through createBroker, against mosquitto under the same load. */
export async function benchBroker(opts: { messages: number; publishers: number }): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-bench-broker-'));
  const storeFile = join(dir, 'store.sqlite');
  const store = createSqliteStore(storeFile);
  try {
    await store.createHome({ id: home, name: 'bench', timezone: 'Asia/Tokyo' });
    const svc = await provisionService(store, 'bench');
    const devices: Load['devices'] = [];
    for (let i = 0; i < opts.publishers; i++) {
      const creds = await provisionDevice(store, { homeId: home, deviceId: `d${i}`, kind: 'power' });
      devices.push({ username: creds.username, password: creds.secret, topic: eventTopic(home, `d${i}`) });
    }
    // Our broker runs in its own process, like mosquitto, so the clients here don't share its CPU.
    const ourBroker = await startOurBroker(dir, storeFile);
    let ours;
    try {
      ours = await runLoad({ url: ourBroker.url, service: { username: svc.username, password: svc.secret }, devices, messages: opts.messages });
    } finally {
      ourBroker.child.kill('SIGTERM');
      await new Promise<void>((resolve) => { if (ourBroker.child.exitCode !== null) resolve(); else ourBroker.child.once('exit', () => resolve()); });
    }
    const row: BenchRow = {
      name: `QoS 1 delivered throughput (${opts.publishers} publishers → 1 service, auth + ACL on)`,
      value: ours.rate, unit: 'msg/s',
      notes: `${ours.delivered}/${opts.messages} delivered`,
    };
    if (!existsSync(mosquittoPath)) {
      row.notes += `; mosquitto not installed at ${mosquittoPath}, no reference`;
      return [row];
    }
    // mosquitto's password file cannot hold ":" in a user name; the service gets a plain one there.
    const mosqLoad = { service: { username: 'service-bench', password: svc.secret }, devices, messages: opts.messages };
    const { url, child } = await startMosquitto(dir, mosqLoad);
    let theirs;
    try {
      theirs = await runLoad({ url, ...mosqLoad });
    } finally {
      child.kill('SIGTERM');
    }
    row.reference = { name: 'mosquitto 2 (password file + ACL), same load', value: theirs.rate };
    row.ratio = ours.rate / theirs.rate;
    row.target = `≥ 0.8× mosquitto: ${row.ratio >= 0.8 ? 'met' : 'NOT met'}`;
    row.notes += `; mosquitto ${theirs.delivered}/${opts.messages} delivered; window ${window} in-flight publishes per publisher;`
      + ' both brokers run in their own process and the same MQTT.js load generator runs in this one; on 2 cores the generator competes with the broker for CPU in both runs';
    return [row];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
