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
import { applyReading, createHomeState, serializeHomeState, type HomeRules } from '../../rules/home-state.js';
import { createHomeStateCodec, decodeHomeParts, readSavedHomeStates } from '../../rules/home-state-codec.js';
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
  const decoded = decodeHomeParts(new Map([['home', codec.encodeHome(h, rh)], ['routine', codec.encodeRoutine(rh)]]));
  t.same(decoded, { ...serializeHomeState(h), routine: JSON.parse(JSON.stringify(book.serialize('h1'))) as unknown }, 'same v1 form, field for field');
  t.match(decodeHomeParts(new Map([['home', codec.encodeHome(h, rh).replace(/"n":"[^"]{8}/, '"n":"')]])), /home: \d+ bytes of numbers where 4 devices and 3 marks need \d+/, 'a truncated number block is refused with the reason');
  // Every change to the keys shows in the next save (a codec that kept the key lists' text between saves would be held to this).
  const asJson = (text: string) => {
    const o = JSON.parse(text) as { d: string[]; k: string[] };
    return JSON.stringify({ v: 2, ...o }) === text && o.d.join() === [...h.devices.keys()].join() && o.k.join() === [...(h.marks?.keys() ?? [])].join();
  };
  const steps: Array<[string, () => void]> = [
    ['numbers only', () => { h.marks!.set('night-door', at('03:00', 2)); h.devices.get('climate')!.battery = 60; }],
    ['a mark added', () => { h.marks!.set('device-silent/quiet/kettle', 3_600_000); }],
    ['a mark dropped and another of the same count added', () => { h.marks!.delete('night-door'); h.marks!.set('outing/warned', at('06:31', 3)); }],
    ['a mark dropped and set again (moves to the end)', () => { h.marks!.delete('device-silent/seen/kettle'); h.marks!.set('device-silent/seen/kettle', at('12:10', 2)); }],
    ['a device added', () => { applyReading(h, motion(at('06:40', 3), 'motion-hall')); }],
    ['every mark dropped', () => { h.marks = undefined; }],
    ['marks again, in a new map with equal keys', () => { h.marks = new Map([['night-door', 1], ['outing/warned', 2]]); }],
  ];
  for (const [what, change] of steps) {
    change();
    const text = codec.encodeHome(h, rh);
    t.ok(asJson(text), `${what}: the text is JSON.stringify's, with the keys as they are now`);
    t.same(decodeHomeParts(new Map([['home', text], ['routine', codec.encodeRoutine(rh)]])), { ...serializeHomeState(h), routine: JSON.parse(JSON.stringify(book.serialize('h1'))) as unknown }, `${what}: decodes to the state as it is now`);
  }
  t.match(decodeHomeParts(new Map([['routine', codec.encodeRoutine(rh)]])), /no 'home' part/);
  t.match(decodeHomeParts(new Map([['home', '{"v":3}']])), /home: v: /);
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
  t.same(calls.map(({ at, parts }) => ({ at, parts })), [{ at: fixture.savedAt, parts: ['h1:home', 'h1:routine'] }], 'both parts written at the first save');
  t.equal((await store.loadHomeStates()).size, 0, 'the old row is gone');
  t.same((await readSavedHomeStates(store)).states.get('h1'), fixture.state, 'the parts hold exactly what the old row held');
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

t.test('a restart mid-day keeps marks saved before it: a heartbeat device still counts as one', async (t) => {
  const file = tempFile(t);
  const rules = [{ type: 'deviceSilent', afterMinutes: 60 }];
  const opts = { logger: silentLogger(), rulesFor: () => rules, watermark: false as const, persistEveryMs: MIN, persistProgressEveryMs: 10 * MIN };
  const store = createSqliteStore(file);
  const clock = new VirtualClock(at('08:00'));
  const a = await createRuleEngine({ clock, store, ...opts });
  a.ingest(motion(at('08:00')));
  // The climate sensor's first heartbeat marks it as a heartbeat device (judged after 60 min): an urgent mark.
  clock.advanceTo(at('08:00') + 10_000);
  a.ingest(heartbeat(at('08:00') + 10_000, 'climate', 90));
  clock.advanceTo(at('08:01'));
  const saved = (await readSavedHomeStates(store)).states.get('h1') as { marks: Record<string, number> };
  t.same(saved.marks['device-silent/heartbeats/climate'], at('08:00') + 10_000, 'the mark is saved at the next save, not the progress save');

  // kill -9 at 08:01:30: the new engine has the mark, so the silent climate sensor is found at 09:00.
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
  const before = (await readSavedHomeStates(store)).states.get('h1') as { marks: Record<string, number> };
  t.same(Object.keys(before.marks).filter((k) => k.endsWith('/kettle')).sort(), ['device-silent/messages/kettle', 'device-silent/quiet/kettle', 'device-silent/seen/kettle'], 'learning its quiet spells while it has sent no heartbeat');
  clock.advanceTo(at('08:30'));
  engine.ingest(heartbeat(at('08:30'), 'kettle'));
  await engine.flushState();
  const after = (await readSavedHomeStates(store)).states.get('h1') as { marks: Record<string, number> };
  t.same(Object.keys(after.marks).filter((k) => k.endsWith('/kettle')), ['device-silent/heartbeats/kettle'], 'only the heartbeat mark is kept');
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
  await store.saveHomeStateParts([{ homeId: 'bad', part: 'home', data: good.data.replace(/"n":"[A-Za-z0-9+/]{8}/, '"n":"') }], at('08:00'));
  const warnings: Array<{ home?: string; problem?: string }> = [];
  const logger = { ...silentLogger(), warn: (o: unknown) => { warnings.push(o as { home?: string; problem?: string }); } };
  const b = await createRuleEngine({ clock, logger: logger as never, store });
  t.equal(b.lastSignOfLife('h1'), at('08:00'));
  t.equal(b.lastSignOfLife('bad'), undefined);
  t.match(warnings, [{ home: 'bad', problem: /bytes of numbers/ }]);
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
