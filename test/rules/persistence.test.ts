import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import type { Finding } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { createRuleEngine } from '../../rules/engine.js';
import { readSavedHomeStates } from '../../rules/home-state-codec.js';
import { at, door, heartbeat, motion, water } from './helpers.js';

async function engineOn(file: string, start: number) {
  const store = createSqliteStore(file);
  const clock = new VirtualClock(start);
  const engine = await createRuleEngine({ clock, logger: silentLogger(), store, rulesFor: () => [{ type: 'noSignOfLife' }, { type: 'flowWithoutMotion' }, { type: 'deviceSilent', afterMinutes: 600 }] });
  const findings: Finding[] = [];
  engine.findings.subscribe((f) => findings.push(f));
  return { store, clock, engine, findings, async stop() { await engine.close(); await store.close(); } };
}

t.test('a restart in the middle of a no-sign-of-life window still raises on time, and never twice', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'hub.sqlite');

  const a = await engineOn(file, at('07:00'));
  a.clock.advanceTo(at('08:00'));
  a.engine.ingest(motion(at('08:00')));
  a.clock.advanceTo(at('09:30'));
  a.engine.ingest(water(at('09:30'), true));
  a.clock.advanceTo(at('10:00'));
  t.same(a.findings, [], 'nothing yet');
  await a.stop();

  const b = await engineOn(file, at('10:05'));
  t.equal(b.engine.lastSignOfLife('h1'), at('09:30'), 'last sign of life restored');
  b.clock.advanceTo(at('10:29'));
  t.same(b.findings, []);
  b.clock.advanceTo(at('10:30'));
  t.same(b.findings.map((f) => `${f.type}:${f.severity}@${new Date(f.at).toISOString()}`), [`flowWithoutMotion:critical@${new Date(at('10:30')).toISOString()}`], 'flow deadline recomputed from the persisted flow start');
  b.clock.advanceTo(at('12:30'));
  t.same(b.findings.map((f) => f.type), ['flowWithoutMotion', 'noSignOfLife'], 'no-sign-of-life raised at 09:30 + 3 h after the restart');
  t.equal(b.findings[1]!.at, at('12:30'));
  await b.stop();

  const c = await engineOn(file, at('13:00'));
  // (The 4 h flow becomes a device-fault finding for the operator at 13:30: not the family's.)
  const family = () => c.findings.filter((f) => f.audience === 'family');
  c.clock.advanceTo(at('15:29'));
  t.same(family(), [], 'already-raised findings are not raised again after a restart');
  c.clock.advanceTo(at('15:30'));
  t.same(family().map((f) => `${f.type}:${f.severity}`), ['noSignOfLife:critical'], 'escalates on time');
  c.engine.ingest(motion(at('15:40')));
  t.same(family().map((f) => `${f.type}:${f.state}`), ['noSignOfLife:raised', 'noSignOfLife:cleared', 'flowWithoutMotion:cleared'], 'findings raised before the restart still clear');
  await c.stop();
});

t.test('state is saved periodically on the clock, and flushState saves now', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const clock = new VirtualClock(at('08:00'));
  const engine = await createRuleEngine({ clock, logger: silentLogger(), store, persistEveryMs: 30_000 });
  engine.ingest(heartbeat(at('08:00'), 'kettle', 50));
  t.equal((await readSavedHomeStates(store)).states.size, 0);
  clock.advanceBy(30_000);
  await new Promise((r) => setImmediate(r));
  const saved = (await readSavedHomeStates(store)).states.get('h1') as { devices: Record<string, number[]> };
  t.same(saved.devices.kettle, [at('08:00'), 50, -1, -1, 0], 'saved after persistEveryMs of clock time');
  clock.advanceTo(at('08:01'));
  engine.ingest(motion(at('08:01')));
  await engine.flushState();
  t.match((await readSavedHomeStates(store)).states.get('h1'), { lastSignOfLife: at('08:01') });
  await engine.close();
});

t.test('plain progress waits for the progress save; a flow starting is saved at the next save', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const calls: Array<{ at: number; homes: string[] }> = [];
  const save = store.saveHomeStateParts.bind(store);
  store.saveHomeStateParts = async (parts, when, drop) => { calls.push({ at: when, homes: [...new Set(parts.map((x) => x.homeId))] }); return save(parts, when, drop); };
  const clock = new VirtualClock(at('08:00'));
  const engine = await createRuleEngine({ clock, logger: silentLogger(), store, persistEveryMs: 60_000, persistProgressEveryMs: 600_000 });
  const saved = async () => (await readSavedHomeStates(store)).states.get('h1') as { lastSignOfLife: number; waterSince: number };
  // First contact (new home, new devices): saved at the next save, 08:01.
  engine.ingest(heartbeat(at('08:00'), 'kettle', 50));
  engine.ingest(water(at('08:00'), false));
  // Today's first movement is decision memory too (routineMissed's "getting up"): saved with them.
  engine.ingest(motion(at('08:00'), 'motion-living', 'h1'));
  clock.advanceTo(at('08:01'));
  t.same(calls, [{ at: at('08:01'), homes: ['h1'] }]);
  // More movement only moves times on: no save at 08:02.
  clock.advanceTo(at('08:01') + 30_000);
  engine.ingest(motion(at('08:01') + 30_000));
  clock.advanceTo(at('08:02'));
  t.equal(calls.length, 1, 'progress alone waits');
  t.equal((await saved()).lastSignOfLife, at('08:00'));
  // Water starting to flow is decision memory: saved at 08:03.
  clock.advanceTo(at('08:02') + 30_000);
  engine.ingest(water(at('08:02') + 30_000, true));
  clock.advanceTo(at('08:03'));
  t.equal(calls.length, 2);
  t.equal((await saved()).waterSince, at('08:02') + 30_000);
  // More movement: saved with the progress save at 08:10 (the 10th save), not before.
  clock.advanceTo(at('08:03') + 30_000);
  engine.ingest(motion(at('08:03') + 30_000));
  clock.advanceTo(at('08:09'));
  t.equal(calls.length, 2);
  clock.advanceTo(at('08:10'));
  t.same(calls.map((c) => c.at), [at('08:01'), at('08:03'), at('08:10')]);
  t.equal((await saved()).lastSignOfLife, at('08:03') + 30_000);
  await engine.close();
  await t.rejects(createRuleEngine({ clock: new VirtualClock(0), logger: silentLogger(), persistProgressEveryMs: 0 }), { code: 'MIMAMORI_ERR_CONFIG' });
});

t.test('unreadable saved state is skipped, bad options are refused', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  await store.saveHomeStates([{ homeId: 'broken', state: { v: 99 } }], 0);
  const engine = await createRuleEngine({ clock: new VirtualClock(0), logger: silentLogger(), store });
  t.equal(engine.lastSignOfLife('broken'), undefined);
  await engine.close();
  await t.rejects(createRuleEngine({ clock: {} as never, logger: silentLogger() }), { code: 'MIMAMORI_ERR_CONFIG' });
  await t.rejects(createRuleEngine({ clock: new VirtualClock(0), logger: silentLogger(), persistEveryMs: 0 }), { code: 'MIMAMORI_ERR_CONFIG' });
});

t.test('an uncertain departure after a visit survives a restart: still warned 3 h after the visitor left', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'hub.sqlite');

  const a = await engineOn(file, at('12:00'));
  for (const r of [motion(at('12:50')), door(at('13:00'), true), door(at('13:00') + 30_000, false), motion(at('13:01')), motion(at('14:25')), door(at('14:29'), true), door(at('14:29') + 30_000, false)]) {
    a.clock.advanceTo(r.at);
    a.engine.ingest(r);
  }
  a.clock.advanceTo(at('15:00'));
  await a.stop();

  const b = await engineOn(file, at('15:05'));
  const family = () => b.findings.filter((f) => f.audience === 'family').map((f) => `${f.type}:${f.state}:${f.severity}`);
  b.clock.advanceTo(at('17:29'));
  t.same(family(), [], 'nothing before 3 h after the door');
  b.clock.advanceTo(at('17:30'));
  t.same(family(), ['noSignOfLife:raised:warning'], 'the visit and the uncertain departure were restored (without them: 12 h)');
  t.match(b.findings.find((f) => f.audience === 'family')!.message.en, /since a visitor left/);
  await b.stop();
});
