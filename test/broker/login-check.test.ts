import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { createSqliteStore, type Store } from '../../core/store.js';
import { provisionDevice, provisionService, rotateDeviceSecret, verifySecret } from '../../broker/device-credentials.js';
import { createLoginCheck, type LoginCheckOptions } from '../../broker/login-check.js';

const start = Date.parse('2026-11-21T07:00:00+09:00');

/** A login check over a real SQLite store whose slow path (scrypt) is counted. */
async function setUp(tt: Test, more: Partial<LoginCheckOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-login-check-'));
  const file = join(dir, 'hub.db');
  const store: Store = createSqliteStore(file);
  tt.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  await store.createHome({ id: 'h1', name: 'n', timezone: 'Asia/Tokyo' });
  const clock = new VirtualClock(start);
  const slow: string[] = [];
  const check = createLoginCheck({ store, clock, ...more, verify: async (secret, encoded) => { slow.push(secret); return verifySecret(secret, encoded); } });
  const login = (username: string, password: string) => check(username, Buffer.from(password));
  return { store, file, clock, slow, check, login };
}

t.test('a repeat login with the right secret skips scrypt; a wrong one never matches the cache', async (t) => {
  const { store, slow, check, login } = await setUp(t);
  const kettle = await provisionDevice(store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  t.match(await login(kettle.username, kettle.secret), { ok: true, identity: { type: 'device', home: 'h1', device: 'kettle' } });
  t.match(await login(kettle.username, kettle.secret), { ok: true });
  t.match(await login(kettle.username, kettle.secret), { ok: true });
  t.equal(slow.length, 1, 'one scrypt for three logins');
  t.equal(check.cached(), 1);

  // Wrong passwords, including ones that differ from the secret by one character or by length, take the slow path and fail.
  const wrong = [`${kettle.secret.slice(0, -1)}${kettle.secret.endsWith('A') ? 'B' : 'A'}`, `${kettle.secret}x`, kettle.secret.slice(1), ''];
  for (const w of wrong) t.same(await login(kettle.username, w), { ok: false, reason: 'bad_secret' }, `refused: ${JSON.stringify(w.slice(0, 8))}…`);
  t.equal(slow.length, 1 + wrong.length, 'every wrong password was checked by scrypt');
  t.same(await check(kettle.username, undefined), { ok: false, reason: 'bad_secret' }, 'no password at all');

  // The cached secret of one device does not open another.
  const door = await provisionDevice(store, { homeId: 'h1', deviceId: 'door', kind: 'door' });
  t.same(await login(door.username, kettle.secret), { ok: false, reason: 'bad_secret' }, "the kettle's secret does not open the door");
  t.match(await login(door.username, door.secret), { ok: true });
  t.match(await login(kettle.username, kettle.secret), { ok: true }, 'the right secret is still remembered after the failures');
  t.equal(slow.length, 1 + wrong.length + 1 + 1 + 1, 'no password, the door with the kettle secret, the door once');
});

t.test('a rotated secret is refused at once and the old entry dropped', async (t) => {
  const { store, slow, check, login } = await setUp(t);
  const kettle = await provisionDevice(store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  t.match(await login(kettle.username, kettle.secret), { ok: true });
  const rotated = await rotateDeviceSecret(store, 'h1', 'kettle');
  t.same(await login(kettle.username, kettle.secret), { ok: false, reason: 'bad_secret' }, 'old secret refused right after the rotation');
  t.equal(check.cached(), 0, 'the entry verified against the old hash is gone');
  t.match(await login(kettle.username, rotated.secret), { ok: true });
  t.match(await login(kettle.username, rotated.secret), { ok: true });
  t.equal(slow.length, 1 + 1 + 1, 'the first login, the refused old secret, the new secret once');

  // Services rotate by provisioning again.
  const svc = await provisionService(store, 'flows');
  t.match(await login(svc.username, svc.secret), { ok: true });
  await provisionService(store, 'flows');
  t.same(await login(svc.username, svc.secret), { ok: false, reason: 'bad_secret' }, 'the old service secret is refused at once');
});

t.test('a disabled or removed device is refused at once, and its entry dropped', async (t) => {
  const { store, file, slow, check, login } = await setUp(t);
  const kettle = await provisionDevice(store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  t.match(await login(kettle.username, kettle.secret), { ok: true });
  // The store has no call to disable a device yet; flip the column as an operator would.
  const db = new Database(file);
  t.teardown(() => db.close());
  db.prepare('UPDATE devices SET disabled = 1 WHERE home_id = ? AND device_id = ?').run('h1', 'kettle');
  t.same(await login(kettle.username, kettle.secret), { ok: false, reason: 'disabled' });
  t.equal(check.cached(), 0, 'dropped while disabled');
  db.prepare('UPDATE devices SET disabled = 0 WHERE home_id = ? AND device_id = ?').run('h1', 'kettle');
  t.match(await login(kettle.username, kettle.secret), { ok: true });
  t.equal(slow.length, 2, 're-enabled: verified by scrypt again, not from the old entry');
  db.prepare('DELETE FROM devices WHERE home_id = ? AND device_id = ?').run('h1', 'kettle');
  t.same(await login(kettle.username, kettle.secret), { ok: false, reason: 'unknown_user' }, 'a removed device is refused (after a dummy scrypt)');
  t.equal(check.cached(), 0, 'dropped once removed');
  t.same(await login('not a username', kettle.secret), { ok: false, reason: 'malformed_username' });
});

t.test('entries expire after cacheMs and the cache holds at most maxEntries, least recently used out first', async (t) => {
  const { store, clock, slow, check, login } = await setUp(t, { cacheMs: 60_000, maxEntries: 2 });
  const a = await provisionDevice(store, { homeId: 'h1', deviceId: 'a', kind: 'power' });
  const b = await provisionDevice(store, { homeId: 'h1', deviceId: 'b', kind: 'power' });
  const c = await provisionDevice(store, { homeId: 'h1', deviceId: 'c', kind: 'power' });
  await login(a.username, a.secret);
  await login(b.username, b.secret);
  await login(a.username, a.secret); // a is now the most recently used
  t.equal(slow.length, 2);
  await login(c.username, c.secret); // b goes
  t.equal(check.cached(), 2);
  await login(a.username, a.secret);
  t.equal(slow.length, 3, 'a was kept');
  await login(b.username, b.secret);
  t.equal(slow.length, 4, 'b was evicted and verified again');

  clock.advanceBy(60_000);
  t.match(await login(b.username, b.secret), { ok: true });
  t.equal(slow.length, 5, 'expired after cacheMs: verified again');
});

t.test('a login storm runs at most maxParallelChecks scrypt checks at once, and every login still gets its answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-login-check-'));
  const store: Store = createSqliteStore(join(dir, 'hub.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  await store.createHome({ id: 'h1', name: 'n', timezone: 'Asia/Tokyo' });
  const devices = await Promise.all(Array.from({ length: 6 }, (_, i) => provisionDevice(store, { homeId: 'h1', deviceId: `d${i}`, kind: 'power' })));
  let inFlight = 0;
  let most = 0;
  const check = createLoginCheck({
    store, clock: new VirtualClock(start), maxParallelChecks: 2,
    verify: async (secret, encoded) => {
      most = Math.max(most, ++inFlight);
      try { return await verifySecret(secret, encoded); } finally { inFlight--; }
    },
  });
  // All six at once, as after a hub restart; one with a wrong secret.
  const results = await Promise.all(devices.map((d, i) => check(d.username, Buffer.from(i === 5 ? 'wrong' : d.secret))));
  t.equal(most, 2, 'never more than two scrypt checks in flight');
  t.same(results.map((r) => r.ok), [true, true, true, true, true, false]);
  t.equal(inFlight, 0);
});
