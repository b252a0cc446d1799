import t from 'tap';
import { isFenced, isMimamoriError, MimamoriError } from '../../core/errors.js';

t.test('a fence refusal is told by its code, also when it lost its class on the way', async (t) => {
  const refused = new MimamoriError('MIMAMORI_ERR_FENCED', 'home h1: node-a with token 1, the store has 2');
  t.ok(isFenced(refused));
  t.ok(isMimamoriError(refused, 'MIMAMORI_ERR_FENCED'));
  // Through structuredClone (a worker, a message port) an error keeps its message but not its class or code.
  const cloned = structuredClone(refused) as unknown;
  t.notOk(cloned instanceof MimamoriError, 'the class is lost');
  // A driver or a wrapper that copies the code onto its own error.
  const wrapped = Object.assign(new Error(refused.message), { code: refused.code });
  t.ok(isFenced(wrapped), 'a plain error carrying the code is still a fence refusal');
  t.notOk(isMimamoriError(wrapped, 'MIMAMORI_ERR_FENCED'), 'which the class check alone missed');
  t.notOk(isFenced(new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'x')));
  for (const v of [null, undefined, 'MIMAMORI_ERR_FENCED', 42, {}]) t.notOk(isFenced(v), `not ${String(v)}`);
});
