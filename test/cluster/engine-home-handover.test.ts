/**
 * A home's rules moving between two cluster nodes' rule engines over one
 * store (`restoreAll: false`, `loadHome`, `releaseHome`): the new owner
 * continues the home where the old one stopped — its deadlines, its raised
 * findings — and the old one does nothing more for it. Virtual time.
 */
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import type { Finding } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { createRuleEngine } from '../../rules/index.js';
import { at, button, motion } from '../rules/helpers.js';

t.test('a home handed from node A to node B: deadlines and raised findings follow it, once', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const clock = new VirtualClock(at('07:00'));
  const rulesFor = () => [{ type: 'noSignOfLife' }, { type: 'helpButton' }];
  const node = async () => {
    const engine = await createRuleEngine({ clock, logger: silentLogger(), store, rulesFor, restoreAll: false });
    const findings: Finding[] = [];
    engine.findings.subscribe((f) => findings.push(f));
    t.teardown(() => engine.close());
    return { engine, findings };
  };
  // A home saved earlier by a single hub is not taken on by a node that starts: it waits for its lease.
  const a = await node();
  await a.engine.loadHome('h1');
  t.equal(a.engine.lastSignOfLife('h1'), undefined, 'nothing saved yet: node A starts h1 empty');
  clock.advanceTo(at('08:05'));
  a.engine.ingest(motion(at('08:00')));
  a.engine.ingest(button(at('08:05'), 'help'));
  t.same(a.findings.map((f) => `${f.type}:${f.state}`), ['helpButton:raised'], 'node A raises the help press');

  const b = await node();
  t.equal(b.engine.lastSignOfLife('h1'), undefined, 'node B holds nothing of h1 before its lease');
  t.equal(await a.engine.releaseHome('h1'), true, 'node A saves h1 as it lets it go');
  t.equal(a.engine.lastSignOfLife('h1'), undefined, 'and forgets it');
  await b.engine.loadHome('h1');
  t.equal(b.engine.lastSignOfLife('h1'), at('08:05'), 'node B continues from node A\'s save (the help press was the last sign of life)');

  clock.advanceTo(at('11:10'));
  t.same(a.findings.map((f) => `${f.type}:${f.state}`), ['helpButton:raised'], 'node A raises nothing more for h1 after letting it go');
  t.same(b.findings.map((f) => `${f.type}:${f.state}`), ['noSignOfLife:raised'], 'node B raises the no-sign-of-life deadline of a sign of life seen on node A, exactly once');
  t.equal(b.findings[0]!.at, at('11:05'), 'on time: 3 h after the last sign of life');
  b.engine.ingest(button(at('11:10'), 'help'));
  const press = b.findings.find((f) => f.type === 'helpButton');
  t.same([press?.state, press?.data?.again], ['raised', true], 'node B knows the help press raised on node A: the next one is "again", not a new emergency');
});

t.test('a node fenced out of a home (it stalled; the home moved on) never overwrites the state the new owner loaded', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const clock = new VirtualClock(at('07:00'));
  const rulesFor = () => [{ type: 'noSignOfLife' }, { type: 'helpButton' }];
  const node = async (id: string) => {
    const engine = await createRuleEngine({ clock, logger: silentLogger(), store, rulesFor, restoreAll: false, fencedFor: id });
    t.teardown(() => engine.close());
    return engine;
  };
  await store.fenceHome({ home: 'h1', owner: 'A', token: 1 }, at('07:00'));
  const a = await node('A');
  await a.loadHome('h1');
  clock.advanceTo(at('08:00'));
  a.ingest(motion(at('08:00')));
  await a.flushState();
  // Node A stalls; its lease runs out and node B takes h1 over with a higher token, loading A's last save.
  await store.fenceHome({ home: 'h1', owner: 'B', token: 2 }, at('08:01'));
  const b = await node('B');
  await b.loadHome('h1');
  t.equal(b.lastSignOfLife('h1'), at('08:00'), 'node B starts from node A\'s last save');
  clock.advanceTo(at('09:00'));
  b.ingest(motion(at('09:00')));
  await b.flushState();
  // Node A wakes up and saves what it still holds (a reading it ran before it knew): refused.
  a.ingest(motion(at('08:30')));
  await a.flushState();
  t.equal(await a.releaseHome('h1'), false, 'node A\'s save is refused: it reports the home not saved');
  const c = await node('B');
  await c.loadHome('h1');
  t.equal(c.lastSignOfLife('h1'), at('09:00'), 'the store keeps node B\'s state, not node A\'s late one');
});

t.test('a home loaded held decides nothing on the clock until resumed; readings apply meanwhile', async (t) => {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const clock = new VirtualClock(at('08:00'));
  const rulesFor = () => [{ type: 'noSignOfLife' }, { type: 'helpButton' }];
  const a = await createRuleEngine({ clock, logger: silentLogger(), store, rulesFor, restoreAll: false });
  await a.loadHome('h1');
  a.ingest(motion(at('08:00')));
  t.equal(await a.releaseHome('h1'), true);
  await a.close();

  clock.advanceTo(at('11:30')); // the 11:00 deadline fell while no node ran h1
  const b = await createRuleEngine({ clock, logger: silentLogger(), store, rulesFor, restoreAll: false });
  t.teardown(() => b.close());
  const findings: Finding[] = [];
  b.findings.subscribe((f) => findings.push(f));
  await b.loadHome('h1', { held: true });
  clock.advanceBy(60_000);
  t.same(findings, [], 'held: the due deadline waits');
  b.ingest(button(at('11:31'), 'help'));
  t.same(findings.map((f) => `${f.type}:${f.state}`), ['helpButton:raised'], 'a reading applies, and its own finding is raised at once');
  clock.advanceTo(at('15:00'));
  t.same(findings.map((f) => `${f.type}:${f.state}`), ['helpButton:raised'], 'still nothing on the clock, though 3 h have passed since 11:31');
  b.resumeHome('h1');
  clock.advanceBy(0);
  t.same(findings.map((f) => `${f.type}:${f.state}`), ['helpButton:raised', 'noSignOfLife:raised'], 'resumed: the due deadline is judged at once');
  t.match(findings[1]!.observed.en, /11:31/, 'from the last sign of life, the press at 11:31');
});
