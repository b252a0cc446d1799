/**
 * The operator's account management (/operator/accounts, issue 14): list,
 * search, role and status filters and paging with exact counts; disable
 * (sign-in refused, sessions gone, the Node-RED editor refused too) and
 * enable; a password reset (temporary password shown once, the old one
 * refused, the new one must be replaced at the next sign-in); an
 * authenticator reset (the next sign-in enrols again); an operator cannot do
 * any of it to themself; every change audited with who, what and when.
 */
import t from 'tap';
import { createOperatorVerifier } from '../../flows/operator-auth.js';
import { messages } from '../../dashboards/i18n.js';
import { password, passwordStep, setup, signIn, testSeedKey, type Fixture, type Session } from './helpers.js';

const html = { accept: 'text/html' };
const rowsOf = (body: string) => [...body.matchAll(/<tr data-account="([^"]+)"/g)].map((m) => m[1]);
const countText = (body: string) => /id="accounts-count" role="status">([^<]+)</.exec(body)?.[1];

async function post(f: Fixture, s: Session, url: string, payload: Record<string, string> = {}) {
  return f.web.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, ...html }, payload: { _csrf: s.csrf, ...payload } });
}

/** Signs in with the password only, through the real form: the HTTP status and the page. */
async function trySignIn(f: Fixture, login: string, pw: string) {
  const form = await f.web.app.inject({ method: 'GET', url: '/signin' });
  const pre = [form.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('mimamori_pre='))!.split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  return f.web.app.inject({ method: 'POST', url: '/signin', headers: { cookie: pre }, payload: { login, password: pw, _csrf: token } });
}

const audits = async (f: Fixture, action: string) => (await f.store.listAudit()).filter((a) => a.action === action).map((a) => ({ actor: a.actor, subject: a.subject, detail: a.detail }));

t.test('list: search by login or name, filter by role and status, 50 a page', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  for (let i = 0; i < 60; i++) await f.store.createAccount({ id: `bulk${String(i).padStart(2, '0')}`, login: `bulk${String(i).padStart(2, '0')}`, name: `一括 ${i}`, role: 'family', language: 'ja', passwordHash: 'x', createdAt: f.clock.now() });
  const op = await signIn(f, 'op');
  const get = (q: string) => f.web.app.inject({ method: 'GET', url: `/operator/accounts${q}`, headers: { cookie: op.cookie, ...html } });

  const all = await get('');
  t.equal(all.statusCode, 200);
  t.equal(countText(all.body), '67 件（1 / 2 ページ）', '7 fixture accounts and 60 more');
  t.equal(rowsOf(all.body).length, 50, 'the first page holds 50');
  t.match(all.body, /rel="next"/);
  const second = await get('?page=2');
  t.equal(rowsOf(second.body).length, 17, 'the second page holds the other 17');
  t.notMatch(second.body, /rel="next"/);
  t.same(rowsOf((await get('?role=operator')).body), ['op'], 'role filter');
  t.equal(countText((await get('?role=family')).body), '63 件（1 / 2 ページ）', 'family1, family2, guardian1 and the 60');
  t.same(rowsOf((await get('?q=FAMILY')).body), ['family1', 'family2'], 'search by login, any case');
  t.same(rowsOf((await get(`?q=${encodeURIComponent('一括 5')}`)).body), ['bulk05', 'bulk50', 'bulk51', 'bulk52', 'bulk53', 'bulk54', 'bulk55', 'bulk56', 'bulk57', 'bulk58', 'bulk59'], 'search by name');
  t.same(rowsOf((await get('?status=disabled')).body), [], 'nobody is disabled yet');
  t.equal((await get('?role=nobody')).statusCode, 400, 'an unknown role is refused');
  // Only operators.
  const fam = await signIn(f, 'family1');
  t.equal((await f.web.app.inject({ method: 'GET', url: '/operator/accounts', headers: { cookie: fam.cookie, ...html } })).statusCode, 403);
  t.equal((await post(f, fam, '/operator/accounts/family2/disable')).statusCode, 403, 'a family member cannot disable anyone');
  t.equal((await f.store.getAccount('family2'))!.disabledAt, undefined);
});

t.test('disable: sign-in refused, every session gone, Node-RED refused; enable lets them back', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const fam = await signIn(f, 'family1');
  await signIn(f, 'family1'); // a second device
  t.equal((await f.store.listSessions('family1')).length, 2);
  await f.store.createAccount({ id: 'op2', login: 'op2', name: 'Second operator', role: 'operator', language: 'ja', passwordHash: (await f.store.getAccount('op'))!.passwordHash, createdAt: f.clock.now() });
  const editor = createOperatorVerifier({ store: f.store, wallClock: f.clock, totpSeedKey: testSeedKey });
  t.equal(await editor.verifyOperator('op2', password), true, 'op2 may open the Node-RED editor before');

  const res = await post(f, op, '/operator/accounts/family1/disable');
  t.equal(res.statusCode, 303);
  t.match(res.headers.location, /^\/operator\/accounts\?q=family1&notice=/);
  t.equal((await f.store.listSessions('family1')).length, 0, 'both sessions ended');
  const after = await f.web.app.inject({ method: 'GET', url: '/family', headers: { cookie: fam.cookie, ...html } });
  t.equal(after.statusCode, 303, 'the old cookie no longer signs in');
  t.match(after.headers.location, /^\/signin/);
  const refused = await trySignIn(f, 'family1', password);
  t.equal(refused.statusCode, 403, 'the right password is refused');
  t.match(refused.body, messages.accountDisabled.ja);
  t.equal((await f.store.listSessions('family1')).length, 0, 'no session was made');
  const wrong = await trySignIn(f, 'family1', 'not the password at all');
  t.equal(wrong.statusCode, 401, 'a wrong password says only that (nothing about the account)');
  const list = await f.web.app.inject({ method: 'GET', url: '/operator/accounts?status=disabled', headers: { cookie: op.cookie, ...html } });
  t.same(rowsOf(list.body), ['family1'], 'listed as disabled');

  t.equal((await post(f, op, '/operator/accounts/op2/disable')).statusCode, 303);
  t.equal(await editor.verifyOperator('op2', password), false, 'a disabled operator cannot open the Node-RED editor');
  t.equal(await editor.isOperator('op2'), false);

  t.equal((await post(f, op, '/operator/accounts/family1/enable')).statusCode, 303);
  t.equal((await trySignIn(f, 'family1', password)).statusCode, 303, 'enabled again: signs in');
  t.same(await audits(f, 'account.disable'), [{ actor: 'op', subject: 'family1', detail: { login: 'family1', sessionsEnded: 2 } }, { actor: 'op', subject: 'op2', detail: { login: 'op2', sessionsEnded: 0 } }]);
  t.same(await audits(f, 'account.enable'), [{ actor: 'op', subject: 'family1', detail: { login: 'family1', sessionsEnded: 0 } }]);
  t.equal((await audits(f, 'signin.disabled')).length, 1, 'the refused sign-in is audited once');
});

t.test('password reset: a temporary password shown once, the old one refused, the person chooses their own', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  await signIn(f, 'care1');
  const res = await post(f, op, '/operator/accounts/care1/password');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'no-store', 'the page with the password is never cached');
  const temp = /id="temporary-password">([^<]+)</.exec(res.body)![1]!;
  t.match(temp, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  t.equal((await f.store.listSessions('care1')).length, 0, 'signed out everywhere');
  t.equal((await trySignIn(f, 'care1', password)).statusCode, 401, 'the old password is refused');
  const list = await f.web.app.inject({ method: 'GET', url: '/operator/accounts?q=care1', headers: { cookie: op.cookie, ...html } });
  t.notMatch(list.body, temp, 'never shown again');
  t.match(list.body, messages.acctMustChange.ja);

  // Password, then the authenticator, then the temporary password must be replaced before anything else.
  const care = await signIn(f, 'care1', temp);
  const queue = await f.web.app.inject({ method: 'GET', url: '/caregiver', headers: { cookie: care.cookie, ...html } });
  t.equal(queue.statusCode, 303);
  t.equal(queue.headers.location, '/account/password');
  t.equal((await f.web.app.inject({ method: 'GET', url: '/homes/h1/alerts.json', headers: { cookie: care.cookie } })).statusCode, 403, 'no data before the change');
  const short = await post(f, care, '/account/password', { current: temp, password: 'short', confirm: 'short' });
  t.equal(short.statusCode, 400);
  t.match(short.body, messages.pwTooShort.ja.replace('{min}', '12'));
  const mine = 'my own new passphrase';
  const changed = await post(f, care, '/account/password', { current: temp, password: mine, confirm: mine });
  t.equal(changed.statusCode, 303);
  t.equal((await f.web.app.inject({ method: 'GET', url: '/caregiver', headers: { cookie: care.cookie, ...html } })).statusCode, 200, 'then every page works');
  t.equal((await trySignIn(f, 'care1', temp)).statusCode, 401, 'the temporary password no longer works');
  t.equal((await trySignIn(f, 'care1', mine)).statusCode, 303, 'the chosen one does');
  t.equal((await f.store.getAccount('care1'))!.mustChangePassword, undefined);
  t.same(await audits(f, 'account.password-reset'), [{ actor: 'op', subject: 'care1', detail: { login: 'care1', sessionsEnded: 1 } }]);
  t.same((await audits(f, 'account.password-change')).map((a) => a.subject), ['care1']);
});

t.test('authenticator reset: sessions end and the next sign-in enrols a new one', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  await signIn(f, 'staff1');
  t.equal((await post(f, op, '/operator/accounts/staff1/totp')).statusCode, 303);
  t.equal((await f.store.getAccount('staff1'))!.totpSecret, undefined);
  t.equal((await f.store.listSessions('staff1')).length, 0);
  const { cookie } = await passwordStep(f, 'staff1');
  const enrol = await f.web.app.inject({ method: 'GET', url: '/signin/totp', headers: { cookie, ...html } });
  t.match(enrol.body, /id="totp-secret"/, 'the enrolment key is shown');
  t.not(/id="totp-secret">([^<]+)</.exec(enrol.body)![1], f.totp.staff1, 'a new key');
  t.equal((await post(f, op, '/operator/accounts/family1/totp')).statusCode, 400, 'an account without an authenticator: nothing to reset');
  t.same((await audits(f, 'account.totp-reset')).map((a) => a.subject), ['staff1']);
});

t.test('an operator cannot disable or reset themself; unknown accounts and actions are 404', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  for (const action of ['disable', 'password', 'totp']) {
    const res = await post(f, op, `/operator/accounts/op/${action}`);
    t.equal(res.statusCode, 400, `${action} of oneself is refused`);
    t.match(res.body, messages.acctSelfRefused.ja);
    t.match(res.body, messages.nothingChanged.ja);
  }
  const me = (await f.store.getAccount('op'))!;
  t.equal(me.disabledAt, undefined);
  t.equal(me.totpSecret !== undefined, true, 'authenticator kept');
  t.equal((await trySignIn(f, 'op', password)).statusCode, 303, 'password kept');
  const list = await f.web.app.inject({ method: 'GET', url: '/operator/accounts?role=operator', headers: { cookie: op.cookie, ...html } });
  t.notMatch(list.body, /action="\/operator\/accounts\/op\//, 'no buttons on one\'s own row');
  t.equal((await post(f, op, '/operator/accounts/nobody/disable')).statusCode, 404);
  t.equal((await post(f, op, '/operator/accounts/family1/delete')).statusCode, 404);
  t.same((await f.store.listAudit()).filter((a) => a.action.startsWith('account.')).length, 0, 'nothing audited: nothing changed');
  // English for an English-speaking operator.
  await f.store.setAccountLanguage('op', 'en');
  t.match((await post(f, op, '/operator/accounts/op/disable')).body, messages.acctSelfRefused.en);
});
