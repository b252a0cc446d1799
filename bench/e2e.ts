/**
 * End-to-end alert latency: a help-button event published over MQTT by a
 * device → broker → ingest → rules → notifier → the real twilio client → the
 * local Twilio-compatible server records the SMS. Measured while the rule
 * engine holds the state of `homes` homes and receives background readings.
 * Reference: a plain MQTT publish→receive round trip through the same broker.
 */
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { parseConfig } from '../core/config.js';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { provisionDevice, provisionService } from '../broker/index.js';
import { startHub } from '../cli/index.js';
import type { Reading } from '../core/events.js';
import type { Store } from '../core/store.js';
import type { BenchRow } from './types.js';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A home with one contact and one help button, for the alert measurements; returns the button's credentials and the contact's phone. */
export async function addAlertHome(store: Store, i: number): Promise<{ home: string; phone: string; username: string; secret: string }> {
  const home = `lat-${i}`;
  await store.createHome({ id: home, name: `Home ${i}`, timezone: 'Asia/Tokyo' });
  const phone = `+8190${String(10_000_000 + i)}`;
  await store.addContact({ homeId: home, name: 'Family', role: 'family', phone, language: 'ja', priority: 1 });
  const creds = await provisionDevice(store, { homeId: home, deviceId: 'help', kind: 'button' });
  return { home, phone, ...creds };
}

export async function benchEndToEnd(opts: { homes: number; alerts: number; dataDir: string; influxUrl?: string }): Promise<BenchRow[]> {
  const config = parseConfig({
    dataDir: opts.dataDir, logLevel: 'silent', broker: { tcpPort: 0, tlsPort: 0, wsPort: 0 }, http: { port: 0, hooksPort: 0 }, demo: { homes: 0 },
    influx: opts.influxUrl ? { url: opts.influxUrl } : {},
  });
  const hub = await startHub({ config, logger: silentLogger(), clock: systemClock, http: false });
  try {
    // Background state: `homes` homes × 8 sensors in the rule engine.
    const now = Date.now();
    const kinds = ['motion', 'kettle', 'water', 'door', 'power', 'gas', 'climate', 'motion'] as const;
    const background = (i: number, at: number): Reading => {
      const home = `bg-${i % opts.homes}`;
      const k = kinds[i % 8]!;
      const base = { home, device: `s${i % 8}`, at, id: `bg-${i}`, ts: new Date(at).toISOString() };
      switch (k) {
        case 'motion': return { ...base, kind: 'motion', occupied: true };
        case 'kettle': return { ...base, kind: 'kettle', state: 'on' };
        case 'water': return { ...base, kind: 'water', flowing: false };
        case 'gas': return { ...base, kind: 'gas', flowing: false };
        case 'door': return { ...base, kind: 'door', open: false };
        case 'power': return { ...base, kind: 'power', watts: 100 };
        case 'climate': return { ...base, kind: 'climate', celsius: 22 };
      }
    };
    for (let i = 0; i < opts.homes * 8; i++) hub.engine.ingest(background(i, now));
    let bgSeq = opts.homes * 8;
    const bgTimer = setInterval(() => { for (let j = 0; j < 20; j++) hub.engine.ingest(background(bgSeq++, Date.now())); }, 10);

    // Measured homes: one contact and one help button each.
    const devices: Array<{ home: string; phone: string; client: mqtt.MqttClient }> = [];
    for (let i = 0; i < opts.alerts; i++) {
      const { home, phone, username, secret } = await addAlertHome(hub.store, i);
      devices.push({ home, phone, client: await mqtt.connectAsync(hub.mqttUrl, { username, password: secret, reconnectPeriod: 0 }) });
    }

    const latencies: number[] = [];
    for (const [i, d] of devices.entries()) {
      const arrived = new Promise<number>((resolve) => {
        // onMessage also reports status changes of earlier messages: wait for this home's new SMS.
        const off = hub.localTwilio!.onMessage((m) => {
          if (m.to === d.phone && m.status === 'queued') { off(); resolve(performance.now()); }
        });
      });
      const t0 = performance.now();
      await d.client.publishAsync(`mimamori/v1/homes/${d.home}/devices/help/events`, JSON.stringify({ id: `h-${i}`, ts: new Date().toISOString(), kind: 'button', press: 'help' }), { qos: 1 });
      latencies.push((await arrived) - t0);
    }
    clearInterval(bgTimer);

    // Reference: MQTT publish → receive through the same broker (service subscriber).
    const svc = await provisionService(hub.store, 'bench');
    const sub = await mqtt.connectAsync(hub.mqttUrl, { username: svc.username, password: svc.secret, reconnectPeriod: 0 });
    await sub.subscribeAsync('mimamori/v1/homes/lat-0/devices/help/heartbeat', { qos: 1 });
    const raw: number[] = [];
    for (let i = 0; i < opts.alerts; i++) {
      const got = new Promise<number>((resolve) => sub.once('message', () => resolve(performance.now())));
      const t0 = performance.now();
      await devices[0]!.client.publishAsync('mimamori/v1/homes/lat-0/devices/help/heartbeat', JSON.stringify({ ts: new Date().toISOString(), battery: 90 }), { qos: 1 });
      raw.push((await got) - t0);
    }
    await sub.endAsync();
    await Promise.all(devices.map((d) => d.client.endAsync()));

    latencies.sort((a, b) => a - b);
    raw.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50), p99 = percentile(latencies, 99);
    const r50 = percentile(raw, 50), r99 = percentile(raw, 99);
    return [
      { name: `alert latency p50 (event → SMS recorded), ${opts.homes} homes in the engine`, value: p50, unit: 'ms', reference: { name: 'MQTT publish→receive p50', value: r50 }, ratio: p50 / r50, notes: 'ratio = how many MQTT hops the whole alert path costs' },
      { name: `alert latency p99 (event → SMS recorded), ${opts.homes} homes in the engine`, value: p99, unit: 'ms', reference: { name: 'MQTT publish→receive p99', value: r99 }, ratio: p99 / r99, target: `< 250 ms: ${p99 < 250 ? 'met' : 'NOT met'}`, notes: `${latencies.length} sequential alerts, background readings ~2000/s` },
    ];
  } finally {
    await hub.close();
  }
}
