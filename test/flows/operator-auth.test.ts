/**
 * Who may open the Node-RED editor: operator accounts only, the authenticator
 * code after the password when the account has one, and the web app's
 * lockout after repeated failures.
 */
import t from 'tap';
import { VirtualWallClock } from '../../core/clock.js';
import { createSqliteStore } from '../../core/store.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret, totpCode } from '../../dashboards/totp.js';
import { createOperatorVerifier } from '../../flows/operator-auth.js';

const start = Date.parse('2026-07-21T09:00:00+09:00');
const password = 'correct horse battery';

t.test('operators only; TOTP after the password; lockout after five failures', async (t) => {
  const clock = new VirtualWallClock(start);
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  const hash = await hashPassword(password);
  const secret = newTotpSecret();
  await store.createAccount({ login: 'op', name: 'Op', role: 'operator', language: 'ja', passwordHash: hash, createdAt: start });
  await store.createAccount({ login: 'op2fa', name: 'Op', role: 'operator', language: 'ja', passwordHash: hash, totpSecret: secret, createdAt: start });
  await store.createAccount({ login: 'carer', name: 'Carer', role: 'caregiver', language: 'ja', passwordHash: hash, createdAt: start });
  const auth = createOperatorVerifier({ store, wallClock: clock, totpSeedKey: Buffer.alloc(32, 7) });

  t.equal(await auth.verifyOperator('op', password), true, 'an operator with the right password');
  t.equal(await auth.verifyOperator('carer', password), false, 'a caregiver is not an operator');
  t.equal(await auth.verifyOperator('nobody', password), false, 'an unknown login');
  t.equal(await auth.isOperator('op'), true);
  t.equal(await auth.isOperator('carer'), false);

  t.equal(await auth.verifyOperator('op2fa', password), false, 'the password alone is not enough with an authenticator');
  const wrong = String((Number(totpCode(secret, clock.now())) + 1) % 1_000_000).padStart(6, '0');
  t.equal(await auth.verifyOperator('op2fa', `${password} ${wrong}`), false, 'a wrong code');
  t.equal(await auth.verifyOperator('op2fa', `${password} ${totpCode(secret, clock.now())}`), true, 'password, a space, then the code');
  t.equal(await auth.verifyOperator('op2fa', `${password} ${totpCode(secret, clock.now())}`), false, 'the same code a second time is refused (replay)');
  clock.advanceBy(30_000);
  t.equal(await auth.verifyOperator('op2fa', `${password} ${totpCode(secret, clock.now())}`), true, 'the next step\'s code is accepted');
  await store.clearLoginFailures((await store.findAccountByLogin('op2fa'))!.id);

  for (let i = 0; i < 5; i++) t.equal(await auth.verifyOperator('op', 'wrong password'), false);
  t.equal(await auth.verifyOperator('op', password), false, 'locked out after five failures, even with the right password');
  t.equal(await auth.isOperator('op'), false, 'and existing editor sessions stop working');
  clock.advanceBy(16 * 60_000);
  t.equal(await auth.verifyOperator('op', password), true, 'the lock ends after 15 minutes');
  const actions = (await store.listAudit()).map((a) => a.action);
  t.ok(actions.includes('account.locked'), 'the lock is audited');
  t.ok(actions.includes('flows.sign-in'), 'editor sign-ins are audited');
});
