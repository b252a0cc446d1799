/**
 * The demo street for `npm start`: a few simulated homes whose residents live
 * their days sped up in time, each sensor publishing through its own
 * store-and-forward edge agent to the hub's broker over real MQTT. Incidents
 * are scheduled early so a real alert appears within two minutes.
 */
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { scheduleAt } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import type { Reading } from '../core/events.js';
import { toLocalIso } from '../core/time.js';
import { provisionDevice } from '../broker/device-credentials.js';
import { simulateStream, type IncidentSpec } from '../edge/simulator.js';
import { createEdgeAgent, type EdgeAgent } from '../edge/agent.js';
import type { Notifier } from '../notifier/index.js';
import type { LocalTwilio } from '../notifier/local-twilio-server.js';
import { createWebAccount } from './accounts.js';

export interface DemoOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  mqttUrl: string;
  dataDir: string;
  homes: number;
  seed: number;
  /** Simulated start time (epoch ms), normally 05:00 today in Tokyo. */
  start: number;
  timezone?: string;
  /** For the demo's escalation policy (SMS first, so the story is readable). */
  notifier: Notifier;
  /** When present, a family member answers one alert by replying "1" to its SMS. */
  localTwilio?: LocalTwilio;
  /** The hub's SMS number (replies are sent to it). */
  twilioFrom: string;
}

export interface Demo {
  homes: string[];
  /** A family account for the web app (guardian of the second home), password shown once. */
  signIn: { login: string; password: string };
  published(): number;
  close(): Promise<void>;
}

const demoFamilies = [
  { resident: '山田 花子', family: [{ name: '山田 太郎', language: 'ja' as const }, { name: 'Ken Yamada', language: 'en' as const }] },
  { resident: '佐藤 キヨ', family: [{ name: '佐藤 恵子', language: 'ja' as const }] },
  { resident: '鈴木 トメ', family: [{ name: '鈴木 一郎', language: 'ja' as const }, { name: 'Mary Suzuki', language: 'en' as const }] },
  { resident: '高橋 ハル', family: [{ name: '高橋 美穂', language: 'ja' as const }] },
  { resident: '田中 ミツ', family: [{ name: '田中 健二', language: 'ja' as const }] },
  { resident: '伊藤 シズ', family: [{ name: 'Anna Ito', language: 'en' as const }] },
];

/** Fictitious numbers in the 090 range for the demo's people: home `i`, person `p`. */
function demoPhone(i: number, p: number): string {
  return `+8190${String(1000_0000 + i * 10 + p).padStart(8, '0')}`;
}

/** Incidents that make the demo show each rule early in its run. */
export function demoIncidents(homeIds: string[], start: number): IncidentSpec[] {
  const h = (i: number) => homeIds[i % homeIds.length]!;
  const at = (hours: number) => toLocalIso(start + hours * 3600_000, 'Asia/Tokyo');
  const specs: IncidentSpec[] = [
    { home: h(1), type: 'help-button', at: at(1.5) },
    { home: h(2), type: 'fall-in-bath', at: at(14) },
    { home: h(3), type: 'night-wandering', at: at(21) },
    { home: h(4), type: 'no-sign-of-life', at: at(28) },
    { home: h(5), type: 'sensor-silent', at: at(6) },
  ];
  return specs.slice(0, Math.max(1, homeIds.length));
}

/** Provisions the demo homes (fresh data folder) and starts publishing. */
export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const { store, clock, logger } = opts;
  const timezone = opts.timezone ?? 'Asia/Tokyo';
  const homeIds = Array.from({ length: opts.homes }, (_, i) => `demo-${String(i + 1).padStart(2, '0')}`);
  const stream = simulateStream({ seed: opts.seed, homes: homeIds.length, homeIds, start: toLocalIso(opts.start, timezone), days: 60, incidents: demoIncidents(homeIds, opts.start) });

  const agents = new Map<string, EdgeAgent>();
  for (const [i, home] of homeIds.entries()) {
    const fam = demoFamilies[i % demoFamilies.length]!;
    if (!(await store.getHome(home))) {
      await store.createHome({ id: home, name: `${fam.resident.split(' ')[0]}家`, timezone, address: `東京都杉並区見守り町${i + 1}-1`, entryNotes: 'キーボックス: 玄関脇、暗証番号は運営者へ' });
      await store.addResident({ homeId: home, name: fam.resident, birthYear: 1938 + i, language: 'ja' });
      for (const [p, f] of fam.family.entries()) {
        await store.addContact({ homeId: home, name: f.name, role: 'family', phone: demoPhone(i, p), language: f.language, priority: p + 1 });
      }
      await store.addContact({ homeId: home, name: 'ケアマネ 木村', role: 'caregiver', phone: demoPhone(i, 5), language: 'ja', priority: 1 });
      await store.addContact({ homeId: home, name: '見守りセンター', role: 'emergency', phone: demoPhone(i, 9), language: 'ja', priority: 1 });
    }
    // SMS first for family and caregivers, so the story reads in the Twilio record; emergency by voice, then SMS.
    const policy = await opts.notifier.getEscalationPolicy(home);
    await opts.notifier.setEscalationPolicy(home, {
      ...policy,
      tiers: policy.tiers.map((tier) => (tier.name === 'family' || tier.name === 'caregiver' ? { ...tier, channels: ['sms'] } : tier)),
    });
  }

  // A family member who can sign in to the web app: guardian of the home where someone answers.
  const familyHome = homeIds[1] ?? homeIds[0]!;
  const { account: familyAccount, password } = await createWebAccount(store, { login: 'demo-family', name: demoFamilies[1]!.family[0]!.name, role: 'family', home: familyHome, guardian: true }, clock.now());
  await store.setConsent({ homeId: familyHome, viewerId: familyAccount.id, level: 'detailed', photos: true, updatedAt: clock.now(), updatedBy: familyAccount.id });

  // One family member answers: ten simulated minutes after the help-button SMS, he replies "1".
  const replier = homeIds[1] !== undefined ? demoPhone(1, 0) : undefined;
  let replied = false;
  const stopReplying = opts.localTwilio && replier ? opts.localTwilio.onMessage((m) => {
    if (replied || m.to !== replier || m.status !== 'queued' || !/緊急ボタン|help button/i.test(m.body)) return;
    replied = true;
    const lt = opts.localTwilio!;
    scheduleAt(clock, clock.now() + 10 * 60_000, () => {
      logger.info({ home: homeIds[1] }, 'demo: a family member replies "1" to the alert SMS');
      lt.simulateInboundSms({ from: replier, to: opts.twilioFrom, body: '1' }).catch((err: unknown) => logger.warn({ err }, 'demo reply failed'));
    });
  }) : undefined;
  for (const d of stream.devices) {
    const creds = await provisionDevice(store, { homeId: d.home, deviceId: d.device, kind: d.kind });
    const agent = await createEdgeAgent({
      url: opts.mqttUrl, home: d.home, device: d.device, secret: creds.secret,
      queueDir: join(opts.dataDir, 'edge', d.home, d.device), logger: logger.child({ home: d.home, device: d.device }),
    });
    agents.set(`${d.home}/${d.device}`, agent);
  }
  logger.info({ homes: homeIds.length, devices: agents.size }, 'demo street started');

  let published = 0;
  let stopped = false;
  let cancelWait: (() => void) | undefined;
  const waitUntil = (at: number) => new Promise<void>((resolve) => { cancelWait = scheduleAt(clock, at, resolve); });

  const publish = async (r: Reading) => {
    const agent = agents.get(`${r.home}/${r.device}`);
    if (!agent) return;
    if (r.kind === 'heartbeat') {
      const hb: { ts: string; battery?: number } = { ts: toLocalIso(r.at, timezone) };
      if (r.battery !== undefined) hb.battery = r.battery;
      await agent.publishHeartbeat(hb);
    } else {
      const { home: _h, device: _d, at: _a, ...event } = r;
      await agent.publishEvent(event);
    }
    published++;
  };

  const loop = (async () => {
    for (const r of stream.readings) {
      if (stopped) return;
      if (r.at > clock.now()) await waitUntil(r.at);
      if (stopped) return;
      try { await publish(r); } catch (err) { logger.warn({ err }, 'demo publish failed'); }
    }
  })();

  return {
    homes: homeIds,
    signIn: { login: familyAccount.login, password },
    published: () => published,
    async close() {
      stopped = true;
      stopReplying?.();
      cancelWait?.();
      await Promise.race([loop, new Promise((r) => setTimeout(r, 2000))]);
      await Promise.all([...agents.values()].map((a) => a.close().catch(() => undefined)));
    },
  };
}
