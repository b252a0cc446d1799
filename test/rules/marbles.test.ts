// Marble test: the engine on RxJS's TestScheduler, readings as a cold observable.
import t from 'tap';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Reading } from '../../core/events.js';
import { silentLogger } from '../../core/logger.js';
import { createRuleEngine } from '../../rules/engine.js';

t.test('motion, silence, warning at 3 h, critical at 6 h, cleared by motion at 16:00, re-armed: warning 19:00, critical 22:00', async (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.same(actual, expected));
  // Frame 0 is 1970-01-01T09:00 in Tokyo: inside waking hours.
  const engine = await createRuleEngine({ clock: scheduler, logger: silentLogger(), rulesFor: () => [{ type: 'noSignOfLife' }] });
  const m = (occupied: boolean) => ({ kind: 'motion', occupied, home: 'h1', device: 'pir', id: 'x', ts: '', at: 0 }) as Reading;
  scheduler.run(({ cold, expectObservable }) => {
    const readings = cold<Reading>('a 419m 59999ms b', { a: m(true), b: m(true) }).pipe(map((r) => ({ ...r, at: scheduler.now() })));
    engine.connect(readings);
    expectObservable(engine.findings.pipe(map((f) => `${f.state}:${f.severity}`))).toBe('180m w 179m 59999ms c 59m 59999ms x 179m 59999ms w 179m 59999ms c', {
      w: 'raised:warning', c: 'raised:critical', x: 'cleared:critical',
    });
  });
  await engine.close();
});
