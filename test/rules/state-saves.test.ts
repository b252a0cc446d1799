// Rule-state saves in parts (issue 12): the hot `home` part on every save, the learned
// `routine` part only when a day is committed; old whole-state rows still load.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import type { Reading } from '../../core/events.js';
import type { Finding, Severity } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore, type HomeStatePart, type Store } from '../../core/store.js';
import { createRoutineBook } from '../../rules/baseline-book.js';
import { createRuleEngine } from '../../rules/engine.js';
import { applyReading, createHomeState, restoreHomeState, serializeHomeState, type HomeRules } from '../../rules/home-state.js';
import { deviceSilentRule, noSignOfLifeRule } from '../../rules/rule-config.js';
import { createHomeStateCodec, decodeHomeParts, packNumbers, readSavedHomeStates, unpackNumbers } from '../../rules/home-state-codec.js';
import { ZoneClock } from '../../rules/rules/rule.js';
import { at, door, heartbeat, kettle, MIN, motion } from './helpers.js';

function tempFile(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-state-saves-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'hub.sqlite');
}

/** Records every parts save: when, and which (home, part) pairs. */
function recordSaves(store: Store): Array<{ at: number; parts: string[]; done: Promise<unknown> }> {
  const calls: Array<{ at: number; parts: string[]; done: Promise<unknown> }> = [];
  const save = store.saveHomeStateParts.bind(store);
  store.saveHomeStateParts = (parts, when, drop) => {
    const done = save(parts, when, drop);
    calls.push({ at: when, parts: parts.map((p) => `${p.homeId}:${p.part}`), done });
    return done;
  };
  return calls;
}

/** The default rules on an in-memory store whose saves are recorded; `step` moves the clock, then ingests `r`. */
async function savingEngine(t: Test, start: number) {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const calls = recordSaves(store);
  const clock = new VirtualClock(start);
  const engine = await createRuleEngine({ clock, logger: silentLogger(), store, watermark: false });
  const step = (to: number, r?: Reading) => { clock.advanceTo(to); if (r) engine.ingest(r); };
  return { store, calls, engine, step };
}

/** A lived day in `home`: movement every 10 minutes 06:00–22:00, the kettle at 07:00 and 12:00. */
function livedDay(day: number, home: string): Reading[] {
  const out: Reading[] = [];
  for (let m = 6 * 60; m <= 22 * 60; m += 10) {
    const hhmm = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    out.push(motion(at(hhmm, day), 'motion-living', home));
    if (m === 7 * 60 || m === 12 * 60) out.push(kettle(at(hhmm, day), 'on', 'kettle', home));
  }
  return out;
}

t.test('store: parts are upserted per (home, part) and the old whole row is dropped in the same save', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.saveHomeStates([{ homeId: 'h1', state: { v: 1 } }, { homeId: 'h2', state: { v: 1 } }], 1);
  await store.saveHomeStateParts([{ homeId: 'h1', part: 'home', data: 'a' }, { homeId: 'h1', part: 'routine', data: 'r' }], 2, ['h1']);
  await store.saveHomeStateParts([{ homeId: 'h1', part: 'home', data: 'b' }], 3);
  t.same(await store.loadHomeStateParts(), [{ homeId: 'h1', part: 'home', data: 'b' }, { homeId: 'h1', part: 'routine', data: 'r' }] satisfies HomeStatePart[]);
  t.same([...(await store.loadHomeStates()).keys()], ['h2'], 'h1\'s whole row dropped, h2\'s kept');
});

t.test('a home part and a routine part decode to exactly what the old format saved', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const rules: HomeRules = { timezone: 'Asia/Tokyo', zone, rules: [], defs: [], powerChangeWatts: 30 };
  const book = createRoutineBook({ learningDays: 2 });
  const h = createHomeState('h1', rules, at('05:00'));
  book.setContext('h1', { periods: [{ from: at('09:00', 5), to: at('15:00', 5), reason: 'day-care' }], dayCareDays: [3] });
  for (let d = 0; d < 3; d++) {
    for (const r of [...livedDay(d, 'h1'), heartbeat(at('12:30', d), 'climate', 77)].sort((x, y) => x.at - y.at)) {
      book.observe(h, r, (applyReading(h, r) & 1) !== 0);
    }
  }
  // Today open with an outing under way (front door closed, nothing inside since) and no kettle yet.
  const early = [motion(at('06:00', 3)), door(at('06:30', 3), true), door(at('06:31', 3), false)];
  for (const r of early) book.observe(h, r, (applyReading(h, r) & 1) !== 0);
  h.marks = new Map([['device-silent/seen/kettle', at('12:00', 2)], ['device-silent/messages/kettle', 20], ['night-door', at('02:00', 2)]]);
  h.active = new Map<string, Severity>([['device-silent/climate', 'warning'], ['no-sign-of-life', 'critical']]);
  h.awayUntil = at('18:00', 3);
  const rh = book.get('h1');
  t.equal(rh.baseline.days, 3, 'three days learned');
  t.ok(rh.baseline.doorClosedAt > 0 && Number.isNaN(rh.baseline.today!.firstKettle), 'an outing open, no kettle yet today');

  const codec = createHomeStateCodec();
  const first = codec.encodeHome(h, rh);
  const firstKeys = codec.keysFor(h, first.names)!;
  t.ok(firstKeys, 'nothing saved yet: the keys part is written');
  t.ok(codec.keysFor(h, first.names), 'nor while that save is under way');
  codec.saved(h, first.names);
  const decoded = decodeHomeParts(new Map([['home', first.home], ['keys', firstKeys], ['routine', codec.encodeRoutine(rh)]]));
  t.same(decoded, { ...serializeHomeState(h), routine: JSON.parse(JSON.stringify(book.serialize('h1'))) as unknown }, 'same v1 form, field for field');
  t.match(decodeHomeParts(new Map([['home', first.home.replace(/"n":"[^"]{8}/, '"n":"')], ['keys', firstKeys]])), /home: the numbers are damaged \(check \d+ where they were written with \d+\), reading 4 devices and 3 marks/, 'a truncated number block is refused with the reason');
  t.match(decodeHomeParts(new Map([['home', first.home]])), /no 'keys' part for the 'home' part/, 'a home part without its names is refused');
  // Every change to the names shows in the next save's keys part; a save whose names did not change
  // writes none, and its home part reads against the keys part saved before.
  let stored = firstKeys;
  const steps: Array<[string, () => void, boolean]> = [
    ['numbers only', () => { h.marks!.set('night-door', at('03:00', 2)); h.devices.get('climate')!.battery = 60; }, false],
    ['a mark added', () => { h.marks!.set('device-silent/quiet/kettle', 3_600_000); }, true],
    ['a mark dropped and another of the same count added', () => { h.marks!.delete('night-door'); h.marks!.set('outing/warned', at('06:31', 3)); }, true],
    ['a mark dropped and set again (moves to the end)', () => { h.marks!.delete('device-silent/seen/kettle'); h.marks!.set('device-silent/seen/kettle', at('12:10', 2)); }, true],
    ['numbers only, again', () => { h.marks!.set('outing/warned', at('06:32', 3)); }, false],
    ['a device added', () => { applyReading(h, motion(at('06:40', 3), 'motion-hall')); }, true],
    ['every mark dropped', () => { h.marks = undefined; }, true],
    ['marks again, in a new map with equal keys', () => { h.marks = new Map([['night-door', 1], ['outing/warned', 2]]); }, true],
    ['a new map with the same keys in the same order', () => { h.marks = new Map([['night-door', 3], ['outing/warned', 4]]); }, false],
  ];
  for (const [what, change, renamed] of steps) {
    change();
    const e = codec.encodeHome(h, rh);
    const keys = codec.keysFor(h, e.names);
    t.equal(keys !== undefined, renamed, `${what}: ${renamed ? 'a keys part' : 'no keys part'}`);
    if (keys !== undefined) {
      const o = JSON.parse(keys) as { d: string[]; k: string[] };
      t.same([o.d, o.k], [[...h.devices.keys()], [...(h.marks?.keys() ?? [])]], `${what}: the keys part names the devices and marks as they are now`);
      t.match(decodeHomeParts(new Map([['home', e.home], ['keys', stored]])), /keys: check \d+ where the 'home' part was written with \d+/, `${what}: the home part is not read against the names before`);
      stored = keys;
    }
    codec.saved(h, e.names);
    t.same(decodeHomeParts(new Map([['home', e.home], ['keys', stored], ['routine', codec.encodeRoutine(rh)]])), { ...serializeHomeState(h), routine: JSON.parse(JSON.stringify(book.serialize('h1'))) as unknown }, `${what}: decodes to the state as it is now`);
  }
  // A save that did not commit: the next one writes the names again, though they did not change.
  codec.forget(h);
  t.ok(codec.keysFor(h, codec.encodeHome(h, rh).names), 'after a failed save the keys part is written again');
  // Names changed, and changed back while the save with the new ones is under way: the next save writes them
  // (were it to leave them out, the save under way would leave the other names in the store).
  codec.saved(h, codec.encodeHome(h, rh).names);
  h.marks!.set('presence/door', at('06:45', 3));
  const changed = codec.encodeHome(h, rh);
  t.ok(codec.keysFor(h, changed.names), 'a mark set: the keys part is written');
  h.marks!.delete('presence/door');
  const back = codec.encodeHome(h, rh);
  t.ok(codec.keysFor(h, back.names), 'the mark dropped while that save is under way: written again');
  codec.saved(h, changed.names);
  codec.saved(h, back.names);
  t.equal(codec.keysFor(h, codec.encodeHome(h, rh).names), undefined, 'both committed, names as the last: left out');
  // Home parts saved before the numbers were packed (v: 4, each number 8 bytes), before device
  // health's tallies moved into the records (v: 3) and before the split (v: 2, names inside):
  // built from this save's numbers.
  const v5 = JSON.parse(codec.encodeHome(h, rh).home) as { v: number; c: number; a: unknown; s: unknown; n: string };
  t.equal(v5.v, 5, 'saved with packed numbers');
  const header = 28, devices = h.devices.size, marks = h.marks?.size ?? 0;
  const nums = unpackNumbers(Buffer.from(v5.n, 'base64'), header + 3 + 5 * devices + marks);
  if (typeof nums === 'string') { t.fail(nums); return; }
  const doubles = (xs: number[]) => { const b = Buffer.alloc(8 * xs.length); xs.forEach((x, i) => b.writeDoubleLE(x, 8 * i)); return b.toString('base64'); };
  const routine = JSON.parse(JSON.stringify(book.serialize('h1'))) as unknown;
  const keysNow = JSON.stringify({ v: 3, c: v5.c, d: [...h.devices.keys()], k: [...(h.marks?.keys() ?? [])] });
  const v4Text = JSON.stringify({ v: 4, c: v5.c, a: v5.a, s: v5.s, n: doubles(nums) });
  t.same(decodeHomeParts(new Map([['home', v4Text], ['keys', keysNow], ['routine', codec.encodeRoutine(rh)]])), { ...serializeHomeState(h), routine }, 'a v4 home part (8 bytes a number) decodes as before');
  t.ok(doubles(nums).length > 2.5 * v5.n.length, `packed: ${v5.n.length} characters of numbers where 8 bytes each took ${doubles(nums).length}`);
  const old: number[] = [];
  for (let i = 0; i < header; i++) old.push(nums[i]!);
  for (let j = 0; j < devices; j++) for (let x = 0; x < 3; x++) old.push(nums[header + 3 + 5 * j + x]!);
  for (let m = 0; m < marks; m++) old.push(nums[header + 3 + 5 * devices + m]!);
  const oldN = doubles(old);
  const { longestQuiet: _q, livedHours: _l, livedHour: _h, ...asBefore } = serializeHomeState(h);
  const beforeTallies = { ...asBefore, devices: Object.fromEntries(Object.entries(asBefore.devices).map(([id, d]) => [id, d.slice(0, 3)])) };
  t.same(decodeHomeParts(new Map([['home', JSON.stringify({ v: 3, c: v5.c, a: v5.a, s: v5.s, n: oldN })], ['keys', keysNow], ['routine', codec.encodeRoutine(rh)]])), { ...beforeTallies, routine }, 'a v3 home part decodes as before');
  const v2Text = JSON.stringify({ v: 2, d: [...h.devices.keys()], k: [...(h.marks?.keys() ?? [])], a: v5.a, s: v5.s, n: oldN });
  t.same(decodeHomeParts(new Map([['home', v2Text], ['routine', codec.encodeRoutine(rh)]])), { ...beforeTallies, routine }, 'a v2 home part (names inside) decodes as before');
  t.match(decodeHomeParts(new Map([['home', JSON.stringify({ v: 4, c: v5.c, a: v5.a, s: v5.s, n: oldN })], ['keys', keysNow]])), /home: \d+ bytes of numbers where \d+ devices and \d+ marks need \d+/, 'v3 numbers under v: 4 are refused');
  t.match(decodeHomeParts(new Map([['home', JSON.stringify({ ...v5, n: doubles(nums) })], ['keys', keysNow]])), /home: .*reading \d+ devices and \d+ marks/, '8-byte numbers under v: 5 are refused');
  t.match(decodeHomeParts(new Map([['routine', codec.encodeRoutine(rh)]])), /no 'home' part/);
  t.match(decodeHomeParts(new Map([['home', '{"v":6}']])), /home: v: /);
});

t.test('packed numbers: every number comes back exactly; damaged bytes are refused, not misread', async (t) => {
  const base = at('09:00');
  const xs = [base, base - 1, base + 600_000, base - 86_400_000 * 40, -1, 0, 1, 1440, 2 ** 30 - 1, NaN, -0, Infinity, -Infinity, 0.5, -123.25,
    2 ** 50 - 1, 2 ** 50, -(2 ** 52), 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, 1e300, base * 3];
  const out = new Uint8Array(9 * (xs.length + 1));
  const view = new DataView(out.buffer);
  for (const b of [base, -1, NaN, 0.5, 2 ** 52]) {
    const n = packNumbers(xs, xs.length, b, out, view);
    const back = unpackNumbers(out.subarray(0, n), xs.length);
    if (typeof back === 'string') { t.fail(back); continue; }
    t.ok(back.every((x, i) => Object.is(x, xs[i])), `base ${b}: ${xs.length} numbers back exactly (−0, NaN and ±Infinity too) in ${n} bytes`);
  }
  const n = packNumbers([base + 1, base - 600_000, -1, 0, 12], 5, base, out, view);
  t.ok(n <= 7 + 1 + 4 + 1 + 1 + 1 + 4, `times near the base take a few bytes (${n} bytes for 5 numbers, the base and the check)`);
  const good = Uint8Array.from(out.subarray(0, n));
  /** `body` with a good check after it: what a writer with a defect would leave. */
  const checked = (body: number[]) => { const b = new Uint8Array(body.length + 4); b.set(body); const v = new DataView(b.buffer); let x = 0x811c9dc5; for (const y of body) x = Math.imul(x ^ y, 0x01000193); v.setUint32(body.length, x >>> 0, true); return b; };
  t.same(unpackNumbers(checked([...good.subarray(0, n - 4)]), 5), [base + 1, base - 600_000, -1, 0, 12], 'the check as the packer writes it');
  t.match(unpackNumbers(good, 6), /the numbers end inside a number \(number 6 of 6\)/, 'one number too few');
  t.match(unpackNumbers(good, 4), /1 bytes after the 4 numbers/, 'one number too many');
  t.match(unpackNumbers(good.subarray(1), 5), /the numbers are damaged \(check \d+ where they were written with \d+\)/, 'cut at the start');
  t.match(unpackNumbers(good.subarray(0, n - 1), 5), /damaged/, 'cut at the end');
  const flipped = Uint8Array.from(good); flipped[3] = flipped[3]! ^ 4;
  t.match(unpackNumbers(flipped, 5), /damaged/, 'a byte changed');
  t.match(unpackNumbers(Uint8Array.from([0, 1, 2]), 1), /3 bytes: too few/);
  t.match(unpackNumbers(checked([0, 255, 255, 255, 255, 255, 255, 255, 255, 1]), 1), /longer than 8 bytes/);
  t.match(unpackNumbers(checked([0, 7]), 1), /a NaN with a value/);
  t.match(unpackNumbers(checked([0, 6, 0, 0, 0, 0, 0, 0, 0, 0]), 1), /a double with a value/);
  t.match(unpackNumbers(checked([0, 2, 0, 0, 0]), 1), /end inside a number/, 'a double cut short');
});

t.test('a home part is JSON whatever the device ids and findings say', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const rules: HomeRules = { timezone: 'Asia/Tokyo', zone, rules: [], defs: [], powerChangeWatts: 30 };
  const h = createHomeState('h1', rules, at('06:00'));
  const odd = 'ドア "前" \\ \u2028 \n end';
  applyReading(h, motion(at('06:10'), odd));
  h.active = new Map([[`device-silent/${odd}`, 'warning'], ['no-sign-of-life', 'critical']]);
  const codec = createHomeStateCodec();
  const e = codec.encodeHome(h, undefined);
  const home = JSON.parse(e.home) as { v: number; a: unknown; s: unknown };
  t.same([home.v, home.a, home.s], [5, [[`device-silent/${odd}`, 'warning'], ['no-sign-of-life', 'critical']], ['motion', odd]], 'the strings come back as they were');
  t.same(decodeHomeParts(new Map([['home', e.home], ['keys', codec.keysFor(h, e.names)!]])), serializeHomeState(h), 'and the whole home');
});

t.test('device health\'s tallies saved as marks move into the device and home records on load, under the home\'s own rule ids', async (t) => {
  const zone = new ZoneClock('Asia/Tokyo');
  const rules: HomeRules = { timezone: 'Asia/Tokyo', zone, rules: [deviceSilentRule.parse({ type: 'deviceSilent', id: 'health-a' }), deviceSilentRule.parse({ type: 'deviceSilent', id: 'health-b' }), noSignOfLifeRule.parse({ type: 'noSignOfLife' })], defs: [], powerChangeWatts: 30 };
  const saved = {
    v: 1, firstSeen: at('06:00'), lastSignOfLife: at('09:00'), lastSignKind: 'motion', lastSignDevice: 'pir', lastMotion: at('09:00'),
    waterSince: -1, gasSince: -1, outSince: -1, awayUntil: -1, newestAt: at('09:00'), beats: true, lateArrivalAt: -1, lateSince: -1,
    devices: { pir: [at('09:00'), -1, -1], plug: [at('08:00'), 80, 40], gone: [at('07:00'), -1, -1] },
    active: {},
    marks: {
      'health-a/messages/pir': 12, 'health-b/messages/pir': 20, 'health-a/quiet/pir': 3_600_000, 'health-b/quiet/pir': 1_800_000, 'health-a/seen/pir': at('09:00'),
      'health-b/heartbeats/plug': at('07:30'), 'health-a/messages/plug': 3,
      'health-a/quiet': 7_200_000, 'health-a/last': at('09:00'), 'health-a/lived': 40, 'health-b/lived': 41, 'health-a/lived-hour': 100, 'health-b/lived-hour': 101,
      'health-a/overdue/gone': 30, 'device-silent/messages/pir': 99, 'night-door': at('02:00'),
    },
  };
  const r = restoreHomeState('h1', rules, saved, at('10:00'));
  if (typeof r === 'string') { t.fail(r); return; }
  const h = r.home;
  const dev = (id: string) => { const d = h.devices.get(id)!; return [d.beats, d.messages, d.quiet]; };
  t.same(dev('pir'), [false, 20, 3_600_000], 'an event-only device: the most any rule counted and its longest quiet spell');
  t.same(dev('plug'), [true, 0, 0], 'a heartbeat device: its early tallies dropped, whichever rule saw the heartbeat');
  t.same(dev('gone'), [false, 0, 0], 'nothing known: nothing learned');
  t.same([h.longestQuiet, h.livedHours, h.livedHour], [7_200_000, 41, 101], 'the home\'s tallies');
  t.same([...h.marks!.keys()].sort(), ['device-silent/messages/pir', 'health-a/overdue/gone', 'night-door'], 'a rule\'s own overdue mark, other rules\' marks and marks of a rule the home does not run are kept');
  t.ok(h.dirty && h.urgent, 'saved in the new form at the next save');
  const plain = restoreHomeState('h1', rules, { ...saved, marks: { 'night-door': at('02:00') } }, at('10:00'));
  t.ok(typeof plain !== 'string' && !plain.home.urgent, 'nothing to move: not saved for it');
});

t.test('a state saved in the old format (one JSON row per home) loads, and is saved again in parts', async (t) => {
  // Saved by the code before migration 15 (s4-integ) for a home after 3 lived days with a learned
  // routine (learningDays 2), a device finding open, deviceSilent tallies and a day-care weekday.
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/home-state-v1.json', import.meta.url), 'utf8')) as { savedAt: number; homeId: string; state: { v: number; marks: Record<string, number>; active: Record<string, string>; routine: { baseline: { days: number } } } };
  t.equal(fixture.state.v, 1);
  t.ok(Object.keys(fixture.state.marks).length > 0 && Object.keys(fixture.state.active).length > 0 && fixture.state.routine.baseline.days > 0, 'the fixture has marks, an open finding and learned days');
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.saveHomeStates([{ homeId: fixture.homeId, state: fixture.state }], fixture.savedAt);
  const calls = recordSaves(store);
  const clock = new VirtualClock(fixture.savedAt);
  const engine = await createRuleEngine({ clock, logger: silentLogger(), store, routineSettings: { learningDays: 2 }, watermark: false });
  t.equal(engine.routineOf('h1').learning.days, fixture.state.routine.baseline.days, 'learned days restored');
  t.equal(engine.lastSignOfLife('h1'), (fixture.state as unknown as { lastSignOfLife: number }).lastSignOfLife);
  await engine.flushState();
  t.same(calls.map(({ at, parts }) => ({ at, parts })), [{ at: fixture.savedAt, parts: ['h1:home', 'h1:keys', 'h1:routine'] }], 'every part written at the first save');
  t.equal((await store.loadHomeStates()).size, 0, 'the old row is gone');
  // Device health's tallies were marks then: they move into the device and home records, the rest is as saved.
  const moved = { ...fixture.state } as unknown as Record<string, unknown> & { devices: Record<string, number[]>; marks: Record<string, number> };
  moved.marks = Object.fromEntries(Object.entries(fixture.state.marks).filter(([k]) => !k.startsWith('device-silent/')));
  t.same(Object.keys(moved.marks).sort(), ['flow-without-motion/motion-room/*', 'flow-without-motion/motion-room/bath', 'flow-without-motion/motion-room/other', 'presence/inside', 'routine-trend/checked'], 'other rules\' marks kept');
  const tallies: Record<string, [number, number]> = {
    'climate-hall': [-1, 0], 'motion-living': [-1, 0], kettle: [6, 69_000_000], 'motion-bath': [6, 85_500_000], 'door-front': [6, 86_340_000], 'motion-bedroom': [3, 86_400_000],
  };
  moved.devices = Object.fromEntries(Object.entries(moved.devices).map(([id, d]) => [id, [...d, ...tallies[id]!]]));
  Object.assign(moved, { longestQuiet: 36_600_000, livedHours: 39, livedHour: 498_732 });
  t.same((await readSavedHomeStates(store)).states.get('h1'), moved, 'the parts hold what the old row held, device health\'s tallies in the records');
  await engine.flushState();
  t.equal(calls.length, 1, 'nothing changed: nothing written');
  await engine.close();
});

t.test('learned profiles are written once per committed day; each save writes each home once, all homes together', async (t) => {
  const file = tempFile(t);
  const start = at('05:00');
  const store = createSqliteStore(file);
  const calls = recordSaves(store);
  const clock = new VirtualClock(start);
  // No rules: only learning and the saves (a finding would add urgent saves at other times).
  const opts = { logger: silentLogger(), rulesFor: () => [], routineSettings: { learningDays: 2 }, watermark: false as const, persistEveryMs: MIN, persistProgressEveryMs: 10 * MIN };
  const a = await createRuleEngine({ clock, store, ...opts });
  const feed = (rs: Reading[]) => { for (const r of rs.sort((x, y) => x.at - y.at)) { clock.advanceTo(r.at); a.ingest(r); } };
  for (let d = 0; d < 3; d++) feed([...livedDay(d, 'h1'), ...livedDay(d, 'h2')]);
  // Day 3 begins: the first reading after 04:00 commits day 2. It is also the day's first sign of life
  // (decision memory for routineMissed), so the next save, a minute later, writes the home and the day.
  feed([motion(at('06:00', 3), 'motion-living', 'h1'), motion(at('06:00', 3), 'motion-living', 'h2')]);
  clock.advanceTo(at('06:10', 3));
  const routineSaves = calls.flatMap((c) => c.parts.filter((p) => p.endsWith(':routine')).map((p) => `${p}@${new Date(c.at).toISOString()}`));
  const iso = (hhmm: string, d: number) => new Date(at(hhmm, d)).toISOString();
  t.same(routineSaves, [1, 2, 3].flatMap((d) => [`h1:routine@${iso('06:01', d)}`, `h2:routine@${iso('06:01', d)}`]), 'the routine part: once per committed day, at the save after the commit');
  t.equal(a.routineOf('h1').learning.days, 3);
  for (const c of calls) t.equal(new Set(c.parts).size, c.parts.length, `save at ${new Date(c.at).toISOString()} writes each part of each home once`);
  t.ok(calls.every((c) => c.parts.includes('h1:home') === c.parts.includes('h2:home')), 'both homes in every save: one transaction for all homes');
  // A reading at T is written by the progress save at T + 10 min (06:10 … 22:10: 97 a day). The day's
  // first movement (06:00) and first kettle (07:00) are decision memory (on day 0 the new home and the
  // new kettle too), written at 06:01 and 07:01 instead of 06:10 and 07:10; then day 3's first reading, at 06:01.
  t.equal(calls.filter((c) => c.parts.includes('h1:home')).length, 97 * 3 + 1, 'the home part: once per save that has something new');

  // kill -9 now (no close, no flush) — once the saves begun so far have committed (the store is asynchronous): a new engine on the same file.
  await Promise.all(calls.map((c) => c.done));
  const learnedBefore = a.routineOf('h1');
  const store2 = createSqliteStore(file);
  t.teardown(() => store2.close());
  const b = await createRuleEngine({ clock: new VirtualClock(at('06:10', 3)), store: store2, ...opts });
  t.same(b.routineOf('h1').profiles, learnedBefore.profiles, 'restart after a day commit keeps the learned profiles');
  t.same(b.routineOf('h1').learning, learnedBefore.learning);
  await b.close();
  await store.close();
});

t.test('the keys part: written only when the names change, and again after a failed save', async (t) => {
  const file = tempFile(t);
  const store = createSqliteStore(file);
  const save = store.saveHomeStateParts.bind(store);
  /** Per save: the home part's check, the keys part's check if one came with it, and whether it failed. */
  const calls: Array<{ check: number; keys: number | undefined; failed: boolean; done: Promise<unknown> }> = [];
  let failNext = false;
  store.saveHomeStateParts = (parts, when, drop, fenced) => {
    const home = parts.find((p) => p.homeId === 'h1' && p.part === 'home');
    const keys = parts.find((p) => p.homeId === 'h1' && p.part === 'keys');
    const failed = failNext;
    failNext = false;
    const done = failed ? Promise.reject(new Error('disk full')) : save(parts, when, drop, fenced);
    if (home) calls.push({ check: (JSON.parse(home.data) as { c: number }).c, keys: keys && (JSON.parse(keys.data) as { c: number }).c, failed, done });
    return done;
  };
  const clock = new VirtualClock(at('05:00'));
  const opts = { logger: silentLogger(), watermark: false as const, persistEveryMs: MIN, persistProgressEveryMs: 10 * MIN };
  const a = await createRuleEngine({ clock, store, ...opts });
  /** Moves the clock a minute at a time to `to`, each save settled before the next (as real timers run), then ingests `r`. */
  const step = async (to: number, r?: Reading) => {
    while (clock.now() < to) {
      clock.advanceTo(Math.min(to, clock.now() + MIN));
      await Promise.allSettled(calls.map((c) => c.done));
    }
    if (r) a.ingest(r);
  };
  for (const r of livedDay(0, 'h1')) await step(r.at, r);
  failNext = true;
  for (const r of [motion(at('22:20')), door(at('22:25'), true), door(at('22:26'), false), motion(at('22:40'), 'motion-bedroom')]) await step(r.at, r);
  await step(at('23:30'));
  await a.flushState();

  // A save writes the names exactly when they differ from those of the save before, or that one failed.
  let before: number | undefined, beforeFailed = false, without = 0, renamed = 0, again = 0;
  calls.forEach((c, i) => {
    if (c.keys !== undefined) t.equal(c.keys, c.check, `save ${i}: the keys part and the home part carry the same check`);
    const needed = c.check !== before || beforeFailed;
    t.equal(c.keys !== undefined, needed, `save ${i}: keys part ${needed ? 'written' : 'left out'}`);
    if (c.keys === undefined) without++; else if (c.check === before) again++; else renamed++;
    before = c.check; beforeFailed = c.failed;
  });
  t.ok(calls.filter((c) => c.failed).length === 1 && again === 1, 'the save after the failed one wrote the unchanged names again');
  t.ok(without > 10 * renamed, `most saves leave the names out (${without} without, ${renamed} with new names)`);

  // kill -9 now: a new engine on the file reads the home part against its names.
  const reader = createSqliteStore(file);
  t.teardown(() => reader.close());
  const saved = (await readSavedHomeStates(reader)).states.get('h1') as { lastSignOfLife: number; devices: Record<string, unknown> };
  t.type(saved, 'object', 'the saved state decodes');
  t.equal(saved.lastSignOfLife, a.lastSignOfLife('h1'), 'with the last sign of life the engine has');
  t.same(Object.keys(saved.devices).sort(), ['door-front', 'kettle', 'motion-bedroom', 'motion-living'], 'and every device, named by the keys part');
  await a.close();
  await store.close();
});

t.test('a restart mid-day keeps what was saved before it: a heartbeat device still counts as one', async (t) => {
  const file = tempFile(t);
  const rules = [{ type: 'deviceSilent', afterMinutes: 60 }];
  const opts = { logger: silentLogger(), rulesFor: () => rules, watermark: false as const, persistEveryMs: MIN, persistProgressEveryMs: 10 * MIN };
  const store = createSqliteStore(file);
  const clock = new VirtualClock(at('08:00'));
  const a = await createRuleEngine({ clock, store, ...opts });
  a.ingest(motion(at('08:00')));
  // The climate sensor's first heartbeat makes it a heartbeat device (judged after 60 min): an urgent change.
  clock.advanceTo(at('08:00') + 10_000);
  a.ingest(heartbeat(at('08:00') + 10_000, 'climate', 90));
  clock.advanceTo(at('08:01'));
  const saved = (await readSavedHomeStates(store)).states.get('h1') as { devices: Record<string, number[]> };
  t.same(saved.devices.climate, [at('08:00') + 10_000, 90, -1, -1, 0], 'saved at the next save, not the progress save: it sends heartbeats (messages -1)');

  // kill -9 at 08:01:30: the new engine knows it sends heartbeats, so the silent climate sensor is found at 09:00.
  const store2 = createSqliteStore(file);
  t.teardown(() => store2.close());
  const clock2 = new VirtualClock(at('08:01') + 30_000);
  const b = await createRuleEngine({ clock: clock2, store: store2, ...opts });
  const found: Finding[] = [];
  b.findings.subscribe((f) => found.push(f));
  for (let x = at('08:10'); x <= at('09:30'); x += 10 * MIN) { clock2.advanceTo(x); b.ingest(motion(x)); }
  t.same(found.map((f) => `${f.type}:${f.state}:${f.device ?? ''}`), ['deviceSilent:raised:climate'], 'silent heartbeat device found after the restart');
  t.equal(found[0]!.at, at('09:10'), 'at the first reading of another device after its 60 min');
  await b.close();
  await store.close();
});

t.test('a device\'s tallies from before its first heartbeat are dropped, not saved ever after; it is still judged on its heartbeats', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const rules = [{ type: 'deviceSilent', afterMinutes: 60 }];
  const clock = new VirtualClock(at('08:00'));
  const engine = await createRuleEngine({ clock, store, logger: silentLogger(), rulesFor: () => rules, watermark: false as const });
  const found: Finding[] = [];
  engine.findings.subscribe((f) => found.push(f));
  // Three messages before its first heartbeat (as a plug sends its state on start), then heartbeats.
  for (const x of [at('08:00'), at('08:05'), at('08:20')]) { clock.advanceTo(x); engine.ingest(kettle(x)); engine.ingest(motion(x)); }
  await engine.flushState();
  type Saved = { devices: Record<string, number[]>; marks: Record<string, number>; longestQuiet: number; livedHours: number };
  const before = (await readSavedHomeStates(store)).states.get('h1') as Saved;
  t.same(before.devices.kettle!.slice(3), [3, 15 * MIN], 'learning its quiet spells while it has sent no heartbeat: 3 messages, 15 min the longest gap');
  t.same([before.longestQuiet, before.livedHours], [15 * MIN, 1], 'the home\'s longest quiet spell, one hour lived');
  t.same(before.marks, {}, 'no marks for it');
  clock.advanceTo(at('08:30'));
  engine.ingest(heartbeat(at('08:30'), 'kettle'));
  await engine.flushState();
  const after = (await readSavedHomeStates(store)).states.get('h1') as Saved;
  t.same(after.devices.kettle!.slice(3), [-1, 0], 'it sends heartbeats: its tallies dropped');
  // Judged on its heartbeats: silent 60 min after the last one (09:30), found once another device has spoken since.
  for (let x = at('08:40'); x <= at('10:00'); x += 10 * MIN) { clock.advanceTo(x); engine.ingest(motion(x)); }
  t.same(found.map((f) => `${f.type}:${f.state}:${f.device ?? ''}`), ['deviceSilent:raised:kettle']);
  t.equal(found[0]?.at, at('09:40'));
  await engine.close();
});

t.test('unreadable parts are skipped with the reason; other homes load', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const clock = new VirtualClock(at('08:00'));
  const a = await createRuleEngine({ clock, logger: silentLogger(), store });
  a.ingest(motion(at('08:00')));
  await a.close();
  const good = (await store.loadHomeStateParts()).find((p) => p.part === 'home')!;
  const names = (await store.loadHomeStateParts()).find((p) => p.part === 'keys')!;
  await store.saveHomeStateParts([{ homeId: 'bad', part: 'home', data: good.data.replace(/"n":"[A-Za-z0-9+/]{8}/, '"n":"') }, { homeId: 'bad', part: 'keys', data: names.data }], at('08:00'));
  const warnings: Array<{ home?: string; problem?: string }> = [];
  const logger = { ...silentLogger(), warn: (o: unknown) => { warnings.push(o as { home?: string; problem?: string }); } };
  const b = await createRuleEngine({ clock, logger: logger as never, store });
  t.equal(b.lastSignOfLife('h1'), at('08:00'));
  t.equal(b.lastSignOfLife('bad'), undefined);
  t.match(warnings, [{ home: 'bad', problem: /the numbers are damaged/ }]);
  await b.close();
});

t.test('default cadences: plain progress every 30 min; the first kettle of the day and going out are saved sooner', async (t) => {
  const { store, calls, engine, step } = await savingEngine(t, at('07:00'));
  type Saved = { lastSignOfLife: number; outSince: number; routine?: { baseline: { today: { firstKettle: number | null } | null; doorClosedAt: number } } };
  const saved = async () => (await readSavedHomeStates(store)).states.get('h1') as Saved;
  const savesAt = () => calls.map((c) => new Date(c.at).toISOString().slice(11, 16));
  // 07:00 (16:00 UTC the day before, Asia/Tokyo): the home and its devices are new; the kettle only reports "off".
  for (const r of [door(at('07:00'), true), kettle(at('07:00'), 'off'), motion(at('07:00'))]) engine.ingest(r);
  step(at('07:01'));
  t.same(savesAt(), ['22:01'], 'a new home: saved at the next save');
  // The day's first kettle use: routineMissed decides on it, so a crash must not lose it.
  step(at('07:10'), kettle(at('07:10'), 'on'));
  step(at('07:11'));
  t.equal(calls.length, 2, 'the first kettle use is saved at the next save');
  t.equal((await saved()).routine?.baseline.today?.firstKettle, 190, '07:10 is 190 min after the 04:00 day start');
  // A second use, and movement: plain progress, saved by the progress save at 07:30 (every 30th save), not before.
  step(at('07:20'), kettle(at('07:20'), 'on'));
  step(at('07:21'), motion(at('07:21')));
  step(at('07:29'));
  t.equal(calls.length, 2, 'progress alone waits for the progress save');
  t.equal((await saved()).lastSignOfLife, at('07:10'));
  step(at('07:30'));
  t.equal(calls.length, 3);
  t.equal((await saved()).lastSignOfLife, at('07:21'), 'saved by the progress save at 07:30');
  // Going out at 08:01 (door opened and closed, nothing inside since): once it has held 10 min it is
  // saved at the next save (08:11), not left to the progress save at 08:30.
  step(at('08:00') + 30_000, door(at('08:00') + 30_000, true));
  step(at('08:01'), door(at('08:01'), false));
  step(at('08:10'));
  t.equal(calls.length, 3, 'not yet: a passage of a few minutes is not worth a save of its own');
  t.equal((await saved()).outSince, -1);
  step(at('08:11'));
  t.equal(calls.length, 4, 'out for 10 min: saved at the next save');
  const s = await saved();
  t.equal(s.outSince, at('08:01'), 'a crash now restores her as out (the out-of-home limit, not the ordinary clock)');
  t.equal(s.routine?.baseline.doorClosedAt, at('08:01'), 'and the learned rules\' "out" too');
  // Coming back at 09:00 (movement inside) is saved the same way, 10 min later.
  step(at('09:00'), motion(at('09:00')));
  step(at('09:09'));
  t.equal((await saved()).outSince, at('08:01'));
  step(at('09:10'));
  t.equal((await saved()).outSince, -1, 'back home: saved at 09:10');
  t.same(savesAt(), ['22:01', '22:11', '22:30', '23:11', '00:10'], 'every save, UTC: 07:01, 07:11, 07:30, 08:11, 09:10 local');
  await engine.close();
});

t.test('a visit is saved with the "out" change it comes with (10 min later), not at once: door passages with movement after were a quarter of the saves', async (t) => {
  const { store, calls, engine, step } = await savingEngine(t, at('09:00'));
  const marks = async () => ((await readSavedHomeStates(store)).states.get('h1') as { marks: Record<string, number> }).marks;
  // Both devices known from the start (a new device is saved at once).
  engine.ingest(motion(at('09:00')));
  engine.ingest(heartbeat(at('09:00'), 'door-front'));
  step(at('10:04'), motion(at('10:04')));
  step(at('10:05'));
  const before = calls.length;
  // Someone comes in at 10:05 (she is home, moving about): the door, then movement inside 2 min later.
  step(at('10:05'), door(at('10:05'), true));
  step(at('10:05') + 30_000, door(at('10:05') + 30_000, false));
  step(at('10:07'), motion(at('10:07')));
  step(at('10:16'));
  t.equal(calls.length, before, 'not saved at once: the visit\'s "out" change has not held 10 min');
  step(at('10:17'));
  t.equal(calls.length, before + 1, 'saved once it has held 10 min');
  t.equal((await marks())['presence/visit'], at('10:07'), 'with the visit: a restart now still reads the next departure as uncertain');
  // The visitor leaves at 10:40: an uncertain departure, saved 10 min later with its mark.
  step(at('10:40'), door(at('10:40'), true));
  step(at('10:40') + 30_000, door(at('10:40') + 30_000, false));
  step(at('10:50'));
  t.equal((await marks())['presence/uncertain-out'], undefined, 'not yet');
  step(at('10:51'));
  t.equal((await marks())['presence/uncertain-out'], at('10:40') + 30_000, 'the uncertain departure is saved with her going out');
  await engine.close();
});
