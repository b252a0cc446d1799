/**
 * The health of every long-lived part of the hub, for the public `/health`
 * endpoint on the hub endpoints port. That port must be reachable by Twilio,
 * so this reports states and counters only: no home, person, device id,
 * phone number or message text ever appears here.
 */
import type { Broker } from '../broker/index.js';
import type { Ingest } from '../broker/index.js';
import type { HistoryWriter, InfluxdHealth } from '../history/index.js';
import type { FlowsStatus } from '../flows/index.js';
import type { Finding } from '../core/findings.js';

/** `off`: not part of this hub's configuration (e.g. Node-RED disabled, an external InfluxDB). */
export type PartState = 'up' | 'degraded' | 'down' | 'off';
export const hubParts = ['broker', 'ingest', 'rules', 'history', 'influxd', 'notifier', 'web', 'flows', 'video'] as const;
export type HubPart = (typeof hubParts)[number];

export interface PartHealth {
  state: PartState;
  /** Counters only (never names, ids or text). */
  detail?: Record<string, number | boolean>;
}

export interface HubHealth {
  /** No part is `down`. */
  ok: boolean;
  /** Wall-clock time of this report, epoch ms. */
  at: number;
  parts: Record<HubPart, PartHealth>;
}

/** Where each part's health is read from; a part left out is reported `off`. */
export interface HealthSources {
  broker?: Pick<Broker, 'stats' | 'admittingDevices'>;
  ingest?: Pick<Ingest, 'stats'>;
  /** Whether the rule engine's findings still reach the notifier. */
  rules?: () => boolean;
  history?: Pick<HistoryWriter, 'stats'>;
  /** The managed influxd; absent with an external InfluxDB. */
  influxd?: { health(): InfluxdHealth };
  /** Wall-clock time of the notifier's last failure on a finding or reading, if any. */
  notifierLastFailure?: () => number | undefined;
  notifier?: boolean;
  /** Whether the web app's server is listening (video runs on it). */
  web?: () => boolean;
  video?: boolean;
  flows?: { status(): FlowsStatus };
  now: () => number;
}

/** A notifier failure this recent makes it `degraded`. */
const recentFailureMs = 10 * 60_000;

/** Collects the health of every part (synchronous and cheap: safe to poll). */
export function hubHealth(src: HealthSources): HubHealth {
  const now = src.now();
  const off: PartHealth = { state: 'off' };
  const parts: Record<HubPart, PartHealth> = {
    broker: off, ingest: off, rules: off, history: off, influxd: off, notifier: off, web: off, flows: off, video: off,
  };
  if (src.broker) {
    const s = src.broker.stats();
    parts.broker = {
      state: src.broker.admittingDevices() ? 'up' : 'degraded',
      detail: { clients: s.clients, authFailures: s.authFailures, lockedOutLogins: s.lockedOutLogins, delayedLogins: s.delayedLogins, retainStripped: s.retainStripped },
    };
  }
  if (src.ingest) {
    const s = src.ingest.stats();
    const rejected = Object.values(s.rejected).reduce((a, b) => a + (b ?? 0), 0);
    parts.ingest = { state: s.connected ? 'up' : 'down', detail: { received: s.received, duplicates: s.duplicates, rejected } };
  }
  if (src.rules) parts.rules = { state: src.rules() ? 'up' : 'down' };
  if (src.history) {
    const s = src.history.stats();
    parts.history = { state: s.buffered > 0 ? 'degraded' : 'up', detail: { written: s.written, buffered: s.buffered, failures: s.failures } };
  }
  if (src.influxd) {
    const h = src.influxd.health();
    parts.influxd = {
      state: h.state === 'up' ? (h.troubled ? 'degraded' : 'up') : 'down',
      detail: { restarts: h.restarts, exits: h.exits, troubled: h.troubled },
    };
  }
  if (src.notifier) {
    const last = src.notifierLastFailure?.();
    parts.notifier = { state: last !== undefined && now - last < recentFailureMs ? 'degraded' : 'up' };
  }
  if (src.web) parts.web = { state: src.web() ? 'up' : 'down' };
  if (src.web && src.video) parts.video = parts.web;
  if (src.flows) {
    const s = src.flows.status();
    // Not running with no problem is safe mode, chosen by the operator.
    const state: PartState = s.running ? (s.problems.length > 0 ? 'degraded' : 'up') : s.problems.length > 0 ? 'down' : 'degraded';
    parts.flows = { state, detail: { problems: s.problems.length, running: s.running } };
  }
  return { ok: Object.values(parts).every((p) => p.state !== 'down'), at: now, parts };
}

/** The pseudo-home of findings about the hub itself (they go to the operator only). */
export const hubHome = 'hub';
/** Rule type of the "managed influxd keeps dying" finding (resolved when it is stable again). */
export const influxdTroubleType = 'influxdTrouble';

/**
 * The operator-audience finding raised when the managed influxd keeps dying
 * (and cleared once it stays up): it takes the device-health path, an SMS to
 * the operator, never the family.
 */
export function influxdTroubleFinding(state: Finding['state'], at: number, exits?: number): Finding {
  const n = exits ?? 0;
  return {
    home: hubHome, rule: 'influxd-trouble', type: influxdTroubleType, state, severity: 'warning', audience: 'operator', at,
    message: state === 'raised'
      ? { en: `History database (influxd) keeps stopping: ${n} times in 10 minutes; history is kept on disk`, ja: `履歴データベース (influxd) が10分間に${n}回停止しました。履歴はディスクに保存中です` }
      : { en: 'History database (influxd) is running steadily again', ja: '履歴データベース (influxd) は安定して動作しています' },
    expected: { en: 'influxd keeps running', ja: 'influxd が動き続けること' },
    observed: state === 'raised' ? { en: `${n} stops, restarted each time`, ja: `${n}回停止、その都度再起動` } : { en: 'up for a minute', ja: '1分間稼働' },
    data: { exits: n },
  };
}
