/** Sign-in through the real routes: lockout, TOTP, CSRF, session revoke, cookies, rate limit, password length. */
import t from 'tap';
import { VirtualWallClock } from '../../core/clock.js';
import { isSealedSeed, openSeed, otpauthUri, sealPlaintextSeeds, sealSeed, totpCode, totpStep } from '../../dashboards/totp.js';
import { password, setup, signIn, start, testSeedKey, type Fixture } from './helpers.js';

async function tryPassword(f: Fixture, login: string, pw: string, ip = '127.0.0.1') {
  const form = await f.web.app.inject({ method: 'GET', url: '/signin' });
  const pre = [form.headers['set-cookie']].flat().find((c) => c?.startsWith('mimamori_pre='))!.split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  return f.web.app.inject({ method: 'POST', url: '/signin', remoteAddress: ip, headers: { cookie: pre }, payload: { login, password: pw, _csrf: token } });
}

t.test("an attacker flooding a caregiver's login from their address cannot lock her out from hers", async (t) => {
  const wall = new VirtualWallClock(start);
  const f = await setup({ wallClock: wall });
  t.teardown(() => f.close());
  const attacker = '10.6.6.6';
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await tryPassword(f, 'care1', 'wrong password!!', attacker)).statusCode);
  t.same(statuses, [401, 401, 401, 401, 429, 429, 429, 429], 'four refusals, the fifth starts a back-off, three refused while it runs');
  const fromHer = await tryPassword(f, 'care1', password, '192.0.2.10');
  t.equal(fromHer.statusCode, 303, 'the caregiver signs in at once from her own address');
  t.equal(fromHer.headers.location, '/signin/totp');
  const blocked = await tryPassword(f, 'care1', password, attacker);
  t.equal(blocked.statusCode, 429, 'the right password from the failing address waits out the back-off');
  t.match(blocked.body, /wait before trying again|しばらくログインできません/);
  wall.advanceBy(59_999);
  t.equal((await tryPassword(f, 'care1', password, attacker)).statusCode, 429, 'still waiting 1 ms before the minute is up');
  wall.advanceBy(1);
  t.equal((await tryPassword(f, 'care1', password, attacker)).statusCode, 303, 'a minute later the address may try again');
  t.equal((await f.store.listAudit('care1')).filter((a) => a.action === 'signin.backoff').length, 1, 'the back-off is audited once');
});

t.test('sign-in back-off doubles per further failure from the same address, measured on the wall clock', async (t) => {
  const wall = new VirtualWallClock(start);
  const f = await setup({ wallClock: wall });
  t.teardown(() => f.close());
  const ip = '10.6.6.7';
  for (let i = 0; i < 5; i++) await tryPassword(f, 'family1', 'wrong password!!', ip);
  wall.advanceBy(60_000);
  t.equal((await tryPassword(f, 'family1', 'wrong password!!', ip)).statusCode, 429, 'the sixth failure starts a two-minute back-off');
  f.clock.advanceBy(24 * 3600_000); // the demo's sped-up clock moving on does not lift it
  wall.advanceBy(119_999);
  t.equal((await tryPassword(f, 'family1', password, ip)).statusCode, 429);
  wall.advanceBy(1);
  t.equal((await tryPassword(f, 'family1', password, ip)).statusCode, 303);
});

t.test('rate limit per address on sign-in', async (t) => {
  const f = await setup({ signInPerMinute: 3 });
  t.teardown(() => f.close());
  for (let i = 0; i < 3; i++) t.equal((await tryPassword(f, `nobody${i}`, 'x'.repeat(12), '10.0.0.9')).statusCode, 401);
  t.equal((await tryPassword(f, 'family1', password, '10.0.0.9')).statusCode, 429, 'fourth attempt in a minute refused');
  t.equal((await tryPassword(f, 'family1', password, '10.0.0.8')).statusCode, 303, 'another address is not affected');
});

t.test('TOTP is required for staff, and a wrong code keeps them out', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const res = await tryPassword(f, 'staff1', password);
  t.equal(res.headers.location, '/signin/totp');
  const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('mimamori_session='))!.split(';')[0]!;
  t.equal((await f.web.app.inject({ method: 'GET', url: '/staff', headers: { cookie, accept: 'application/json' } })).statusCode, 401, 'no staff page before the second factor');
  const page = await f.web.app.inject({ method: 'GET', url: '/signin/totp', headers: { cookie, accept: 'text/html' } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const wrong = await f.web.app.inject({ method: 'POST', url: '/signin/totp', headers: { cookie }, payload: { _csrf: csrf, code: '000000' === totpCode(f.totp.staff1!, f.clock.now()) ? '111111' : '000000' } });
  t.equal(wrong.statusCode, 401);
  const ok = await f.web.app.inject({ method: 'POST', url: '/signin/totp', headers: { cookie }, payload: { _csrf: csrf, code: totpCode(f.totp.staff1!, f.clock.now()) } });
  t.equal(ok.statusCode, 303);
  t.equal((await f.web.app.inject({ method: 'GET', url: '/staff', headers: { cookie, accept: 'text/html' } })).statusCode, 200, 'staff page after TOTP');
});

t.test('TOTP enrolment for a staff member without a secret', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  await f.store.setAccountTotp('care1', null);
  const res = await tryPassword(f, 'care1', password);
  const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('mimamori_session='))!.split(';')[0]!;
  const page = await f.web.app.inject({ method: 'GET', url: '/signin/totp', headers: { cookie, accept: 'text/html' } });
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page.body)![1]!;
  t.match(page.body, /otpauth:\/\/totp\//);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const ok = await f.web.app.inject({ method: 'POST', url: '/signin/totp', headers: { cookie }, payload: { _csrf: csrf, secret, code: totpCode(secret, f.clock.now()) } });
  t.equal(ok.statusCode, 303);
  const stored = (await f.store.getAccount('care1'))!.totpSecret!;
  t.ok(isSealedSeed(stored), 'secret saved once confirmed, sealed');
  t.notOk(stored.includes(secret), 'the seed is not readable at rest');
  t.equal(openSeed(testSeedKey, 'care1', stored), secret, 'and opens with the hub key to the seed the app scanned');
  t.throws(() => openSeed(testSeedKey, 'staff1', stored), 'a sealed seed copied to another account does not open');
  t.throws(() => openSeed(Buffer.alloc(32, 8), 'care1', stored), 'nor with another key');
});

async function totpSession(f: Fixture, login: string, ip = '127.0.0.1') {
  const res = await tryPassword(f, login, password, ip);
  const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('mimamori_session='))!.split(';')[0]!;
  const page = await f.web.app.inject({ method: 'GET', url: '/signin/totp', headers: { cookie, accept: 'text/html' } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  return async (code: string) => (await f.web.app.inject({ method: 'POST', url: '/signin/totp', remoteAddress: ip, headers: { cookie }, payload: { _csrf: csrf, code } })).statusCode;
}

t.test('a TOTP code is accepted once: replayed in other sessions within its window it is refused', async (t) => {
  const wall = new VirtualWallClock(start);
  const f = await setup({ wallClock: wall });
  t.teardown(() => f.close());
  const code = totpCode(f.totp.care1!, wall.now());
  const statuses = [];
  for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) statuses.push(await (await totpSession(f, 'care1', ip))(code));
  t.same(statuses, [303, 401, 401], 'one code, three sessions: only the first gets in');
  wall.advanceBy(20_000);
  t.equal(await (await totpSession(f, 'care1', '192.0.2.4'))(code), 401, 'still refused 20 s later, inside its window');
  const replays = (await f.store.listAudit('care1')).filter((a) => a.action === 'session.second-factor-replayed');
  t.equal(replays.length, 3, 'each replay is audited');
  wall.advanceBy(15_000);
  t.equal(await (await totpSession(f, 'care1', '192.0.2.5'))(totpCode(f.totp.care1!, wall.now())), 303, "the next step's code is accepted");
  t.equal(await (await totpSession(f, 'staff1', '192.0.2.6'))(totpCode(f.totp.staff1!, start)), 303, "another account's step is its own");
});

t.test('plaintext seeds from before migration 9 are sealed once, and sign-in still works', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  t.equal(await sealPlaintextSeeds(f.store, testSeedKey), 3, 'staff1, care1 and op had plaintext seeds');
  t.equal(await sealPlaintextSeeds(f.store, testSeedKey), 0, 'a second run changes nothing');
  for (const login of ['staff1', 'care1', 'op']) t.ok(isSealedSeed((await f.store.getAccount(login))!.totpSecret!), `${login} sealed`);
  t.equal(await (await totpSession(f, 'care1'))(totpCode(f.totp.care1!, f.clock.now())), 303, 'the authenticator app keeps working');
});

t.test('TOTP through otpauth stays compatible with RFC 6238 and earlier seeds', async (t) => {
  // RFC 6238 Appendix B, SHA-1 seed "12345678901234567890": 94287082 at T=59 s, 07081804 at T=1111111109 s (last 6 digits).
  const rfcSeed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  t.equal(totpCode(rfcSeed, 59_000), '287082');
  t.equal(totpCode(rfcSeed, 1_111_111_109_000), '081804');
  t.equal(totpStep(rfcSeed, '287082', 59_000), 1, 'the step of a current code');
  t.equal(totpStep(rfcSeed, '287082', 89_000), 1, 'one step of drift is allowed');
  t.equal(totpStep(rfcSeed, '287082', 120_000), undefined, 'two steps late is refused');
  t.equal(totpStep(rfcSeed, '28708x', 59_000), undefined, 'not six digits');
  t.match(otpauthUri(rfcSeed, 'care1'), /^otpauth:\/\/totp\/mimamori:care1\?.*secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ/);
  t.equal(openSeed(testSeedKey, 'a', sealSeed(testSeedKey, 'a', rfcSeed)), rfcSeed, 'seal and open round-trip');
  t.equal(openSeed(testSeedKey, 'a', rfcSeed), rfcSeed, 'a plaintext seed is read as it is');
});

t.test('CSRF: a state-changing request without the token changes nothing', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const s = await signIn(f, 'family1');
  const no = await f.web.app.inject({ method: 'POST', url: '/homes/h1/questions', headers: { cookie: s.cookie, accept: 'text/html' }, payload: { body: 'hello?' } });
  t.equal(no.statusCode, 403);
  t.match(no.body, /expired/);
  const wrong = await f.web.app.inject({ method: 'POST', url: `/alerts/${f.ids.alert1}/acknowledge`, headers: { cookie: s.cookie }, payload: { _csrf: 'x'.repeat(43) } });
  t.equal(wrong.statusCode, 403);
  t.equal((await f.store.listQuestions('h1')).length, 0, 'no question saved');
  t.equal((await f.store.getAlert(f.ids.alert1))?.status, 'open', 'alert untouched');
  const yes = await f.web.app.inject({ method: 'POST', url: '/homes/h1/questions', headers: { cookie: s.cookie }, payload: { body: 'hello?', _csrf: s.csrf } });
  t.equal(yes.statusCode, 303);
  t.equal((await f.store.listQuestions('h1')).length, 1, 'with the token it works');
  // Sign-in itself needs the pre-session double-submit token.
  const bare = await f.web.app.inject({ method: 'POST', url: '/signin', payload: { login: 'family1', password } });
  t.equal(bare.statusCode, 403);
});

t.test('sessions are listed and a lost phone is signed out remotely; cookies are HttpOnly, SameSite=Strict', async (t) => {
  const f = await setup({ secureCookies: true });
  t.teardown(() => f.close());
  const res = await tryPassword(f, 'family1', password);
  const set = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('mimamori_session='))!;
  t.match(set, /HttpOnly/);
  t.match(set, /SameSite=Strict/);
  t.match(set, /Secure/);
  const laptop = await signIn(f, 'family1');
  // Sessions list oldest first (ties within one millisecond by id, store contract): the phone signs in a second later.
  f.clock.advanceBy(1_000);
  const phone = await signIn(f, 'family1');
  const sessions = await f.store.listSessions('family1');
  t.equal(sessions.length, 3);
  const page = await f.web.app.inject({ method: 'GET', url: '/account', headers: { cookie: laptop.cookie, accept: 'text/html' } });
  const ids = [...page.body.matchAll(/action="\/account\/sessions\/([^/]+)\/revoke"/g)].map((m) => decodeURIComponent(m[1]!));
  t.equal(ids.length, 3, 'every session is listed');
  const phoneSession = sessions[2]!.id;
  const revoke = await f.web.app.inject({ method: 'POST', url: `/account/sessions/${encodeURIComponent(phoneSession)}/revoke`, headers: { cookie: laptop.cookie }, payload: { _csrf: laptop.csrf } });
  t.equal(revoke.statusCode, 303);
  t.equal((await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: phone.cookie, accept: 'application/json' } })).statusCode, 401, 'the phone is signed out');
  t.equal((await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: laptop.cookie, accept: 'application/json' } })).statusCode, 200, 'the laptop is not');
  // Someone else's session cannot be revoked.
  const other = await signIn(f, 'family2');
  const steal = await f.web.app.inject({ method: 'POST', url: `/account/sessions/${encodeURIComponent(sessions[1]!.id)}/revoke`, headers: { cookie: other.cookie }, payload: { _csrf: other.csrf } });
  t.equal(steal.statusCode, 404);
});

t.test('passwords shorter than 12 characters are refused', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const short = await f.web.app.inject({ method: 'POST', url: '/operator/accounts', headers: { cookie: op.cookie, accept: 'text/html' }, payload: { _csrf: op.csrf, login: 'newbie', name: 'N', role: 'family', language: 'ja', password: 'elevenchars' } });
  t.equal(short.statusCode, 400);
  t.match(short.body, /12 characters/);
  t.equal(await f.store.findAccountByLogin('newbie'), undefined, 'no account created');
  const ok = await f.web.app.inject({ method: 'POST', url: '/operator/accounts', headers: { cookie: op.cookie }, payload: { _csrf: op.csrf, login: 'newbie', name: 'N', role: 'family', language: 'ja', password: 'twelve chars' } });
  t.equal(ok.statusCode, 303);
  t.equal((await tryPassword(f, 'newbie', 'twelve chars')).statusCode, 303, 'the new account signs in');
});

t.test('TOTP codes are throttled per (account, address): wrong codes from one address do not lock the caregiver out from hers', async (t) => {
  const wall = new VirtualWallClock(start);
  const f = await setup({ wallClock: wall });
  t.teardown(() => f.close());
  /** Signs in with the password from `ip`; returns a function posting TOTP codes from the same address in that session. */
  async function session(ip: string) {
    const res = await tryPassword(f, 'care1', password, ip);
    const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('mimamori_session='))!.split(';')[0]!;
    const page = await f.web.app.inject({ method: 'GET', url: '/signin/totp', headers: { cookie, accept: 'text/html' } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    return async (code: string) => (await f.web.app.inject({ method: 'POST', url: '/signin/totp', remoteAddress: ip, headers: { cookie }, payload: { _csrf: csrf, code } })).statusCode;
  }
  const right = () => totpCode(f.totp.care1!, f.clock.now());
  const wrong = () => String((Number(right()) + 1) % 1_000_000).padStart(6, '0');
  const attacker = await session('10.6.6.6');
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push(await attacker(wrong()));
  t.same(statuses, [401, 401, 401, 401, 429], 'four wrong codes, the fifth starts a back-off (and ends that session)');
  t.equal(await (await session('10.6.6.6'))(right()), 429, 'the right code from the failing address waits');
  t.equal(await (await session('192.0.2.10'))(right()), 303, 'the caregiver completes her second factor from her own address');
});
