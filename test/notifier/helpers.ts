/**
 * Shared set-up for the notifier tests: a real SQLite store with one home,
 * the local Twilio server on a free port, and a real fastify server that
 * receives its status callbacks.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { SchedulerLike } from 'rxjs';
import { silentLogger } from '../../core/logger.js';
import { tempDir as supportTempDir, type Teardown } from '../support/wait.js';
import { createSqliteStore, type Contact, type Store } from '../../core/store.js';
import type { Finding } from '../../core/findings.js';
import { startLocalTwilio, type LocalTwilio } from '../../notifier/local-twilio-server.js';

export const homeId = 'home-1';
export const tz = 'Asia/Tokyo';
/** 2026-11-21 19:42 in Tokyo. */
export const at1942 = Date.parse('2026-11-21T19:42:00+09:00');

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: Teardown): string {
  return supportTempDir(t, 'mimamori-notifier-');
}

export { until } from '../support/wait.js';

/**
 * The escalation policy most notifier tests run: family, then caregivers, then emergency
 * services, by SMS, 10 minutes each; reminders every 30 minutes (`renotifyMax` of them).
 */
export function smsTiersPolicy(renotifyMax: number) {
  return {
    tiers: [
      { name: 'family', recipients: [{ role: 'family' }], channels: ['sms'], waitMinutes: 10 },
      { name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['sms'], waitMinutes: 10 },
      { name: 'emergency', recipients: [{ role: 'emergency' }], channels: ['sms'], waitMinutes: 10 },
    ],
    entry: { info: 'family', warning: 'family', critical: 'family' },
    renotifyMinutes: 30, renotifyMax, graceMinutes: 10,
  };
}

export interface SeededHome {
  store: Store;
  taro: Contact;  // family, ja
  ken: Contact;    // family, en
  carer: Contact;  // caregiver: never paged in this version
}

/** A home with a resident and contacts, in an in-memory SQLite store. */
export async function seedHome(store: Store = createSqliteStore(':memory:')): Promise<SeededHome> {
  await store.createHome({ id: homeId, name: '山田さん宅', timezone: tz, address: '東京都港区1-2-3', entryNotes: 'キーボックス暗証番号 4321' });
  await store.addResident({ homeId, name: '山田花子', language: 'ja' });
  // Priority order: ken (1) before taro (2), so ordering is visible.
  const taro = await store.addContact({ homeId, name: '山田太郎', role: 'family', phone: '+819011112222', language: 'ja', priority: 2 });
  const ken = await store.addContact({ homeId, name: 'Ken Yamada', role: 'family', phone: '+14155550123', language: 'en', priority: 1 });
  const carer = await store.addContact({ homeId, name: '佐藤ケアマネ', role: 'caregiver', phone: '+819033334444', language: 'ja', priority: 3 });
  return { store, taro, ken, carer };
}

export function finding(over: Partial<Finding> = {}): Finding {
  return {
    home: homeId, rule: 'bath-flow', type: 'flowWithoutMotion', state: 'raised', severity: 'critical', audience: 'family', at: at1942,
    message: { ja: '60分以上、浴室の水が流れたままで動きがありません', en: 'Bath water has been running for 60 minutes and nobody has moved' },
    expected: { ja: '水を使う間に動きがあること', en: 'movement while water runs' },
    observed: { ja: '18:42から水が流れ続け、動きなし', en: 'water running since 18:42, no movement' },
    ...over,
  };
}

export async function startLocal(clock?: SchedulerLike, recordFile?: string): Promise<LocalTwilio> {
  const opts: Parameters<typeof startLocalTwilio>[0] = { logger: silentLogger() };
  if (clock) opts.clock = clock;
  if (recordFile) opts.recordFile = recordFile;
  return startLocalTwilio(opts);
}

/** A real HTTP server standing in for the hub's public side; returns its base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

export function newApp(): FastifyInstance {
  return Fastify({ logger: false, forceCloseConnections: true });
}
