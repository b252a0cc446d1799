/**
 * The demo street for `npm start`: a few simulated homes whose residents live
 * their days sped up in time, each sensor publishing through its own
 * store-and-forward edge agent to the hub's broker over real MQTT. Incidents
 * are scheduled early so a real alert appears within two minutes.
 *
 * The street owns the simulated clock and waits for the hub: it moves time
 * forward one step (a simulated minute) at a time, at most `speed` times
 * faster than the wall clock, and only after the hub has taken in every
 * message of the step before and the alert path has gone idle. A busy
 * machine therefore slows the street down instead of leaving the homes'
 * data hours behind the hub's clock (which made every home look silent).
 * Each step's readings are published before the clock reaches them, so the
 * hub's data is never behind its clock, and at most one step ahead.
 * People's time — TOTP, lockouts, sessions, video calls, check-ins — stays
 * on the wall clock (cli/hub.ts `wallClock`).
 */
import { join } from 'node:path';
import type { SchedulerAction, Subscription } from 'rxjs';
import { VirtualClock, scheduleAt, type WallClock } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import type { Reading } from '../core/events.js';
import { toLocalIso } from '../core/time.js';
import { provisionDevice } from '../broker/index.js';
import type { IngestStats } from '../broker/index.js';
import { simulateStream, type IncidentSpec } from '../edge/index.js';
import { createEdgeAgent, type EdgeAgent } from '../edge/index.js';
import { toDeviceMessage } from '../edge/index.js';
import type { Notifier } from '../notifier/index.js';
import type { LocalTwilio } from '../notifier/index.js';
import type { LocalLine } from '../notifier/index.js';
import { readLinePostback } from '../notifier/index.js';
import { issueLineLinkCode } from '../notifier/index.js';
import type { LocalPush } from '../notifier/index.js';
import { subscribePush } from '../notifier/index.js';
import { createWebAccount } from './accounts.js';
import { startStreetBridges, type StreetBridges } from './demo-bridge.js';

/**
 * The street's simulated time: a virtual clock that only the demo advances.
 * A timer that throws is logged and the others keep running (a plain
 * `VirtualClock` drops every pending timer when one throws, which in a
 * running hub would silently stop the rules and escalations).
 */
export class DemoClock extends VirtualClock {
  constructor(start: number, private readonly logger: Logger) {
    super(start);
  }

  override schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const logger = this.logger;
    return super.schedule(function (this: SchedulerAction<T>, s?: T) {
      try { work.call(this, s); } catch (err) { logger.error({ err }, 'a timer on the demo clock failed'); }
    }, delay, state);
  }
}

/** What the street waits for before moving time on. */
export interface DemoHub {
  /** Device messages the hub's ingest has finished with (accepted, duplicate or refused), ever. */
  takenIn(): number;
  /** Resolves when the alert path has finished what the readings so far started. */
  idle(): Promise<void>;
}

/** The hub's side of the back-pressure, from its ingest counters, notifier and local Twilio server. */
export function demoHubOf(hub: { ingest: { stats(): IngestStats }; notifier: Pick<Notifier, 'idle'>; localTwilio?: Pick<LocalTwilio, 'settled'> }): DemoHub {
  return {
    takenIn() {
      const s = hub.ingest.stats();
      return s.events + s.heartbeats + s.duplicates + Object.values(s.rejected).reduce((n, k) => n + (k ?? 0), 0);
    },
    async idle() {
      await hub.notifier.idle();
      await hub.localTwilio?.settled();
    },
  };
}

export interface DemoOptions {
  store: Store;
  /** The street's simulated time, shared with the hub (`startHub({ clock })`); only the demo advances it. */
  simClock: VirtualClock;
  /** Real time, for pacing the steps. */
  wallClock: WallClock;
  /** At most this many simulated milliseconds per wall-clock millisecond (Infinity: as fast as the hub keeps up). */
  speed: number;
  /** Simulated time per step (default 60 000 ms); the hub's data is at most one step ahead of its clock. */
  stepMs?: number;
  /** The hub the street waits for at every step. */
  hub: DemoHub;
  /** Stop moving time at this simulated time (default: when the 60 simulated days are over). */
  endAt?: number;
  logger: Logger;
  mqttUrl: string;
  dataDir: string;
  homes: number;
  seed: number;
  /** Simulated start time (epoch ms), normally 05:00 today in Tokyo; `simClock` starts there. */
  start: number;
  timezone?: string;
  /** For the demo's escalation policy (SMS first, so the story is readable). */
  notifier: Notifier;
  /** When present, a family member answers one alert by replying "1" to its SMS. */
  localTwilio?: LocalTwilio;
  /** When present, a family member of the first home links LINE and answers its help alert with the 確認しました button. */
  localLine?: LocalLine;
  /** When present, the first home's second family member has a web push subscription there (a demo device with its own keys). */
  localPush?: LocalPush;
  /** The hub's SMS number (replies are sent to it). */
  twilioFrom: string;
  /**
   * Through the device bridge (`npm start -- --via-bridge`): the homes' sensors publish zigbee2mqtt-format
   * messages to this home broker and a device bridge per home forwards them (cli/demo-bridge.ts).
   */
  viaBridge?: { localUrl: string };
}

export interface Demo {
  homes: string[];
  /** A family account for the web app (guardian of the second home), password shown once. */
  signIn: { login: string; password: string };
  published(): number;
  /** Resolves when the street has stopped moving time (`endAt` reached, the days run out, or closed). */
  finished: Promise<void>;
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
  const out = specs.slice(0, Math.max(1, homeIds.length));
  // The LINE story (docs/channels.md): a help press in the first home, answered by LINE.
  if (homeIds.length >= 2) out.push({ home: h(0), type: 'help-button', at: at(2.5) });
  return out;
}

/** Provisions the demo homes (fresh data folder) and starts publishing. */
export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const { store, simClock: clock, wallClock, logger } = opts;
  const stepMs = opts.stepMs ?? 60_000;
  if (!(opts.speed > 0)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `demo speed must be above 0, not ${opts.speed}`);
  if (!(stepMs >= 1000 && stepMs <= 60_000)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `demo step must be 1 s to 1 min of simulated time, not ${stepMs} ms`);
  if (clock.now() !== opts.start) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'the demo clock must start at the demo start time');
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
  // The account is that family member's contact: /account/notifications shows and edits their settings.
  const familyContact = (await store.listContacts(familyHome)).find((c) => c.name === familyAccount.name);
  if (familyContact) await store.setContactAccount(familyContact.id, familyAccount.id);

  // Work the street started outside the readings (the family's reply): the next step waits for it too.
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => { const q = p.catch((err: unknown) => logger.warn({ err }, 'demo reply failed')).finally(() => pending.delete(q)); pending.add(q); };

  // One family member answers: ten simulated minutes after the help-button SMS, he replies "1".
  const replier = homeIds[1] !== undefined ? demoPhone(1, 0) : undefined;
  let replied = false;
  const stopReplying = opts.localTwilio && replier ? opts.localTwilio.onMessage((m) => {
    if (replied || m.to !== replier || m.status !== 'queued' || !/緊急ボタン|help button/i.test(m.body)) return;
    replied = true;
    const lt = opts.localTwilio!;
    scheduleAt(clock, clock.now() + 10 * 60_000, () => {
      logger.info({ home: homeIds[1] }, 'demo: a family member replies "1" to the alert SMS');
      track(lt.simulateInboundSms({ from: replier, to: opts.twilioFrom, body: '1' }));
    });
  }) : undefined;
  const stopLine = opts.localLine ? await lineStory(opts.localLine, homeIds[0]!) : undefined;
  const stopPush = opts.localPush ? await pushStory(opts.localPush, homeIds[0]!) : undefined;

  /**
   * The first home's second family member (Ken, English) subscribed a phone to web push on
   * /account/notifications and put push first: the demo device is a subscription of the local
   * push service (its own ECDH keys and auth secret), which decrypts what the hub's real
   * web-push sends and records it (push-messages.ndjson in the data folder).
   */
  async function pushStory(service: LocalPush, home: string): Promise<() => void> {
    const member = (await store.listContacts(home)).filter((c) => c.role === 'family')[1];
    if (!member) return () => undefined;
    const device = service.subscribe();
    await subscribePush(store, { contactId: member.id, subscription: device, label: 'demo phone', actor: 'demo', now: clock.now() });
    await opts.notifier.setContactPreferences(member.id, { channels: ['push', 'sms'] }, 'demo');
    logger.info({ home }, 'demo: a family member subscribed a phone to web push');
    return service.onMessage((m) => {
      if (m.endpoint !== device.endpoint) return;
      const p = m.json as { alertId?: string; actions?: unknown[] } | undefined;
      // Not the text: logs carry no personal data; the record has it, decrypted.
      logger.info({ home, alert: p?.alertId, actions: p?.actions?.length ?? 0, record: `${service.url}/messages/${m.id}` }, 'demo: a web push reached the family member\'s phone (decrypted by the local push service)');
    });
  }

  /**
   * The first home's first family member adds the hub's LINE bot, types the link code from
   * /account, and puts LINE first; five simulated minutes after an alert with buttons reaches
   * them, they tap 確認しました. Everything goes through the local LINE server and the hub's
   * signed webhook, as with real LINE (its record: line-messages.ndjson in the data folder).
   */
  async function lineStory(line: LocalLine, home: string): Promise<() => void> {
    const member = (await store.listContacts(home)).find((c) => c.role === 'family');
    if (!member) return () => undefined;
    const user = line.newUserId();
    if (!(await store.findContactsByAddress('line', user)).length) {
      const { code } = await issueLineLinkCode(store, member.id, clock.now());
      await line.follow(user);
      await line.say(user, code);
      await opts.notifier.setContactPreferences(member.id, { channels: ['line', 'sms'] }, 'demo');
      logger.info({ home }, 'demo: a family member linked LINE with a one-time code');
    }
    let answered = false;
    return line.onMessage((m) => {
      const buttons = m.messages.find((x): x is { type: 'template'; template: { actions: Array<{ data: string }> } } => (x as { type?: string }).type === 'template');
      const data = buttons?.template.actions[0]?.data;
      if (answered || m.to !== user || m.kind !== 'push' || !data || !readLinePostback(data)) return;
      answered = true;
      scheduleAt(clock, clock.now() + 5 * 60_000, () => {
        logger.info({ home }, 'demo: a family member taps 確認しました on the LINE alert');
        track(line.postback(user, data));
      });
    });
  }

  const viaBridge: Array<{ home: string; device: string; kind: string; secret: string }> = [];
  for (const d of stream.devices) {
    const creds = await provisionDevice(store, { homeId: d.home, deviceId: d.device, kind: d.kind });
    if (opts.viaBridge) { viaBridge.push({ ...d, secret: creds.secret }); continue; }
    const agent = await createEdgeAgent({
      url: opts.mqttUrl, home: d.home, device: d.device, secret: creds.secret,
      queueDir: join(opts.dataDir, 'edge', d.home, d.device), logger: logger.child({ home: d.home, device: d.device }),
    });
    agents.set(`${d.home}/${d.device}`, agent);
  }
  const bridged: StreetBridges | undefined = opts.viaBridge
    ? await startStreetBridges({ localUrl: opts.viaBridge.localUrl, hubUrl: opts.mqttUrl, devices: viaBridge, dataDir: opts.dataDir, clock, logger: logger.child({ part: 'bridge' }), timezone })
    : undefined;
  logger.info({ homes: homeIds.length, devices: agents.size + viaBridge.length, speed: opts.speed, stepMs, viaBridge: bridged ? opts.viaBridge?.localUrl : false }, 'demo street started');

  let published = 0;
  let stopped = false;
  const takenAtStart = opts.hub.takenIn();
  const wake = new Set<() => void>();
  /** Sleeps on the wall clock; `close()` wakes every sleeper. */
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const done = () => { sub.unsubscribe(); wake.delete(done); resolve(); };
    const sub = wallClock.schedule(done, ms);
    wake.add(done);
  });

  const publish = async (r: Reading) => {
    if (bridged) { await bridged.publish(r); published++; return; }
    const agent = agents.get(`${r.home}/${r.device}`);
    if (!agent) return;
    const msg = toDeviceMessage(r, timezone);
    if (msg.channel === 'heartbeat') await agent.publishHeartbeat(msg.heartbeat);
    else await agent.publishEvent(msg.event);
    published++;
  };

  /** The barrier: every message published so far has been taken in, and the alert path is idle. */
  const hubCaughtUp = async () => {
    // Through the bridge, the hub takes in what the bridges made of the messages (changes, heartbeats), not the messages.
    if (bridged) await bridged.caughtUp(sleep, () => stopped);
    const handed = () => (bridged ? bridged.forwarded() : published);
    let since = wallClock.now();
    while (!stopped && opts.hub.takenIn() - takenAtStart < handed()) {
      if (wallClock.now() - since > 10_000) {
        logger.warn({ published: handed(), takenIn: opts.hub.takenIn() - takenAtStart }, 'demo street waits for the hub to take in its messages');
        since = wallClock.now();
      }
      await sleep(2);
    }
    if (stopped) return;
    await opts.hub.idle();
    while (pending.size > 0) await Promise.all([...pending]);
  };

  const readings = stream.readings[Symbol.iterator]();
  let next = readings.next();
  const endAt = opts.endAt ?? Infinity;
  const pace = { steps: 0, publishMs: 0, waitMs: 0, since: wallClock.now() };
  const finished = (async () => {
    let due = wallClock.now();
    while (!stopped && clock.now() < endAt && !next.done) {
      const to = Math.min(clock.now() + stepMs, endAt);
      // This step's readings go out first (time-stamped at most one step ahead of the hub's clock),
      // each device's in order, the devices side by side (each agent has its own disk queue) ...
      const t0 = wallClock.now();
      const byDevice = new Map<string, Reading[]>();
      while (!next.done && next.value.at <= to) {
        const key = `${next.value.home}/${next.value.device}`;
        byDevice.set(key, [...(byDevice.get(key) ?? []), next.value]);
        next = readings.next();
      }
      await Promise.all([...byDevice.values()].map(async (list) => {
        for (const r of list) {
          try { await publish(r); } catch (err) { logger.warn({ err }, 'demo publish failed'); }
        }
      }));
      // ... the hub takes them in and finishes what they started ...
      const t1 = wallClock.now();
      await hubCaughtUp();
      pace.steps++; pace.publishMs += t1 - t0; pace.waitMs += wallClock.now() - t1;
      if (pace.steps === 60) {
        // Once a simulated hour: how fast the street really goes, and where the time went.
        const realMs = wallClock.now() - pace.since;
        logger.info({ at: toLocalIso(to, timezone), speed: Math.round((60 * stepMs) / Math.max(1, realMs)), publishMs: Math.round(pace.publishMs / 60), waitMs: Math.round(pace.waitMs / 60) }, 'demo street pace (per step)');
        Object.assign(pace, { steps: 0, publishMs: 0, waitMs: 0, since: wallClock.now() });
      }
      // ... and time moves on no faster than `speed` (after a stall it does not race to catch up).
      due = Math.max(due + (to - clock.now()) / opts.speed, wallClock.now());
      if (due > wallClock.now()) await sleep(due - wallClock.now());
      if (stopped) break;
      clock.advanceTo(to);
    }
    if (!stopped) logger.info({ at: toLocalIso(clock.now(), timezone) }, 'demo street stopped moving time');
  })();

  return {
    homes: homeIds,
    signIn: { login: familyAccount.login, password },
    published: () => published,
    finished,
    async close() {
      stopped = true;
      stopReplying?.();
      stopLine?.();
      stopPush?.();
      for (const w of [...wake]) w();
      await finished;
      await Promise.all([...agents.values()].map((a) => a.close().catch(() => undefined)));
      await bridged?.close().catch(() => undefined);
    },
  };
}
