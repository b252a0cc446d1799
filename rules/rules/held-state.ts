/**
 * Held states (issue 10): a pressure mat under the bed, a chair or the couch
 * reports "pressed" (motion `occupied: true`) once and "released" once, with
 * nothing in between however long she stays. A pressed mat is a person there,
 * present but still: the no-sign-of-life clock treats it as alive for a
 * bounded time (a night and a late morning in bed, a few hours in a chair),
 * and getting up (the release) is a sign of life.
 *
 * Which devices hold a state: the rule's `heldDevices` (set at provisioning)
 * or a device id naming one (`mat`, `seat`, `chair`, `couch`, `sofa`). A PIR
 * is never held: a PIR stuck on "occupied" must not hide a fall. A held
 * device in the bed (`bed` in its id) is "in bed".
 *
 * State is marks on the home (persisted with it): `held/<device>` = when it
 * was pressed, `held/released` = the latest release.
 */
import type { Reading } from '../../core/events.js';
import { NONE, type HomeState } from '../home-state.js';
import { getMark, setMark } from './routine-marks.js';
import { memoWeak } from '../memo.js';

const heldWords = ['mat', 'seat', 'chair', 'couch', 'sofa'];
const releasedKey = 'held/released';
const heldKey = (device: string) => `held/${device}`;

export interface HeldOptions { heldDevices: readonly string[] }

/**
 * The answers per device id, per rule (its options object is shared by every
 * home running the rule): asked on every motion reading, and lower-casing the
 * id each time made garbage on the hot path. Bits: `heldBit` held, `bedBit` a
 * held device in the bed. Bounded: emptied when full.
 */
const heldByDevice = memoWeak((_: HeldOptions) => new Map<string, number>());
const heldMemoMax = 10_000;
const heldBit = 1, bedBit = 2;

function heldBits(device: string, o: HeldOptions): number {
  const byDevice = heldByDevice(o);
  let bits = byDevice.get(device);
  if (bits === undefined) {
    const l = device.toLowerCase();
    const held = o.heldDevices.includes(device) || heldWords.some((w) => l.includes(w));
    bits = held ? heldBit | (l.includes('bed') ? bedBit : 0) : 0;
    if (byDevice.size >= heldMemoMax) byDevice.clear();
    byDevice.set(device, bits);
  }
  return bits;
}

/** Whether `device` reports a held state (a pressure mat), by configuration or by its name. */
export function isHeldDevice(device: string, o: HeldOptions): boolean {
  return (heldBits(device, o) & heldBit) !== 0;
}

/** Whether `device` is a bed mat: a held device whose id says bed (`inBed`). */
export function isBedMat(device: string, o: HeldOptions): boolean {
  return (heldBits(device, o) & bedBit) !== 0;
}

/** When `device` was pressed, if it is held now. */
export function heldSince(home: HomeState, device: string): number | undefined {
  return getMark(home, heldKey(device));
}

/** Whether a held device (by its id, or the object or room it is in) is in the bed: `bed` in the name. */
export function inBed(device: string): boolean {
  return device.toLowerCase().includes('bed');
}

/** Updates the held marks from a motion reading; true when a held state began or ended. */
export function trackHeld(home: HomeState, r: Reading, o: HeldOptions): boolean {
  if (r.kind !== 'motion' || !isHeldDevice(r.device, o)) return false;
  const since = getMark(home, heldKey(r.device));
  if (r.occupied) {
    if (since === undefined) setMark(home, heldKey(r.device), r.at);
    return since === undefined;
  }
  if (since !== undefined) setMark(home, heldKey(r.device), undefined);
  if ((getMark(home, releasedKey) ?? NONE) < r.at) setMark(home, releasedKey, r.at);
  return true;
}

export interface Held {
  /** The device held longest-bounded, and since when; undefined when nothing is held. */
  device?: string;
  since: number;
  /** Until when the person counts as present (press + the bound), NONE when nothing is held. */
  until: number;
  /** The latest release (getting up): a sign of life. */
  released: number;
}

/**
 * What the held devices say now. `boundMs(inBed, since)` says how long a press
 * that began at `since` counts as a person there (a bed mat pressed at night
 * may hold till a late morning; one pressed in the day is a nap or a fall).
 */
export function heldState(home: HomeState, boundMs: (inBed: boolean, since: number) => number): Held {
  const out: Held = { since: NONE, until: NONE, released: getMark(home, releasedKey) ?? NONE };
  if (home.marks === undefined) return out;
  // Keys only, the value looked up for a held one: iterating entries builds a pair for every mark,
  // and this runs on every re-plan.
  for (const key of home.marks.keys()) {
    if (!key.startsWith('held/') || key === releasedKey) continue;
    const at = home.marks.get(key)!;
    const device = key.slice(5);
    const until = at + boundMs(inBed(device), at);
    if (until > out.until) { out.until = until; out.since = at; out.device = device; }
  }
  return out;
}
