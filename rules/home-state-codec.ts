/**
 * The rule engine's saved state, in two parts per home (store:
 * `home_state_parts`, migration 15), each saved only when it changed:
 *
 * - `home`: what moves with every reading — the home's times, each device's
 *   last seen / battery / watts and device health's tallies (its messages
 *   and longest quiet spell, or that it sends heartbeats), rule marks, open
 *   findings, the watermark, and the learned routine's tallies for today.
 *   Saved by the urgent and progress saves when the home changed. Its few
 *   strings (open findings, what and which device the last sign of life
 *   was) are JSON; every number is packed in one base64 string (`n`), in a
 *   fixed order (`packNumbers`: a varint each, times as their difference
 *   from the home's newest reading, and a check of the bytes) — not
 *   formatted in decimal, which was the largest cost of a save
 *   (docs/bench.md, "Rules speed"), and in half the bytes of a float64 each.
 * - `keys`: the names the `home` part's numbers belong to — device ids and
 *   mark keys, in the order of the numbers. They were half the bytes of
 *   every save and change far less often than the numbers (a device added, a
 *   mark set or dropped), so a save leaves them out when a committed save
 *   wrote the same names and no save since is still under way. Both parts
 *   carry the same check (`c`, a hash of the names), so a `home` part is
 *   never read against names it was not written with.
 * - `routine`: the learned profiles, the trend history and the home's away
 *   context. They change once a day, so they are written only when a day is
 *   committed (or the routine rebuilt, the context set), not with every
 *   progress save.
 *
 * `home` carries `v: 5`, `keys` `v: 3`, `routine` `v: 2`. Older saves still
 * load: a `v: 4` `home` part has a float64 per number, a `v: 3` one also
 * has three numbers per device (device health's tallies were marks then:
 * home-state.ts moves them on load), a `v: 2` one holds its names itself
 * (`d`, `k`), and the format before parts (`v: 1`: one JSON row per home in
 * `home_states`, the routine inside) too.
 * `decodeHomeParts` turns parts into that same v1 shape, so one set of
 * validators (home-state.ts, baseline.ts) checks every save, old or new, and
 * repairs times the same way.
 */
import { z } from 'zod';
import type { HomeStatePart, Store } from '../core/store.js';
import type { RoutineHome } from './baseline-book.js';
import { createBaseline, serializeLearned, type Today } from './baseline.js';
import { NONE, type HomeState } from './home-state.js';

/** Part names in `home_state_parts.part`. */
export const homePart = 'home';
export const keysPart = 'keys';
export const routinePart = 'routine';

/** Number slots of a `home` part, before the per-device and per-mark numbers. */
const Slot = {
  FirstSeen: 0, LastSignOfLife: 1, LastMotion: 2, WaterSince: 3, GasSince: 4, OutSince: 5, AwayUntil: 6,
  NewestAt: 7, Beats: 8, LateArrivalAt: 9, LateSince: 10, DoorClosedAt: 11,
  /** Today's start, NaN when there is no today; today's other fields follow (`todayFields`, in order). */
  TodayStart: 12,
} as const;
/** Today's fields after `start`, in slot order (dayType as 1 = day-care day, flagged as 1 = flagged). */
const todayFields: ReadonlyArray<Exclude<keyof Today, 'start'>> = ['end', 'dayType', 'firstActivity', 'firstKettle', 'bathOpen', 'bathMax', 'nightToilet', 'lastToiletAt', 'nightSlots', 'outings', 'longestOut', 'activeHours', 'outHours', 'signs', 'flagged'];
/** Slots of a `v: 3` part's header; `v: 4` adds device health's home tallies after them. */
const headerSlotsV3 = Slot.TodayStart + 1 + todayFields.length;
const HomeSlot = { LongestQuiet: headerSlotsV3, LivedHours: headerSlotsV3 + 1, LivedHour: headerSlotsV3 + 2 } as const;
const headerSlots = headerSlotsV3 + 3;
/** Numbers per device: lastSeen, battery, watts, then (`v: 4`) messages (NONE: it sends heartbeats) and its longest quiet spell. */
const deviceSlots = 5;
const deviceSlotsV3 = 3;

/** The names a `home` part's numbers belong to, in their order, and their check. */
export interface HomeKeys {
  devices: string[];
  marks: string[];
  check: number;
}

/** One home's encoded `home` part and the names its numbers belong to. */
export interface EncodedHome {
  home: string;
  /** Pass to `keysFor` when the save is made. */
  names: HomeKeys;
}

/** Encodes parts; keeps one growing scratch buffer, so a save builds no per-number garbage. */
export interface HomeStateCodec {
  /** The `home` part of `h` (with today's tallies of its routine record `rh`, if any). */
  encodeHome(h: HomeState, rh: RoutineHome | undefined): EncodedHome;
  /**
   * The `keys` part to write with a `home` part encoded with `names`, in a save about to be
   * made: undefined when a save of `h` that has committed wrote these names, and no save of
   * `h` made since is still under way. Saves must commit in the order they are made (the
   * store's `saveHomeStateParts` does), so nothing can come between.
   */
  keysFor(h: HomeState, names: HomeKeys): string | undefined;
  /** The save of `h` made with `names` committed. */
  saved(h: HomeState, names: HomeKeys): void;
  /** A save of `h` did not commit (failed, refused): its next save writes the `keys` part again. */
  forget(h: HomeState): void;
  /** The `routine` part: learned profiles, trend, context. */
  encodeRoutine(rh: RoutineHome): string;
}

/** FNV-1a over the names and their list boundaries: `keys` and `home` parts that belong together carry the same. */
function namesCheck(devices: readonly string[], marks: readonly string[]): number {
  let x = 0x811c9dc5;
  const mix = (c: number) => { x = Math.imul(x ^ c, 0x01000193); };
  for (const list of [devices, marks]) {
    for (const name of list) {
      for (let i = 0; i < name.length; i++) mix(name.charCodeAt(i));
      mix(0);
    }
    mix(1);
  }
  return x >>> 0;
}

/** Whether `h`'s device ids and mark keys are `names`, in the same order. */
function sameNames(h: HomeState, names: HomeKeys): boolean {
  if (h.devices.size !== names.devices.length || (h.marks?.size ?? 0) !== names.marks.length) return false;
  let i = 0;
  for (const id of h.devices.keys()) if (id !== names.devices[i++]) return false;
  i = 0;
  if (h.marks !== undefined) for (const k of h.marks.keys()) if (k !== names.marks[i++]) return false;
  return true;
}

/** Kinds of a packed number, in the two low bits of its varint. */
const Packed = { Int: 0, FromBase: 1, Double: 2, NaN: 3 } as const;
/** Integers below this size are packed as varints (zigzag × 4 + kind stays a safe integer). */
const maxPackedInt = 2 ** 50;

/**
 * Packs `count` numbers of `nums` into `out` from byte 0 and returns the bytes written: first
 * `base` (a time most of the numbers lie near: the home's newest reading), then each number as
 * one varint of (zigzag(value) × 4 + kind) — an integer itself (`Int`) or as its difference from
 * `base` (`FromBase`), whichever is smaller; NaN as its kind alone; anything else (a fraction,
 * ±Infinity, −0, a huge integer) as kind `Double` and its 8 bytes, little-endian. Exact for every
 * number. Last, a check of the bytes (FNV-1a, 4 bytes): a cut or damaged block is refused, not
 * read as other numbers. `out` must hold 9 bytes per number and 13 more.
 */
export function packNumbers(nums: Float64Array | readonly number[], count: number, base: number, out: Uint8Array, view: DataView): number {
  let p = 0;
  const put = (x: number, kind: number): void => {
    let w = (x >= 0 ? 2 * x : -2 * x - 1) * 4 + kind;
    while (w >= 128) { const low = w % 128; out[p++] = low + 128; w = (w - low) / 128; }
    out[p++] = w;
  };
  const putNumber = (x: number, withBase: boolean): void => {
    if (Number.isNaN(x)) { out[p++] = Packed.NaN; return; }
    if (Number.isInteger(x) && Math.abs(x) < 2 ** 53 && (x !== 0 || 1 / x > 0)) {
      const d = x - base;
      if (withBase && Math.abs(d) < Math.abs(x) && Math.abs(d) < maxPackedInt) { put(d, Packed.FromBase); return; }
      if (Math.abs(x) < maxPackedInt) { put(x, Packed.Int); return; }
    }
    out[p++] = Packed.Double;
    view.setFloat64(p, x, true);
    p += 8;
  };
  const withBase = Number.isSafeInteger(base);
  putNumber(withBase ? base : 0, false);
  for (let i = 0; i < count; i++) putNumber(nums[i]!, withBase);
  view.setUint32(p, bytesCheck(out, p), true);
  return p + 4;
}

/** FNV-1a over the first `length` bytes. */
function bytesCheck(bytes: Uint8Array, length: number): number {
  let x = 0x811c9dc5;
  for (let i = 0; i < length; i++) x = Math.imul(x ^ bytes[i]!, 0x01000193);
  return x >>> 0;
}

/** The numbers `packNumbers` wrote to `bytes`, exactly `count` of them, or what is wrong with the bytes. */
export function unpackNumbers(bytes: Uint8Array, count: number): number[] | string {
  if (bytes.length < 5) return `${bytes.length} bytes: too few for any numbers`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 4;
  const check = view.getUint32(end, true);
  if (check !== bytesCheck(bytes, end)) return `the numbers are damaged (check ${bytesCheck(bytes, end)} where they were written with ${check})`;
  let p = 0;
  const next = (base: number): number | string => {
    let w = 0, scale = 1;
    for (;;) {
      if (p >= end) return 'the numbers end inside a number';
      const b = bytes[p++]!;
      w += (b & 127) * scale;
      if (b < 128) break;
      scale *= 128;
      if (scale >= 2 ** 56) return 'a packed number longer than 8 bytes';
    }
    const kind = w % 4;
    if (kind === Packed.NaN) return w === Packed.NaN ? NaN : 'a NaN with a value';
    if (kind === Packed.Double) {
      if (w !== Packed.Double) return 'a double with a value';
      if (p + 8 > end) return 'the numbers end inside a number';
      const x = view.getFloat64(p, true);
      p += 8;
      return x;
    }
    const u = (w - kind) / 4;
    const v = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    return kind === Packed.FromBase ? base + v : v;
  };
  const base = next(0);
  if (typeof base === 'string') return base;
  const nums: number[] = [];
  for (let i = 0; i < count; i++) {
    const x = next(base);
    if (typeof x === 'string') return `${x} (number ${i + 1} of ${count})`;
    nums.push(x);
  }
  if (p !== end) return `${end - p} bytes after the ${count} numbers`;
  return nums;
}

export function createHomeStateCodec(): HomeStateCodec {
  let nums = new Float64Array(256);
  let out = new Uint8Array(9 * 257 + 4);
  let outView = new DataView(out.buffer);
  /**
   * Per home: the names of the last save made (reused by the next encode while they stay the
   * same, so an unchanged home keeps one names object), and those of the last save known to
   * have committed while it was the last made.
   */
  const made = new WeakMap<HomeState, HomeKeys>();
  const committed = new WeakMap<HomeState, HomeKeys>();
  return {
    encodeHome(h, rh) {
      let names = made.get(h);
      if (names === undefined || !sameNames(h, names)) {
        const devices = [...h.devices.keys()];
        const marks = h.marks === undefined ? [] : [...h.marks.keys()];
        names = { devices, marks, check: namesCheck(devices, marks) };
      }
      const slots = headerSlots + deviceSlots * names.devices.length + names.marks.length;
      if (nums.length < slots) {
        nums = new Float64Array(2 * slots);
        out = new Uint8Array(9 * (2 * slots + 1) + 4);
        outView = new DataView(out.buffer);
      }
      const v = nums;
      v[Slot.FirstSeen] = h.firstSeen; v[Slot.LastSignOfLife] = h.lastSignOfLife; v[Slot.LastMotion] = h.lastMotion;
      v[Slot.WaterSince] = h.waterSince; v[Slot.GasSince] = h.gasSince; v[Slot.OutSince] = h.outSince; v[Slot.AwayUntil] = h.awayUntil;
      v[Slot.NewestAt] = h.newestAt; v[Slot.Beats] = h.beats ? 1 : 0; v[Slot.LateArrivalAt] = h.lateArrivalAt; v[Slot.LateSince] = h.lateSince;
      v[Slot.DoorClosedAt] = rh === undefined ? -1 : rh.baseline.doorClosedAt;
      v[HomeSlot.LongestQuiet] = h.longestQuiet; v[HomeSlot.LivedHours] = h.livedHours; v[HomeSlot.LivedHour] = h.livedHour;
      const t = rh?.baseline.today;
      if (t === undefined) for (let i = 0; i <= todayFields.length; i++) v[Slot.TodayStart + i] = i === 0 ? NaN : 0;
      else {
        v[Slot.TodayStart] = t.start;
        for (let i = 0; i < todayFields.length; i++) {
          const f = todayFields[i]!;
          v[Slot.TodayStart + 1 + i] = f === 'dayType' ? (t.dayType === 'dayCare' ? 1 : 0) : f === 'flagged' ? (t.flagged ? 1 : 0) : t[f] as number;
        }
      }
      let i = headerSlots;
      for (const d of h.devices.values()) { v[i++] = d.lastSeen; v[i++] = d.battery; v[i++] = d.watts; v[i++] = d.beats ? NONE : d.messages; v[i++] = d.quiet; }
      if (h.marks !== undefined) for (const m of h.marks.values()) v[i++] = m;
      let active = '[]';
      if (h.active !== undefined && h.active.size > 0) active = JSON.stringify([...h.active]);
      const length = packNumbers(v, slots, h.newestAt, out, outView);
      const n = Buffer.from(out.buffer, 0, length).toString('base64');
      // The JSON of { v, c, a, s, n } built by hand: a general JSON.stringify of it was half the
      // encoding's time. `n` is base64 and `c` a number, so neither needs escaping.
      const sign = `[${JSON.stringify(h.lastSignKind)},${JSON.stringify(h.lastSignDevice)}]`;
      return { home: `{"v":5,"c":${names.check},"a":${active},"s":${sign},"n":"${n}"}`, names };
    },
    keysFor(h, names) {
      const under = made.get(h);
      made.set(h, names);
      if (committed.get(h) === names && under === names) return undefined;
      return JSON.stringify({ v: 3, c: names.check, d: names.devices, k: names.marks });
    },
    saved(h, names) { if (made.get(h) === names) committed.set(h, names); },
    forget(h) { committed.delete(h); },
    encodeRoutine(rh) {
      return JSON.stringify({ v: 2, ...serializeLearned(rh.baseline), context: rh.context });
    },
  };
}

/**
 * A `home` part: `v: 4` (device health's tallies in the device and home numbers) or `v: 3`
 * (they were marks) with its names in the `keys` part, or `v: 2` (before the split) with them inside.
 */
const homePartSchema = z.discriminatedUnion('v', [
  z.object({
    v: z.union([z.literal(5), z.literal(4), z.literal(3)]),
    c: z.number(),
    a: z.array(z.tuple([z.string(), z.string()])),
    s: z.tuple([z.string(), z.string()]),
    n: z.string(),
  }),
  z.object({
    v: z.literal(2),
    d: z.array(z.string()),
    k: z.array(z.string()),
    a: z.array(z.tuple([z.string(), z.string()])),
    s: z.tuple([z.string(), z.string()]),
    n: z.string(),
  }),
]);
const keysPartSchema = z.object({ v: z.literal(3), c: z.number(), d: z.array(z.string()), k: z.array(z.string()) });
const routinePartSchema = z.looseObject({ v: z.literal(2), days: z.unknown(), profiles: z.unknown(), trend: z.unknown(), context: z.unknown() });

function parseJson(text: string): unknown {
  try { return JSON.parse(text) as unknown; } catch { return undefined; }
}
const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
const nullIfNaN = (x: number): number | null => (Number.isNaN(x) ? null : x);

/**
 * Turns one home's saved parts (part name → text) into the v1 form
 * (home-state.ts `PersistedHomeState` with `routine: { baseline, context }`),
 * or an error message when a part is unreadable. Validation of the values
 * themselves is left to the v1 validators, as for an old save.
 */
export function decodeHomeParts(parts: ReadonlyMap<string, string>): unknown {
  const homeText = parts.get(homePart);
  if (homeText === undefined) return `no '${homePart}' part (parts: ${[...parts.keys()].join(', ')})`;
  const p = homePartSchema.safeParse(parseJson(homeText));
  if (!p.success) return `${homePart}: ${issues(p.error)}`;
  const { a: active, s: [lastSignKind, lastSignDevice], n } = p.data;
  let devices: string[], markKeys: string[];
  if (p.data.v === 2) ({ d: devices, k: markKeys } = p.data);
  else {
    const keysText = parts.get(keysPart);
    if (keysText === undefined) return `no '${keysPart}' part for the '${homePart}' part`;
    const k = keysPartSchema.safeParse(parseJson(keysText));
    if (!k.success) return `${keysPart}: ${issues(k.error)}`;
    if (k.data.c !== p.data.c) return `${keysPart}: check ${k.data.c} where the '${homePart}' part was written with ${p.data.c}`;
    ({ d: devices, k: markKeys } = k.data);
  }
  const bytes = Buffer.from(n, 'base64');
  const v4 = p.data.v >= 4;
  const header = v4 ? headerSlots : headerSlotsV3;
  const perDevice = v4 ? deviceSlots : deviceSlotsV3;
  const slots = header + perDevice * devices.length + markKeys.length;
  let at: (i: number) => number;
  if (p.data.v === 5) {
    const nums = unpackNumbers(bytes, slots);
    if (typeof nums === 'string') return `${homePart}: ${nums}, reading ${devices.length} devices and ${markKeys.length} marks`;
    at = (i) => nums[i]!;
  } else {
    if (bytes.length !== 8 * slots) return `${homePart}: ${bytes.length} bytes of numbers where ${devices.length} devices and ${markKeys.length} marks need ${8 * slots}`;
    at = (i) => bytes.readDoubleLE(8 * i);
  }
  const device = (j: number): number[] => Array.from({ length: perDevice }, (_, x) => at(header + perDevice * j + x));
  const state: Record<string, unknown> = {
    v: 1, firstSeen: at(Slot.FirstSeen), lastSignOfLife: at(Slot.LastSignOfLife), lastSignKind, lastSignDevice, lastMotion: at(Slot.LastMotion),
    waterSince: at(Slot.WaterSince), gasSince: at(Slot.GasSince), outSince: at(Slot.OutSince), awayUntil: at(Slot.AwayUntil),
    newestAt: at(Slot.NewestAt), beats: at(Slot.Beats) === 1, lateArrivalAt: at(Slot.LateArrivalAt), lateSince: at(Slot.LateSince),
    devices: Object.fromEntries(devices.map((id, j) => [id, device(j)])),
    marks: Object.fromEntries(markKeys.map((key, j) => [key, at(header + perDevice * devices.length + j)])),
    active: Object.fromEntries(active),
  };
  if (v4) Object.assign(state, { longestQuiet: at(HomeSlot.LongestQuiet), livedHours: at(HomeSlot.LivedHours), livedHour: at(HomeSlot.LivedHour) });
  const doorClosedAt = at(Slot.DoorClosedAt);
  let today: Record<string, unknown> | null = null;
  if (!Number.isNaN(at(Slot.TodayStart))) {
    today = { start: at(Slot.TodayStart) };
    todayFields.forEach((f, i) => { today![f] = at(Slot.TodayStart + 1 + i); });
    today.dayType = today.dayType === 1 ? 'dayCare' : 'other';
    today.flagged = today.flagged === 1;
    today.firstActivity = nullIfNaN(today.firstActivity as number);
    today.firstKettle = nullIfNaN(today.firstKettle as number);
  }
  const routineText = parts.get(routinePart);
  if (routineText !== undefined) {
    const r = routinePartSchema.safeParse(parseJson(routineText));
    if (!r.success) return `${routinePart}: ${issues(r.error)}`;
    const { days, profiles, trend, context } = r.data;
    state.routine = { baseline: { v: 1, days, profiles, trend, today, doorClosedAt }, context };
  } else if (today !== null || doorClosedAt >= 0) {
    // Nothing learned was ever saved (no day committed yet): today's tallies on an empty routine.
    state.routine = { baseline: { v: 1, ...serializeLearned(createBaseline()), today, doorClosedAt } };
  }
  return state;
}

/**
 * Every saved home state in the v1 form (`decodeHomeParts`), from the parts
 * and, for homes without parts, from the old whole-state rows; `whole` names
 * the homes read from old rows (the engine drops those rows once it has
 * written the home's parts). A home's unreadable parts map to an error message.
 * With `homeId`, only that home's rows are read.
 */
export async function readSavedHomeStates(store: Pick<Store, 'loadHomeStateParts' | 'loadHomeStates'>, homeId?: string): Promise<{ states: Map<string, unknown>; whole: Set<string> }> {
  const byHome = new Map<string, Map<string, string>>();
  for (const p of await store.loadHomeStateParts(homeId) as HomeStatePart[]) {
    let m = byHome.get(p.homeId);
    if (m === undefined) { m = new Map(); byHome.set(p.homeId, m); }
    m.set(p.part, p.data);
  }
  const states = new Map<string, unknown>();
  for (const [id, parts] of byHome) states.set(id, decodeHomeParts(parts));
  const whole = new Set<string>();
  for (const [id, state] of await store.loadHomeStates(homeId)) {
    if (states.has(id)) continue; // parts are newer (written in the transaction that drops the row; a leftover is stale)
    states.set(id, state);
    whole.add(id);
  }
  return { states, whole };
}
