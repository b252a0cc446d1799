/**
 * From the web app into the Node-RED editor without signing in twice: the
 * operator page's button gives a pass bound to the operator's web session
 * (dashboards/editor-pass.ts). Node-RED takes it on its admin API and its
 * live socket; it stops holding when the session ends, the account is no
 * longer an unlocked operator, the second factor is not done, or it expires;
 * a forged or altered pass, or one made with another key, is nobody.
 */
import t from 'tap';
import WebSocket from 'ws';
import { silentLogger } from '../../core/logger.js';
import { createEditorPass, editorPassMs } from '../../dashboards/index.js';
import { createFlows, createOperatorVerifier } from '../../flows/index.js';
import { tempDir } from '../support/wait.js';
import { passwordStep, setup, signIn, testSeedKey } from '../dashboards/helpers.js';
import { startMiniHub } from './helpers.js';

t.test('the pass: bound to a live, second-factor-checked operator session; forged, altered, other-key and expired passes are nobody', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const pass = createEditorPass({ store: f.store, wallClock: f.clock, key: testSeedKey });
  const other = createEditorPass({ store: f.store, wallClock: f.clock, key: Buffer.alloc(32, 8) });
  await signIn(f, 'op');
  await signIn(f, 'care1');
  const opSession = (await f.store.listSessions('op'))[0]!;
  const careSession = (await f.store.listSessions('care1'))[0]!;

  const good = pass.issue(opSession);
  t.equal(await pass.check(good), 'op', 'a pass for an operator session stands for that operator');
  t.equal(await other.check(good), null, 'a pass made with another key is nobody');
  t.equal(await pass.check(other.issue(opSession)), null, 'and the other way round');
  const [sid, expires, mac] = good.split('.') as [string, string, string];
  t.equal(await pass.check(`${sid}.${Number(expires) + 3600_000}.${mac}`), null, 'a longer expiry written in breaks the signature');
  t.equal(await pass.check(`${careSession.id}.${expires}.${mac}`), null, 'another session id written in breaks the signature');
  t.equal(await pass.check(`${sid}.${expires}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`), null, 'one character of the signature changed');
  for (const junk of ['', 'x', 'a.b.c', `${good}.more`, `${sid}.${expires}`, 'Bearer '.repeat(40)]) t.equal(await pass.check(junk), null, `malformed: ${JSON.stringify(junk.slice(0, 20))}`);
  t.equal(await pass.check(pass.issue(careSession)), null, 'a caregiver session is not an operator');

  // A session whose second factor is not done yet.
  const half = await passwordStep(f, 'op');
  t.equal(half.next, '/signin/totp');
  const halfSession = (await f.store.listSessions('op')).find((s) => !s.mfaOk)!;
  t.ok(halfSession, 'the password step made a session waiting for its code');
  t.equal(await pass.check(pass.issue(halfSession)), null, 'the password alone does not open the editor');

  // Expiry in wall-clock time.
  f.clock.advanceBy(editorPassMs - 1000);
  t.equal(await pass.check(good), 'op', 'still good just before its expiry');
  f.clock.advanceBy(2000);
  t.equal(await pass.check(good), null, 'expired');

  // Locked, disabled, demoted, signed out: each ends a fresh pass.
  const fresh = pass.issue(opSession);
  t.equal(await pass.check(fresh), 'op');
  await f.store.setAccountLockedUntil('op', f.clock.now() + 60_000);
  t.equal(await pass.check(fresh), null, 'a locked account');
  f.clock.advanceBy(61_000);
  t.equal(await pass.check(fresh), 'op', 'the lock over, the pass holds again (the session was not ended)');
  await f.store.deleteSession(opSession.id);
  t.equal(await pass.check(fresh), null, 'the web session ended: so does the pass');
});

t.test('the operator page opens the editor with a pass; Node-RED takes it until the operator signs out of the web app', async (t) => {
  const f = await setup({ flowsEditorPath: '/flows' });
  t.teardown(() => f.close());
  const mini = await startMiniHub();
  t.teardown(() => mini.close());
  await f.web.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(f.web.app.server.address() as { port: number }).port}`;
  const flows = await createFlows({
    dataDir: tempDir(t), credentialSecret: 'a credential secret for tests', logger: silentLogger(), clock: f.clock, server: f.web.app.server,
    api: mini.bridge, auth: createOperatorVerifier({ store: f.store, wallClock: f.clock, totpSeedKey: testSeedKey }),
  });
  t.teardown(() => flows.close());

  const op = await signIn(f, 'op');
  const page = await f.web.app.inject({ method: 'GET', url: '/operator', headers: { cookie: op.cookie } });
  t.match(page.body, /<form method="post" action="\/operator\/flows-editor" id="flows-editor"><input type="hidden" name="_csrf"/, 'the operator page has the button, with its CSRF token');

  const noCsrf = await f.web.app.inject({ method: 'POST', url: '/operator/flows-editor', headers: { cookie: op.cookie }, payload: {} });
  t.equal(noCsrf.statusCode, 403, 'without the form\'s CSRF token: refused, no pass');
  const care = await signIn(f, 'care1');
  const notOp = await f.web.app.inject({ method: 'POST', url: '/operator/flows-editor', headers: { cookie: care.cookie }, payload: { _csrf: care.csrf } });
  t.equal(notOp.statusCode, 403, 'a caregiver gets no pass');
  t.notMatch(String(notOp.headers.location ?? ''), /access_token/);

  const opened = await f.web.app.inject({ method: 'POST', url: '/operator/flows-editor', headers: { cookie: op.cookie }, payload: { _csrf: op.csrf } });
  t.equal(opened.statusCode, 303);
  t.equal(opened.headers['cache-control'], 'no-store');
  const location = String(opened.headers.location);
  const m = /^\/flows\/\?access_token=([^&]+)$/.exec(location);
  t.ok(m, `to the editor with the pass (${location.slice(0, 30)}…)`);
  const token = decodeURIComponent(m![1]!);
  t.ok((await f.store.listAudit()).some((a) => a.action === 'flows.open' && a.actor === 'op'), 'opening the editor is audited');

  // What the editor does with it: Bearer on every admin request, and the token on its socket.
  const bearer = { authorization: `Bearer ${token}`, accept: 'application/json' };
  const settings = await fetch(`${base}/flows/settings`, { headers: bearer });
  t.equal(settings.status, 200, 'the admin API takes the pass');
  t.match(await settings.json(), { user: { username: 'op' } }, 'as the operator it stands for');
  t.equal((await fetch(`${base}/flows/nodes`, { headers: bearer })).status, 200);
  t.equal((await fetch(`${base}/flows/settings`, { headers: { authorization: `Bearer ${token.slice(0, -2)}xx`, accept: 'application/json' } })).status, 401, 'an altered pass: 401');

  const socketAuth = async (auth: string) => {
    const comms = new WebSocket(`${base.replace('http', 'ws')}/flows/comms`);
    await new Promise<void>((resolve, reject) => { comms.once('open', () => resolve()); comms.once('error', reject); });
    const reply = new Promise<unknown>((resolve) => comms.once('message', (d) => resolve(JSON.parse(String(d)))));
    comms.send(JSON.stringify({ auth }));
    const answer = await reply;
    comms.close();
    return answer;
  };
  t.same(await socketAuth(token), { auth: 'ok' }, 'the editor\'s live socket takes the pass');
  t.same(await socketAuth(`${token.slice(0, -2)}xx`), { auth: 'fail' }, 'and refuses an altered one');

  const signedOut = await f.web.app.inject({ method: 'POST', url: '/signout', headers: { cookie: op.cookie }, payload: { _csrf: op.csrf } });
  t.equal(signedOut.statusCode, 303, 'the operator signs out of the web app');
  t.equal((await fetch(`${base}/flows/settings`, { headers: bearer })).status, 401, 'and the editor no longer takes the pass');
});

t.test('without a flows editor, the operator page has no button and the route does not exist', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  t.notMatch((await f.web.app.inject({ method: 'GET', url: '/operator', headers: { cookie: op.cookie } })).body, /flows-editor/);
  t.equal((await f.web.app.inject({ method: 'POST', url: '/operator/flows-editor', headers: { cookie: op.cookie }, payload: { _csrf: op.csrf } })).statusCode, 404);
});
