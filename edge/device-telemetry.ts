/**
 * What devices report on their own, whatever the resident does: heartbeats
 * with a slowly draining battery, and the living-room climate sensor's hourly
 * reading that follows the season and the time of day.
 */
import type { HomeHeartbeat } from '../core/events.js';
import { localTime } from '../core/time.js';
import type { HomeProfile } from './home-profile.js';
import { dayOfYear } from './local-days.js';
import type { Random } from './random.js';
import type { RawEvent } from './resident-day.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A device whose battery runs flat: below 10 % from `lowFrom`, silent from `silentFrom`. */
export interface BatteryFailure { lowFrom: number; silentFrom: number }

/** Per-device constants, drawn once per home so they do not change from day to day. */
export interface DeviceTraits { phase: number; battery?: { initial: number; perDay: number }; rssi: number }

/** Draws a device's heartbeat phase, battery and radio strength. */
export function deviceTraits(rng: Random, periodMs: number, hasBattery: boolean): DeviceTraits {
  const traits: DeviceTraits = { phase: rng.int(0, Math.floor(periodMs / 1000) - 1) * 1000, rssi: Math.round(rng.normal(-62, 6)) };
  if (hasBattery) traits.battery = { initial: rng.uniform(55, 100), perDay: rng.uniform(0.05, 0.25) };
  return traits;
}

/** The first heartbeat instant at or after `at` for a device with this phase. */
export function nextHeartbeat(at: number, traits: DeviceTraits, periodMs: number): number {
  return traits.phase + Math.ceil((at - traits.phase) / periodMs) * periodMs;
}

/** Battery level (%, one decimal) at `at`; never below 12 % unless the battery is failing. */
export function batteryAt(at: number, traits: DeviceTraits, simStart: number, failure?: BatteryFailure): number | undefined {
  const b = traits.battery;
  if (!b) return undefined;
  const normal = (t: number) => Math.max(12, b.initial - (b.perDay * (t - simStart)) / DAY);
  let level = normal(at);
  if (failure) {
    const decline = failure.lowFrom - 36 * HOUR;
    if (at >= failure.lowFrom) {
      const span = Math.max(1, failure.silentFrom - failure.lowFrom);
      level = 9.5 - (6.5 * Math.min(1, (at - failure.lowFrom) / span));
    } else if (at >= decline) {
      const from = normal(decline);
      level = from - ((from - 10.5) * (at - decline)) / (36 * HOUR);
    }
  }
  return Math.round(level * 10) / 10;
}

/** Heartbeats of one device in [from, to). */
export function heartbeats(home: string, device: string, traits: DeviceTraits, periodMs: number, from: number, to: number, simStart: number, rng: Random, failure?: BatteryFailure): HomeHeartbeat[] {
  const out: HomeHeartbeat[] = [];
  for (let at = nextHeartbeat(from, traits, periodMs); at < to; at += periodMs) {
    const hb: HomeHeartbeat = { kind: 'heartbeat', home, device, at };
    const battery = batteryAt(at, traits, simStart, failure);
    if (battery !== undefined) hb.battery = battery;
    hb.rssi = Math.round(traits.rssi + rng.normal(0, 2));
    out.push(hb);
  }
  return out;
}

/**
 * Hourly living-room climate in [from, to): a Japanese house is cold in
 * winter (about 13 °C in January) and hot in summer (about 28 °C in July),
 * a little warmer in the afternoon than before dawn.
 */
export function climateReadings(profile: HomeProfile, phase: number, from: number, to: number, rng: Random): RawEvent[] {
  const out: RawEvent[] = [];
  for (let at = phase + Math.ceil((from - phase) / HOUR) * HOUR; at < to; at += HOUR) {
    const local = localTime(at, profile.timezone);
    const season = Math.cos((2 * Math.PI * (dayOfYear(local) - 20)) / 365.25); // 1 in late January, -1 in late July
    const daily = Math.cos((2 * Math.PI * (local.hour + local.minute / 60 - 15)) / 24);
    const celsius = 20.5 - 7.5 * season + 1.5 * daily + rng.normal(0, 0.3);
    const humidity = Math.min(95, Math.max(20, 55 - 15 * season - 5 * daily + rng.normal(0, 2)));
    out.push({ at, device: 'climate-living', body: { kind: 'climate', celsius: Math.round(celsius * 10) / 10, humidity: Math.round(humidity) } });
  }
  return out;
}
