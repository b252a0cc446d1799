/**
 * deviceSilent: device health for the operator, fitted to each device.
 *
 * - A device that sends heartbeats is silent after `afterMinutes` without
 *   any message.
 * - An event-only device (it never sent a heartbeat: most PIR, reed and mat
 *   sensors report only on change) is judged against its own quiet spells:
 *   silent after twice the longest gap it has had so far, and never sooner
 *   than `eventOnlyAfterMinutes` — a cupboard opened every other day is not
 *   broken on the second day. One with fewer than 20 messages so far, or in a
 *   home watched for fewer than `eventOnlyLearningDays`, is not judged on its
 *   own (its quiet spells are unknown: on the real recordings a burner, an
 *   oven or a washing machine used twice a week looked "broken" daily).
 * - A device counts as silent on its own only once another device of the
 *   home has reported after its deadline: when nothing in the home reports
 *   (hub, gateway, power or internet down, or a gap in a recording), that is
 *   ONE "home went silent" finding, not one per device. The home's own
 *   threshold is `afterMinutes` when some device sends heartbeats, otherwise
 *   twice the home's longest quiet spell, at least `homeSilentMinutes`.
 *
 * It never says "no activity", and it does not touch the no-sign-of-life
 * clock (which runs from the last real sign of life).
 */
import type { Reading } from '../../core/events.js';
import { NONE, type DeviceState, type HomeState } from '../home-state.js';
import type { DeviceSilentRule } from '../rule-config.js';
import { clear, duration, finding, hhmm, raise, type RuleContext, type RuleDefinition } from './rule.js';
import { getMark, setMark } from './routine-marks.js';
import { memoWeak } from '../memo.js';

const minute = 60_000;
const day = 24 * 60 * minute;
/** While a device is overdue but the rest of the home is quiet too, look again this often. */
const recheckMs = 15 * minute;
/**
 * The finding and mark keys of one device under one rule, built once: the
 * per-reading path looks them up by the same string objects (their hash is
 * computed once) instead of concatenating fresh keys on every reading. What
 * the rule judges a device by — whether it sends heartbeats, an event-only
 * device's messages and longest quiet spell — are facts of the device record
 * (home-state.ts `DeviceState`, kept by `applyReading`), not marks: they were
 * two thirds of the mark lookups per reading (docs/bench.md).
 */
interface DeviceKeys {
  /** The device's finding key (`rule id/device`). */
  finding: string;
  /** Mark: the home's lived-hours count when it was first found past this rule's limit (event-only). */
  overdue: string;
}
/**
 * A memo of derived strings per compiled rule (rule objects are shared by
 * every home running the same rule set, device ids mostly repeat across
 * homes). It holds no decision state; weakly keyed, so a replaced rule set
 * takes its keys with it.
 */
const deviceKeysOf = memoWeak((_: DeviceSilentRule) => new Map<string, DeviceKeys>());
function keysOf(rule: DeviceSilentRule, device: string): DeviceKeys {
  const byDevice = deviceKeysOf(rule);
  let k = byDevice.get(device);
  if (k === undefined) {
    k = { finding: `${rule.id}/${device}`, overdue: `${rule.id}/overdue/${device}` };
    byDevice.set(device, k);
  }
  return k;
}
const keyOf = (rule: DeviceSilentRule, device: string): string => keysOf(rule, device).finding;
/** The rule's "whole home silent" finding key, built once per compiled rule like the device keys. */
const homeKey = memoWeak(({ id }: DeviceSilentRule): string => `${id}/*home`);
/** An event-only device is judged on its own only after this many messages (its quiet spells are known). */
const minMessagesLearned = 20;

/** Whether the hours lived at home since the device was found past its limit are enough (no marks written). */
function livedEnough(rule: DeviceSilentRule, home: HomeState, d: DeviceState, k: DeviceKeys): boolean {
  if (d.beats || rule.eventOnlyLivedHours === 0) return true;
  const from = getMark(home, k.overdue);
  return from === undefined || home.livedHours - from >= rule.eventOnlyLivedHours;
}

/**
 * Whether an event-only device past its limit has stayed silent while she lived at
 * home `eventOnlyLivedHours` more hours. The first look past the limit files the count.
 */
function silentWhileLived(rule: DeviceSilentRule, home: HomeState, d: DeviceState, k: DeviceKeys): boolean {
  if (!d.beats && rule.eventOnlyLivedHours > 0 && getMark(home, k.overdue) === undefined) {
    setMark(home, k.overdue, home.livedHours, false);
    return false;
  }
  return livedEnough(rule, home, d, k);
}

/** How long the device `d` may stay silent (Infinity: not judged on its own). */
function deviceLimit(rule: DeviceSilentRule, home: HomeState, d: DeviceState, now: number): number {
  if (d.beats) return rule.afterMinutes * minute;
  // Too few messages, or too few days watched, to know its quiet spells: not judged on its
  // own (the home finding still covers it).
  if (d.messages < minMessagesLearned || now - home.firstSeen < rule.eventOnlyLearningDays * day) return Infinity;
  return Math.max(rule.eventOnlyAfterMinutes * minute, 2 * d.quiet);
}

/** When the learning days of an event-only device end (its limit may become finite then). */
function learnedAt(rule: DeviceSilentRule, home: HomeState): number {
  return home.firstSeen + rule.eventOnlyLearningDays * day;
}

/** How long the whole home may stay silent. */
function homeLimit(rule: DeviceSilentRule, home: HomeState): number {
  for (const d of home.devices.values()) if (d.beats) return rule.afterMinutes * minute;
  return Math.max(rule.homeSilentMinutes * minute, 2 * home.longestQuiet);
}

function lastHeard(home: HomeState): number {
  let last = NONE;
  for (const d of home.devices.values()) if (d.lastSeen > last) last = d.lastSeen;
  return last;
}

/**
 * Whether a device other than `speaker`, with no open finding, is overdue at
 * `at`. The home keeps `silentDueBound`, a time no device's deadline lies
 * before (deadlines only move later as devices report; a limit that shrinks
 * lowers the bound where it shrinks), so a reading before the bound needs
 * no look at the other devices; only one after it scans them, and files the
 * new bound. O(1) per reading, one scan per home per limit's length.
 */
function otherOverdue(rule: DeviceSilentRule, home: HomeState, speaker: string, at: number): boolean {
  if (home.silentBoundRule === rule && at <= home.silentDueBound) return false;
  let overdue = false;
  let bound = Infinity;
  for (const [other, d] of home.devices) {
    if (home.active?.has(keyOf(rule, other))) continue;
    const due = d.lastSeen + deviceLimit(rule, home, d, at);
    // A device still learning is looked at again when its learning days end.
    const look = due === Infinity && at < learnedAt(rule, home) ? learnedAt(rule, home) : due;
    if (look < bound) bound = look;
    if (other !== speaker && due < at) overdue = true;
  }
  home.silentBoundRule = rule;
  home.silentDueBound = bound;
  return overdue;
}

/**
 * The device (and the home) heard from again: clears their findings. Apart from
 * `onReading`, so its closures are allocated only while something is raised.
 */
function clearHeard(rule: DeviceSilentRule, home: HomeState, r: Reading, dev: DeviceState, ctx: RuleContext): boolean {
  const tz = home.rules.zone;
  const back = clear(home, homeKey(rule), ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'operator', {
    message: { en: 'The home is reporting again (device health)', ja: 'ご自宅の機器から通信が再開しました（機器の状態）' },
    expected: { en: 'The home\'s devices report regularly.', ja: 'ご自宅の機器が定期的に通信すること。' },
    observed: { en: `Heard from ${r.device} at ${hhmm(r.at, tz)}.`, ja: `${hhmm(r.at, tz)} に ${r.device} から通信がありました。` },
  }, { device: r.device }));
  const device = clear(home, keyOf(rule, r.device), ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'operator', {
    message: { en: `Sensor ${r.device} is reporting again (device health)`, ja: `センサー ${r.device} の通信が復旧しました（機器の状態）` },
    expected: { en: `Sensor ${r.device} reports within ${duration(deviceLimit(rule, home, dev, r.at)).en} of its last message.`, ja: `センサー ${r.device} が前回から${duration(deviceLimit(rule, home, dev, r.at)).ja}以内に通信すること。` },
    observed: { en: `Heard from ${r.device} at ${hhmm(r.at, tz)}.`, ja: `${hhmm(r.at, tz)} に ${r.device} から通信がありました。` },
  }, { device: r.device }));
  return back || device;
}

export const deviceSilent: RuleDefinition<DeviceSilentRule> = {
  onReading(rule: DeviceSilentRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    // Its heartbeat, messages and quiet spells are already counted (applyReading).
    const k = keysOf(rule, r.device);
    if (home.marks !== undefined && home.marks.has(k.overdue)) setMark(home, k.overdue, undefined, false);
    // This device's limit may have shrunk (first heartbeat, enough messages learned) and its
    // finding may clear below: its deadline can lie before the home's bound.
    const dev = home.devices.get(r.device)!;
    if (home.silentBoundRule === rule) {
      const due = dev.lastSeen + deviceLimit(rule, home, dev, r.at);
      if (due < home.silentDueBound) home.silentDueBound = due;
    }
    // Another device overdue while this one speaks: its finding is due now (the engine's
    // timer may sit up to a recheck later), so ask the engine to plan again.
    const overdue = otherOverdue(rule, home, r.device, r.at);
    if (home.active === undefined) return overdue;
    return clearHeard(rule, home, r, dev, ctx) || overdue;
  },

  onTick(rule: DeviceSilentRule, home: HomeState, ctx: RuleContext): void {
    const tz = home.rules.zone;
    const last = lastHeard(home);
    if (last === NONE) return;
    const limit = homeLimit(rule, home);
    if (ctx.now >= last + limit) {
      raise(home, homeKey(rule), ctx, finding(home, rule, ctx.now, 'raised', 'warning', 'operator', {
        message: { en: `No device in the home has reported for ${duration(ctx.now - last).en}: hub, gateway, power or connection down? (device health)`, ja: `ご自宅のすべての機器から${duration(ctx.now - last).ja}通信がありません：ハブ・ゲートウェイ・電源・回線を確認してください（機器の状態）` },
        expected: { en: `Some device in the home reports within ${duration(limit).en}.`, ja: `ご自宅のいずれかの機器が${duration(limit).ja}以内に通信すること。` },
        observed: { en: `Last message from the home at ${hhmm(last, tz)} (${home.devices.size} devices, all silent).`, ja: `ご自宅からの最後の通信は ${hhmm(last, tz)} です（機器${home.devices.size}台すべて無通信）。` },
      }, { data: { lastSeen: last, afterMinutes: Math.round(limit / minute), devices: home.devices.size } }));
      return;
    }
    // Most of the home's event-only sensors quiet for a day at once is her absence (or a
    // recording's gap), not each of them broken: then none is reported on its own.
    let known = 0, quiet = 0;
    for (const d of home.devices.values()) {
      if (d.beats || d.messages < minMessagesLearned) continue;
      known++;
      if (ctx.now - d.lastSeen >= day) quiet++;
    }
    const absent = quiet >= 2 && 2 * quiet >= known;
    for (const [device, d] of home.devices) {
      const due = d.lastSeen + deviceLimit(rule, home, d, ctx.now);
      // Silent on its own only if the rest of the home has spoken since its deadline,
      // and (event-only) she has lived at home a while since: not while she is away.
      if (ctx.now < due || last <= due || home.active?.has(keyOf(rule, device))) continue;
      if (!d.beats && (absent || !silentWhileLived(rule, home, d, keysOf(rule, device)))) continue;
      raise(home, keyOf(rule, device), ctx, finding(home, rule, ctx.now, 'raised', 'warning', 'operator', {
        message: { en: `Sensor ${device} has not reported for ${duration(ctx.now - d.lastSeen).en} (device health: offline or flat battery?)`, ja: `センサー ${device} から${duration(ctx.now - d.lastSeen).ja}通信がありません（機器の状態：電源・電池・通信を確認してください）` },
        expected: { en: `Sensor ${device} reports within ${duration(due - d.lastSeen).en} of its last message${!d.beats ? ' (twice its longest quiet spell so far: it reports only on change)' : ' (it sends heartbeats)'}.`, ja: `センサー ${device} が前回から${duration(due - d.lastSeen).ja}以内に通信すること${!d.beats ? '（変化時のみ通知する機器：これまでの最長の無通信の2倍）' : '（死活通知あり）'}。` },
        observed: { en: `Last message from ${device} at ${hhmm(d.lastSeen, tz)}; other devices have reported since.`, ja: `${device} からの最後の通信は ${hhmm(d.lastSeen, tz)} です。他の機器からはその後も通信があります。` },
      }, { device, data: { lastSeen: d.lastSeen, afterMinutes: Math.round((due - d.lastSeen) / minute) } }));
    }
  },

  nextDeadline(rule: DeviceSilentRule, home: HomeState, now: number): number {
    const last = lastHeard(home);
    if (last === NONE) return Infinity;
    // The whole home is silent: nothing more to find until something reports (which re-plans).
    if (home.active !== undefined && home.active.has(homeKey(rule))) return Infinity;
    let due = last + homeLimit(rule, home);
    // Keys, then the device: iterating entries builds a pair per device on every re-plan.
    for (const device of home.devices.keys()) {
      if (home.active !== undefined && home.active.has(keyOf(rule, device))) continue;
      const d = home.devices.get(device)!;
      // While learning, look again when the learning days are over.
      const limit = deviceLimit(rule, home, d, now);
      const learned = learnedAt(rule, home);
      const at = limit === Infinity && now < learned ? learned : d.lastSeen + limit;
      // Overdue while the rest of the home is quiet too: look again soon (the home finding may come instead).
      // Overdue and the rest of the home has spoken since: due now (a deadline in the past would never tick),
      // unless it waits for more hours lived at home (then look again at the recheck).
      const waiting = at <= now && last > at && !livedEnough(rule, home, d, keysOf(rule, device));
      due = Math.min(due, at > now ? at : last > at && !waiting ? now : now + recheckMs);
    }
    return due;
  },
};
