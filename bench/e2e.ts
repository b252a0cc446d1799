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

/**
 * A hub's history, as a year of running leaves it: `alerts` resolved alerts spread over `homes` homes,
 * each with its escalation state (a reply code), three notifications with provider ids and their send
 * keys, and four audit records. A new alert's path must not slow down as these grow (docs/store.md,
 * "Reads that do not grow with the history"); on a fresh database it cannot show whether it does.
 */
export async function seedHistory(store: Store, o: { homes: number; alerts: number; from: number }): Promise<void> {
  for (let h = 0; h < o.homes; h++) {
    await store.createHome({ id: `hist-${h}`, name: `History ${h}`, timezone: 'Asia/Tokyo' });
    await store.addContact({ homeId: `hist-${h}`, name: 'Family', role: 'family', phone: `+8170${String(10_000_000 + h)}`, language: 'ja', priority: 1 });
  }
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  for (let i = 0; i < o.alerts; i++) {
    const homeId = `hist-${i % o.homes}`;
    const at = o.from + i * 60_000;
    const { alert } = await store.openAlert({ homeId, rule: 'noSignOfLife', severity: 'warning', message: 'No sign of life for 3 h', finding: { home: homeId, rule: 'noSignOfLife', audience: 'family' }, openedAt: at });
    await store.saveAlertLifecycle({ alertId: alert.id, homeId, state: { code: `${letters[i % 23]}${String(i % 100).padStart(2, '0')}`, tier: 1, members: [alert.id] }, policy: {}, updatedAt: at });
    for (let n = 0; n < 3; n++) {
      const key = `${alert.id}:0:c:${n}`;
      await store.claimSendKeys([{ key, alertId: alert.id, channel: 'sms', createdAt: at, recipient: '+8170', body: '【見守り】' }]);
      const rec = await store.recordNotification({ alertId: alert.id, channel: 'sms', status: 'pending', createdAt: at });
      await store.attachSendKeys([key], rec.id);
      await store.updateNotification(rec.id, { status: 'delivered', providerId: `SMhist${i}x${n}` }, at + 1000);
    }
    for (const action of ['alert.open', 'notify', 'alert.acknowledge', 'alert.resolve']) await store.audit({ at, actor: 'notifier', action, subject: alert.id, detail: { home: homeId } });
    await store.updateAlertStatus(alert.id, 'resolved', at + 30 * 60_000);
  }
}

export async function benchEndToEnd(opts: { homes: number; alerts: number; dataDir: string; influxUrl?: string; historyAlerts?: number }): Promise<BenchRow[]> {
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

    // A year of history in the store (resolved alerts, their sends and audit records).
    const history = opts.historyAlerts ?? 0;
    if (history > 0) await seedHistory(hub.store, { homes: 120, alerts: history, from: now - 365 * 86_400_000 });

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
      { name: `alert latency p50 (event → SMS recorded), ${opts.homes} homes in the engine${history ? `, ${history.toLocaleString('en-US')} resolved alerts of history` : ''}`, value: p50, unit: 'ms', reference: { name: 'MQTT publish→receive p50', value: r50 }, ratio: p50 / r50, notes: 'ratio = how many MQTT hops the whole alert path costs' },
      { name: `alert latency p99 (event → SMS recorded), ${opts.homes} homes in the engine${history ? `, ${history.toLocaleString('en-US')} resolved alerts of history` : ''}`, value: p99, unit: 'ms', reference: { name: 'MQTT publish→receive p99', value: r99 }, ratio: p99 / r99, target: `< 250 ms: ${p99 < 250 ? 'met' : 'NOT met'}`, notes: `${latencies.length} sequential alerts, background readings ~2000/s` },
    ];
  } finally {
    await hub.close();
  }
}
