import t from 'tap';
import { memoWeak } from '../../rules/memo.js';

t.test('memoWeak derives once per object, the same value after, each object its own', async (t) => {
  const calls: string[] = [];
  const keyOf = memoWeak((rule: { id: string }) => { calls.push(rule.id); return `${rule.id}/sole`; });
  const a = { id: 'nsl' }, b = { id: 'nsl' };
  const first = keyOf(a);
  t.equal(first, 'nsl/sole');
  t.equal(keyOf(a), first, 'the same string object: looked up, not rebuilt');
  t.equal(keyOf(b), 'nsl/sole', 'an equal but distinct rule object gets its own');
  t.same(calls, ['nsl', 'nsl'], 'derived once per object');
  const maps = memoWeak((_: object) => new Map<string, number>());
  const m = maps(a);
  m.set('x', 1);
  t.equal(maps(a).get('x'), 1, 'a derived container is kept, not replaced');
  t.not(maps(b), m);
});
