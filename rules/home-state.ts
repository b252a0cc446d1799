/**
 * Per-home state the rules read: compact plain fields (times as epoch ms,
 * `NONE` when unknown) so that 10k homes fit in a few MB, plus its
 * persisted form so a restart resumes mid-window.
 */
import { z } from 'zod';
import type { Reading } from '../core/events.js';
import type { Severity } from '../core/findings.js';
import type { RuleConfig } from './rule-config.js';
import type { RuleDefinition, ZoneClock } from './rules/rule.js';

/** "No time yet". Epoch times are ≥ 0, so `Math.max` with NONE is safe. */
export const NONE = -1;

export interface DeviceState {
  lastSeen: number;
  /** Last battery percentage from a heartbeat, NONE when never reported. */
  battery: number;
  /** Last power reading in watts, NONE when never reported. */
  watts: number;
  /**
   * Readings in a row that came at most the watermark's `silentAfterMs` apart
   * (climate only, in homes without heartbeats; not persisted — the home's
   * `data/periodic-at` mark is): a thermometer reporting that regularly is the
   * home's periodic reporter (watermark.ts, `notePeriodic`).
   */
  run: number;
  /**
   * What deviceSilent judges the device by (kept here, beside its last seen,
   * for every device, whether or not a rule reads them; saved with it):
   * whether it has ever sent a heartbeat; while it has not (an event-only
   * PIR, reed or mat), how many messages it has sent and the longest quiet
   * spell between two of them (ms). Its first heartbeat zeroes both: it is
   * judged on its heartbeats from then on.
   */
  beats: boolean;
  messages: number;
  quiet: number;
}

/** The compiled rule set a home runs (shared between homes with the same set). */
export interface HomeRules {
  timezone: string;
  /** Fast local time of day in `timezone`. */
  zone: ZoneClock;
  rules: RuleConfig[];
  /** `defs[i]` evaluates `rules[i]`. */
  defs: RuleDefinition[];
  /** A power change of at least this many watts is a sign of life. */
  powerChangeWatts: number;
}

export interface HomeState {
  readonly id: string;
  rules: HomeRules;
  /** When the engine first heard of the home: the no-sign-of-life clock's start if nothing else. */
  firstSeen: number;
  lastSignOfLife: number;
  /** What the last sign of life was (`motion`, `door`, …) and which device sent it. */
  lastSignKind: string;
  lastSignDevice: string;
  /**
   * The sign of life before the last one, and its device (not persisted: after
   * a restart the first quiet spell is not learned from). noSignOfLife learns
   * when her nights begin from the spell between the two (night-start.ts).
   */
  prevSignOfLife: number;
  prevSignDevice: string;
  /**
   * Since when every sign of life has come from `lastSignDevice` alone, after
   * another device's (NONE: not known — after a restart, until the device
   * changes). Not persisted: a restart restarts the run. noSignOfLife warns
   * when one sensor alone has given signs of life for a day (it may be firing
   * by itself, and would hide a collapse).
   */
  soleSince: number;
  /** Signs of life in that run. */
  soleSigns: number;
  lastMotion: number;
  /** Start of the current water / gas flow, NONE when not flowing. */
  waterSince: number;
  gasSince: number;
  /** Front door closed with no motion inside since: the resident seems to be out. */
  outSince: number;
  /** Away (e.g. at day-care) until this time; in the past it is the time they came back. */
  awayUntil: number;
  devices: Map<string, DeviceState>;
  /** The home's watermark: the newest reading time received (never past the hub's clock), NONE when none. */
  newestAt: number;
  /** The home's devices send heartbeats, so total silence is a gap in delivery rather than a quiet home. */
  beats: boolean;
  /** Clock time the last reading arrived far behind the clock (a queue flushing, the hub lagging); NONE when none. */
  lateArrivalAt: number;
  /** Since when the home's data is known to be behind (the operator's "data late" finding is raised); NONE when caught up. */
  lateSince: number;
  /**
   * The home's longest quiet spell (ms) between two messages while none of its
   * devices sends heartbeats: deviceSilent's "whole home silent" limit for an
   * event-only home. Hours lived at home (distinct clock hours with a sign of
   * life) and the last hour counted: an event-only device is silent only once
   * she has lived at home a while since its deadline.
   */
  longestQuiet: number;
  livedHours: number;
  livedHour: number;
  /** Raised findings by key (rule id, or `rule id/device`) → severity: the edge-trigger memory. */
  active: Map<string, Severity> | undefined;
  /** Rule-specific times by rule id (e.g. when a night door opened). */
  marks: Map<string, number> | undefined;
  /** The earliest deadline this home has in the engine's timer heap (Infinity: none). */
  wakeAt: number;
  /**
   * deviceSilent's cache (not persisted): no device of the home without an
   * open finding is due before `silentDueBound` under the rule object
   * `silentBoundRule`; undefined until first computed.
   */
  silentDueBound: number;
  silentBoundRule: RuleConfig | undefined;
  /**
   * Out-state bookkeeping for the saves (not persisted): clock time the
   * resident was last seen going out or coming back (`outSince` or the
   * learned routine's front-door tally changed), and whether that change is
   * not saved yet. A change that has held for a while is saved at the next
   * save, not left for the slower progress save (engine.ts, `persist`).
   */
  outChangedAt: number;
  outUnsaved: boolean;
  /** Changed since the last persist. */
  dirty: boolean;
  /**
   * Changed in a way a restart must not lose (a finding raised or cleared, a
   * mark, a flow starting or stopping, a new device, rules, away, context):
   * saved at the engine's next save. Plain progress (last seen, last sign of
   * life, learned-routine tallies) is saved less often (`persistProgressEveryMs`).
   */
  urgent: boolean;
}

/** A fresh home first heard of at `at`. */
export function createHomeState(id: string, rules: HomeRules, at: number): HomeState {
  return {
    id, rules, firstSeen: at, lastSignOfLife: NONE, lastSignKind: '', lastSignDevice: '', prevSignOfLife: NONE, prevSignDevice: '', soleSince: NONE, soleSigns: 0, lastMotion: NONE,
    waterSince: NONE, gasSince: NONE, outSince: NONE, awayUntil: NONE,
    devices: new Map(), newestAt: NONE, beats: false, longestQuiet: 0, livedHours: 0, livedHour: NONE, lateArrivalAt: NONE, lateSince: NONE, active: undefined, marks: undefined, wakeAt: Infinity,
    silentDueBound: NONE, silentBoundRule: undefined, outChangedAt: NONE, outUnsaved: false, dirty: true, urgent: true,
  };
}

/** What applying a reading changed that the engine needs to know. */
export const Applied = { Nothing: 0, SignOfLife: 1, NewDevice: 2 } as const;

const hourMs = 3_600_000;

/**
 * Updates the shared facts from one reading (O(1)): device last-seen and
 * battery, sign of life, motion, flows, and what device health judges each
 * device by (heartbeats, or an event-only device's messages and quiet
 * spells; the home's quiet spells and hours lived). Heartbeats and climate
 * readings are never a sign of life, so a chatty but otherwise silent home
 * still raises.
 */
export function applyReading(home: HomeState, r: Reading): number {
  let result: number = Applied.Nothing;
  const beat = r.kind === 'heartbeat';
  let dev = home.devices.get(r.device);
  if (dev === undefined) {
    dev = { lastSeen: r.at, battery: NONE, watts: NONE, run: 0, beats: false, messages: 0, quiet: 0 };
    home.devices.set(r.device, dev);
    result = Applied.NewDevice;
    home.urgent = true;
  } else if (r.at > dev.lastSeen) {
    // An event-only device's quiet spell since its previous message (a late message is none).
    if (!dev.beats && !beat && r.at - dev.lastSeen > dev.quiet) dev.quiet = r.at - dev.lastSeen;
    dev.lastSeen = r.at;
  }
  if (!dev.beats && !beat) dev.messages++;
  home.dirty = true;
  if (r.at > home.newestAt) {
    if (!home.beats && !beat && home.newestAt !== NONE && r.at - home.newestAt > home.longestQuiet) home.longestQuiet = r.at - home.newestAt;
    home.newestAt = r.at;
  }
  let sign = false;
  switch (r.kind) {
    case 'heartbeat':
      if (!home.beats) home.urgent = true;
      home.beats = true;
      // Judged on its heartbeats from now on: what was learned of its quiet spells is never read again.
      if (!dev.beats) { dev.beats = true; dev.messages = 0; dev.quiet = 0; home.urgent = true; }
      if (r.battery !== undefined) dev.battery = r.battery;
      break;
    case 'motion':
      if (r.occupied) {
        sign = true;
        if (r.at > home.lastMotion) home.lastMotion = r.at;
      }
      break;
    case 'door':
    case 'button':
      sign = true;
      break;
    case 'kettle':
      // Only switching on is a person; "off" is usually the kettle's own cut-out.
      sign = r.state === 'on';
      break;
    case 'water':
      sign = r.flowing;
      if (r.flowing) { if (home.waterSince === NONE) { home.waterSince = r.at; home.urgent = true; } } else if (home.waterSince !== NONE) { home.waterSince = NONE; home.urgent = true; }
      break;
    case 'gas':
      sign = r.flowing;
      if (r.flowing) { if (home.gasSince === NONE) { home.gasSince = r.at; home.urgent = true; } } else if (home.gasSince !== NONE) { home.gasSince = NONE; home.urgent = true; }
      break;
    case 'power':
      sign = dev.watts !== NONE && Math.abs(r.watts - dev.watts) >= home.rules.powerChangeWatts;
      dev.watts = r.watts;
      break;
    case 'climate':
      break;
  }
  if (sign && r.at >= home.lastSignOfLife) {
    home.prevSignOfLife = home.lastSignOfLife;
    home.prevSignDevice = home.lastSignDevice;
    home.lastSignOfLife = r.at;
    home.lastSignKind = r.kind;
    home.lastSignDevice = r.device;
    result |= Applied.SignOfLife;
    const hour = Math.floor(r.at / hourMs);
    if (hour > home.livedHour) { home.livedHour = hour; home.livedHours++; }
  }
  return result;
}

const severitySchema = z.enum(['info', 'warning', 'critical']);
const time = z.number();
const persistedSchema = z.object({
  v: z.literal(1),
  firstSeen: time,
  lastSignOfLife: time,
  lastSignKind: z.string(),
  lastSignDevice: z.string(),
  lastMotion: time,
  waterSince: time,
  gasSince: time,
  outSince: time,
  awayUntil: time,
  /**
   * device id → [lastSeen, battery, watts, messages, quiet]: `messages` is NONE for a
   * device that sends heartbeats (`DeviceState.beats`). Saved before device health's
   * tallies moved into the device: [lastSeen, battery, watts] (they were marks then).
   */
  devices: z.record(z.string(), z.union([z.tuple([time, time, time, time, time]), z.tuple([time, time, time])])),
  active: z.record(z.string(), severitySchema),
  marks: z.record(z.string(), time),
  /** Watermark fields (added later: absent in older saved state). */
  newestAt: time.optional(),
  beats: z.boolean().optional(),
  lateArrivalAt: time.optional(),
  lateSince: time.optional(),
  /** Device health's home tallies (absent in older saved state: marks then). */
  longestQuiet: time.optional(),
  livedHours: time.optional(),
  livedHour: time.optional(),
});
export type PersistedHomeState = z.infer<typeof persistedSchema>;

/**
 * The v1 form: what the engine saved as one JSON row per home before migration 15
 * (`Store.saveHomeStates`). Saved state is now in parts (home-state-codec.ts), which
 * decode to this same form, so `restoreHomeState` reads both.
 */
export function serializeHomeState(h: HomeState): PersistedHomeState {
  const devices: Record<string, [number, number, number, number, number]> = {};
  for (const [id, d] of h.devices) devices[id] = [d.lastSeen, d.battery, d.watts, d.beats ? NONE : d.messages, d.quiet];
  return {
    v: 1, firstSeen: h.firstSeen, lastSignOfLife: h.lastSignOfLife, lastSignKind: h.lastSignKind, lastSignDevice: h.lastSignDevice,
    lastMotion: h.lastMotion, waterSince: h.waterSince, gasSince: h.gasSince, outSince: h.outSince, awayUntil: h.awayUntil,
    devices, active: Object.fromEntries(h.active ?? []), marks: Object.fromEntries(h.marks ?? []),
    newestAt: h.newestAt, beats: h.beats, lateArrivalAt: h.lateArrivalAt, lateSince: h.lateSince,
    longestQuiet: h.longestQuiet, livedHours: h.livedHours, livedHour: h.livedHour,
  };
}

/**
 * Rebuilds a home from its persisted form; an error message when it is
 * unreadable. Times of things that happened (last sign of life, last seen,
 * flows, the watermark) later than `now` cannot be true — state saved before
 * event times were bounded may hold one from the year 2300 — and are pulled
 * back to `now`; `repaired` lists them. `awayUntil` may be in the future and
 * is kept.
 */
export function restoreHomeState(id: string, rules: HomeRules, saved: unknown, now = Infinity): { home: HomeState; repaired: string[] } | string {
  const p = persistedSchema.safeParse(saved);
  if (!p.success) return p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  const s = p.data;
  const repaired: string[] = [];
  const past = (name: string, t: number): number => {
    if (t <= now) return t;
    repaired.push(name);
    return now;
  };
  const h = createHomeState(id, rules, past('firstSeen', s.firstSeen));
  Object.assign(h, {
    lastSignOfLife: past('lastSignOfLife', s.lastSignOfLife), lastSignKind: s.lastSignKind, lastSignDevice: s.lastSignDevice, lastMotion: past('lastMotion', s.lastMotion),
    waterSince: past('waterSince', s.waterSince), gasSince: past('gasSince', s.gasSince), outSince: past('outSince', s.outSince), awayUntil: s.awayUntil,
    newestAt: past('newestAt', s.newestAt ?? NONE), beats: s.beats ?? false, lateArrivalAt: past('lateArrivalAt', s.lateArrivalAt ?? NONE), lateSince: past('lateSince', s.lateSince ?? NONE),
    longestQuiet: s.longestQuiet ?? 0, livedHours: s.livedHours ?? 0, livedHour: s.livedHour ?? NONE,
    dirty: false, urgent: false,
  });
  for (const [dev, [lastSeen, battery, watts, messages = 0, quiet = 0]] of Object.entries(s.devices)) {
    h.devices.set(dev, { lastSeen: past(`devices.${dev}`, lastSeen), battery, watts, run: 0, beats: messages === NONE, messages: Math.max(messages, 0), quiet });
  }
  if (repaired.length > 0) { h.dirty = true; h.urgent = true; }
  const active = Object.entries(s.active);
  if (active.length) h.active = new Map(active);
  const marks = Object.entries(s.marks);
  if (marks.length) h.marks = new Map(marks);
  if (h.marks !== undefined && moveDeviceHealthMarks(h)) { h.dirty = true; h.urgent = true; }
  return { home: h, repaired };
}

/** Device health's tallies as marks, before they moved into the device and home records (`/<what>/<device>` or `/<what>`). */
const deviceMark = /^(heartbeats|messages|quiet|seen)\/(.+)$/;
const homeMarks = new Set(['last', 'quiet', 'lived', 'lived-hour']);

/**
 * State saved before device health's tallies moved into the device and home
 * records held them as marks of each deviceSilent rule (`<rule>/heartbeats/<device>`,
 * `…/messages/…`, `…/quiet/…`, `…/seen/…`, and the home's `<rule>/last`,
 * `…/quiet`, `…/lived`, `…/lived-hour`): they become the fields (the most any
 * rule learned, when a home ran two) and the marks are dropped. `seen` and
 * `last` were the device's and the home's last message — `lastSeen` and
 * `newestAt` already. The rule's `<rule>/overdue/<device>` marks stay: they
 * belong to that rule's limits. Returns whether anything moved.
 */
function moveDeviceHealthMarks(h: HomeState): boolean {
  const marks = h.marks!;
  const ids = h.rules.rules.filter((r) => r.type === 'deviceSilent').map((r) => `${r.id}/`);
  if (ids.length === 0 && !h.rules.rules.some((r) => r.id === 'device-silent')) ids.push('device-silent/');
  let moved = false;
  for (const [key, value] of [...marks]) {
    const prefix = ids.find((id) => key.startsWith(id));
    if (prefix === undefined) continue;
    const rest = key.slice(prefix.length);
    const m = deviceMark.exec(rest);
    if (m !== null) {
      const d = h.devices.get(m[2]!);
      if (d !== undefined) {
        if (m[1] === 'heartbeats') { d.beats = true; d.messages = 0; d.quiet = 0; }
        else if (!d.beats && m[1] === 'messages') d.messages = Math.max(d.messages, value);
        else if (!d.beats && m[1] === 'quiet') d.quiet = Math.max(d.quiet, value);
      }
    } else if (homeMarks.has(rest)) {
      if (rest === 'quiet') h.longestQuiet = Math.max(h.longestQuiet, value);
      else if (rest === 'lived') h.livedHours = Math.max(h.livedHours, value);
      else if (rest === 'lived-hour') h.livedHour = Math.max(h.livedHour, value);
    } else continue;
    marks.delete(key);
    moved = true;
  }
  if (marks.size === 0) h.marks = undefined;
  return moved;
}
