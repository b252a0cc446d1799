/**
 * Incidents injected into simulated days, and the ground truth written for
 * them, so the rule engine and the demo can be checked against what really
 * "happened".
 */
import { MimamoriError } from '../core/errors.js';
import { formatClockTime, localTime, toLocalIso } from '../core/time.js';
import { nextHeartbeat, type BatteryFailure, type DeviceTraits } from './device-telemetry.js';
import { homeDevices, type HomeProfile } from './home-profile.js';
import { addDays, localToEpoch, type LocalDate } from './local-days.js';
import type { Random } from './random.js';
import type { DayIncident } from './resident-day.js';

const MIN = 60_000;

/** The types `incidents: 'default'` places, one of each (unchanged, so older seeds give the same street). */
export const defaultIncidentTypes = ['fall-in-bath', 'no-sign-of-life', 'night-wandering', 'help-button', 'sensor-silent', 'battery-flat'] as const;
/** Every type an explicit spec may ask for: the defaults plus collapses right after coming home or after a visitor leaves. */
export const incidentTypes = [...defaultIncidentTypes, 'collapse-after-arrival', 'collapse-after-visitor'] as const;
export type IncidentType = (typeof incidentTypes)[number];

/** Ground truth: what was injected, where and when. */
export interface Incident {
  home: string;
  type: IncidentType;
  /** RFC 3339 with the home's offset. */
  start: string;
  /** When the situation was over (water turned off, resident back home…); absent if it lasts to the end of the run. */
  end?: string;
  device?: string;
  /** For sensor-silent and battery-flat: from when the device sends nothing at all. */
  silentFrom?: string;
  severity: 'warning' | 'critical';
  /** What happened, in Japanese and English. */
  note: string;
}

/**
 * An incident to inject at a given time. `durationMinutes` is how long the
 * water runs (fall-in-bath), the resident stays out (night-wandering), the
 * battery lasts below 10 % before going silent (battery-flat), she was out
 * before coming home at `at` (collapse-after-arrival) or the visitor who
 * comes at `at` stays (collapse-after-visitor). `delayMinutes` is how long
 * after the front door's last event (her own closing it, or the visitor's)
 * she collapses.
 */
export interface IncidentSpec { home: string; type: IncidentType; at: string; device?: string; durationMinutes?: number; delayMinutes?: number }

/** Everything the renderer needs to know about incidents, keyed for quick lookup. */
export interface IncidentPlan {
  incidents: Incident[];
  /** `${home}|${windowStart}` → incidents that reshape that day. */
  byDay: Map<string, DayIncident[]>;
  /** `${home}/${device}` → epoch ms from which the device sends nothing. */
  silentFrom: Map<string, number>;
  batteryFailures: Map<string, BatteryFailure>;
}

export interface IncidentContext {
  profiles: readonly HomeProfile[];
  start: number;
  end: number;
  days: number;
  heartbeatMs: number;
  rng: Random;
  traits: (home: string, device: string) => DeviceTraits;
  /** The local date on which `home`'s first simulated day starts. */
  firstDate: (home: string) => LocalDate;
  /** Start of the 04:00 → 04:00 window containing `at`. */
  windowStartFor: (home: string, at: number) => number;
}

const severity: Record<IncidentType, Incident['severity']> = {
  'fall-in-bath': 'critical', 'no-sign-of-life': 'critical', 'night-wandering': 'critical', 'help-button': 'critical', 'sensor-silent': 'warning', 'battery-flat': 'warning',
  'collapse-after-arrival': 'critical', 'collapse-after-visitor': 'critical',
};

/** Devices that can fall silent without hiding another incident's signals in the same home. */
const silenceCandidates = ['climate-living', 'motion-kitchen', 'gas-meter', 'motion-bedroom', 'kettle', 'water-meter'] as const;
const usedBy: Partial<Record<IncidentType, string[]>> = { 'fall-in-bath': ['water-meter', 'motion-bath'], 'night-wandering': ['front-door'], 'help-button': ['help-button'] };

/** Where one default incident goes: local minute of the chosen day, and how long it must fit before the run ends. */
const defaultTiming: Record<(typeof defaultIncidentTypes)[number], { from: number; to: number; needMinutes: number }> = {
  'fall-in-bath': { from: 19 * 60, to: 21 * 60, needMinutes: 150 },
  'no-sign-of-life': { from: 7 * 60 + 30, to: 9 * 60 + 30, needMinutes: 8 * 60 },
  'night-wandering': { from: 25 * 60 + 50, to: 26 * 60 + 15, needMinutes: 90 },
  'help-button': { from: 10 * 60, to: 17 * 60, needMinutes: 15 },
  'sensor-silent': { from: 6 * 60, to: 22 * 60, needMinutes: 60 },
  'battery-flat': { from: 7 * 60, to: 19 * 60, needMinutes: 9 * 60 },
};

/** One incident of each type at seeded random homes, days and times. */
export function defaultIncidentSpecs(ctx: IncidentContext): IncidentSpec[] {
  const rng = ctx.rng.fork('default-incidents');
  const order = rng.shuffle(ctx.profiles.map((_, i) => i));
  const usedDays = new Set<string>();
  const specs: IncidentSpec[] = [];
  defaultIncidentTypes.forEach((type, i) => {
    const profile = ctx.profiles[order[i % order.length] as number] as HomeProfile;
    const timing = defaultTiming[type];
    for (let attempt = 0; attempt < 40; attempt++) {
      const day = rng.int(0, Math.max(0, ctx.days - 1));
      if (usedDays.has(`${profile.home}|${day}`) && attempt < 30) continue;
      const minute = Math.round(rng.uniform(timing.from, timing.to));
      const at = localToEpoch(addDays(ctx.firstDate(profile.home), day), minute, profile.timezone);
      if (at < ctx.start || at + timing.needMinutes * MIN > ctx.end) continue;
      usedDays.add(`${profile.home}|${day}`);
      const spec: IncidentSpec = { home: profile.home, type, at: toLocalIso(at, profile.timezone) };
      if (type === 'sensor-silent' || type === 'battery-flat') {
        const taken = new Set([...specs.filter((s) => s.home === profile.home).flatMap((s) => [...(usedBy[s.type] ?? []), s.device ?? ''])]);
        const candidates = silenceCandidates.filter((d) => !taken.has(d) && (type === 'sensor-silent' || homeDevices.find((h) => h.device === d)?.battery));
        spec.device = rng.pick(candidates.length > 0 ? candidates : ['climate-living']);
      }
      if (type === 'battery-flat') spec.durationMinutes = Math.round(rng.uniform(180, 480));
      if (type === 'fall-in-bath') spec.durationMinutes = Math.round(rng.uniform(150, 300));
      if (type === 'night-wandering') spec.durationMinutes = Math.round(rng.uniform(45, 80));
      specs.push(spec);
      return;
    }
  });
  return specs;
}

/** Validates specs and turns them into the plan the renderer follows plus the ground truth. */
export function planIncidents(specs: readonly IncidentSpec[], ctx: IncidentContext): IncidentPlan {
  const plan: IncidentPlan = { incidents: [], byDay: new Map(), silentFrom: new Map(), batteryFailures: new Map() };
  const rng = ctx.rng.fork('incident-durations');
  for (const spec of specs) {
    const profile = ctx.profiles.find((p) => p.home === spec.home);
    if (!profile) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `incident for unknown home ${JSON.stringify(spec.home)}`);
    const at = Math.round(Date.parse(spec.at) / 1000) * 1000;
    if (!Number.isFinite(at)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `incident time ${JSON.stringify(spec.at)} is not RFC 3339`);
    const tz = profile.timezone;
    const iso = (t: number) => toLocalIso(t, tz);
    const hhmm = (t: number) => formatClockTime(localTime(t, tz).minuteOfDay);
    const addDay = (d: Exclude<DayIncident, { type: 'absent' }>) => {
      const key = `${spec.home}|${ctx.windowStartFor(spec.home, 'at' in d ? d.at : d.back)}`;
      plan.byDay.set(key, [...(plan.byDay.get(key) ?? []), d]);
    };
    const base = { home: spec.home, type: spec.type, severity: severity[spec.type] };
    switch (spec.type) {
      case 'fall-in-bath': {
        const minutes = spec.durationMinutes ?? Math.round(rng.uniform(150, 300));
        if (minutes < 90) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'fall-in-bath needs the water to run for at least 90 minutes');
        const end = at + minutes * MIN;
        addDay({ type: 'fall-in-bath', at, end });
        plan.incidents.push({ ...base, start: iso(at), end: iso(end), device: 'water-meter', note: `浴室で転倒の疑い: ${hhmm(at)} から ${minutes} 分間水が出続け、入浴後の動きなし / Possible fall in the bath: water running from ${hhmm(at)} for ${minutes} min, no movement after going in` });
        break;
      }
      case 'no-sign-of-life': {
        const end = ctx.windowStartFor(spec.home, at) + 24 * 60 * MIN;
        addDay({ type: 'no-sign-of-life', at });
        plan.incidents.push({ ...base, start: iso(at), end: iso(end), note: `生活反応なし: ${hhmm(at)} 以降は死活通知と室温のみ / No sign of life after ${hhmm(at)}: only heartbeats and room climate` });
        break;
      }
      case 'night-wandering': {
        const minutes = spec.durationMinutes ?? Math.round(rng.uniform(45, 80));
        if (minutes < 40) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'night-wandering needs the resident out for at least 40 minutes');
        const end = at + minutes * MIN;
        addDay({ type: 'night-wandering', at, end });
        plan.incidents.push({ ...base, start: iso(at), end: iso(end), device: 'front-door', note: `夜間の外出: ${hhmm(at)} に玄関が開き ${minutes} 分間戻らず / Night wandering: front door opened at ${hhmm(at)}, back after ${minutes} min` });
        break;
      }
      case 'collapse-after-arrival': {
        const out = spec.durationMinutes ?? Math.round(rng.uniform(60, 150));
        const delay = spec.delayMinutes ?? rng.int(0, 3);
        const leave = at - out * MIN;
        if (out < 20) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'collapse-after-arrival needs the resident out for at least 20 minutes');
        if (ctx.windowStartFor(spec.home, leave) !== ctx.windowStartFor(spec.home, at)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'collapse-after-arrival: the outing must start and end on the same resident day (04:00–04:00)');
        // The door opens at `at` and closes 30 s later: that is the last door event.
        const collapse = at + 30_000 + Math.round(delay * MIN);
        addDay({ type: 'collapse-after-arrival', leave, back: at, collapse });
        plan.incidents.push({ ...base, start: iso(collapse), end: iso(ctx.windowStartFor(spec.home, at) + 24 * 60 * MIN), device: 'front-door', note: `帰宅直後に倒れた疑い: ${out} 分の外出から ${hhmm(at)} に帰宅、玄関が閉まって ${delay} 分後から生活反応なし / Collapse right after coming home: back at ${hhmm(at)} from ${out} min out, no sign of life from ${delay} min after the front door closed` });
        break;
      }
      case 'collapse-after-visitor': {
        const minutes = spec.durationMinutes ?? Math.round(rng.uniform(30, 90));
        const delay = spec.delayMinutes ?? rng.int(0, 10);
        if (minutes < 10) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'collapse-after-visitor needs the visitor to stay at least 10 minutes');
        const end = at + minutes * MIN;
        if (ctx.windowStartFor(spec.home, end) !== ctx.windowStartFor(spec.home, at)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'collapse-after-visitor: the visit must start and end on the same resident day (04:00–04:00)');
        // The visitor opens the door a minute before `end` and it closes 30 s later: that is the last door event.
        const collapse = end - 30_000 + Math.round(delay * MIN);
        addDay({ type: 'collapse-after-visitor', at, end, collapse });
        plan.incidents.push({ ...base, start: iso(collapse), end: iso(ctx.windowStartFor(spec.home, at) + 24 * 60 * MIN), device: 'front-door', note: `来客の帰った後に倒れた疑い: ${hhmm(at)} から ${minutes} 分の来客、玄関が閉まって ${delay} 分後から生活反応なし / Collapse right after a visitor left: visit from ${hhmm(at)} for ${minutes} min, no sign of life from ${delay} min after the front door closed` });
        break;
      }
      case 'help-button':
        addDay({ type: 'help-button', at });
        plan.incidents.push({ ...base, start: iso(at), device: 'help-button', note: `緊急ボタン: ${hhmm(at)} に押された / Help button pressed at ${hhmm(at)}` });
        break;
      case 'sensor-silent': {
        const device = checkDevice(spec, false);
        plan.silentFrom.set(`${spec.home}/${device}`, at);
        plan.incidents.push({ ...base, start: iso(at), device, silentFrom: iso(at), note: `センサー無通信: ${device} が ${hhmm(at)} から何も送らない / Sensor silent: ${device} sends nothing from ${hhmm(at)}` });
        break;
      }
      case 'battery-flat': {
        const device = checkDevice(spec, true);
        const minutes = spec.durationMinutes ?? Math.round(rng.uniform(180, 480));
        const lowFrom = nextHeartbeat(at, ctx.traits(spec.home, device), ctx.heartbeatMs);
        const silentFrom = Math.max(lowFrom + 1000, at + minutes * MIN);
        plan.batteryFailures.set(`${spec.home}/${device}`, { lowFrom, silentFrom });
        plan.silentFrom.set(`${spec.home}/${device}`, silentFrom);
        plan.incidents.push({ ...base, start: iso(lowFrom), device, silentFrom: iso(silentFrom), note: `電池切れ: ${device} の電池が ${hhmm(lowFrom)} に 10% 未満、${hhmm(silentFrom)} から無通信 / Battery flat: ${device} below 10 % at ${hhmm(lowFrom)}, silent from ${hhmm(silentFrom)}` });
        break;
      }
      default: {
        const never: never = spec.type;
        throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `unknown incident type ${JSON.stringify(never)}`);
      }
    }
  }
  plan.incidents.sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.home.localeCompare(b.home));
  return plan;
}

function checkDevice(spec: IncidentSpec, needsBattery: boolean): string {
  const device = spec.device ?? 'climate-living';
  const known = homeDevices.find((d) => d.device === device);
  if (!known) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `${spec.type}: unknown device ${JSON.stringify(device)}`);
  if (needsBattery && !known.battery) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `${spec.type}: ${device} is mains-powered`);
  return device;
}
