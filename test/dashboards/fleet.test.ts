/**
 * The operator's fleet view: problems first, search, filters and paging, in
 * the operator's language, with a fixed number of store calls however many
 * homes there are (no N+1).
 */
import t from 'tap';
import { setup, signIn, type Fixture } from './helpers.js';
import { fleetPageSize } from '../../dashboards/routes-fleet.js';
import { operatorPageSize } from '../../dashboards/routes-operator.js';

const rowsOf = (body: string) => [...body.matchAll(/<tr data-home="([^"]+)"/g)].map((m) => m[1]);

/** Counts calls of every store method from now on. */
function countCalls(f: Fixture): Map<string, number> {
  const calls = new Map<string, number>();
  const store = f.store as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(store)) {
    if (typeof fn !== 'function') continue;
    store[name] = (...args: unknown[]) => { calls.set(name, (calls.get(name) ?? 0) + 1); return (fn as (...a: unknown[]) => unknown).apply(f.store, args); };
  }
  return calls;
}

async function addHomes(f: Fixture, n: number): Promise<void> {
  const at = f.clock.now();
  for (let i = 0; i < n; i++) {
    const id = `z${String(i).padStart(4, '0')}`;
    await f.store.createHome({ id, name: `テスト宅 ${i}`, timezone: 'Asia/Tokyo', createdAt: at });
    await f.store.addResident({ homeId: id, name: `利用者 ${i}`, language: 'ja' });
  }
}

t.test('problems first, search, filters, paging, in Japanese', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const at = f.clock.now();
  await addHomes(f, 70);
  // z0003: a critical alert for the family; z0010: a low battery; z0020: a silent device; z0030: a device and no sign of life (silent home).
  await f.store.openAlert({ homeId: 'z0003', rule: 'no-sign-of-life', severity: 'critical', message: 'x', finding: { message: { en: 'x', ja: 'x' }, audience: 'family' }, openedAt: at });
  await f.store.openAlert({ homeId: 'z0010', rule: 'battery-low', severity: 'warning', message: 'x', finding: { message: { en: 'x', ja: 'x' }, audience: 'operator', device: 'b1' }, openedAt: at });
  await f.store.openAlert({ homeId: 'z0020', rule: 'device-silent', severity: 'warning', message: 'x', finding: { message: { en: 'x', ja: 'x' }, audience: 'operator', device: 'k1' }, openedAt: at });
  await f.store.addDevice({ homeId: 'z0030', deviceId: 'm1', kind: 'motion', secretHash: 'x', createdAt: at });
  const op = await signIn(f, 'op');
  const get = async (url: string) => {
    const res = await f.web.app.inject({ method: 'GET', url, headers: { cookie: op.cookie, accept: 'text/html' } });
    t.equal(res.statusCode, 200, url);
    return res.body;
  };
  const first = await get('/operator/fleet');
  const rows = rowsOf(first);
  t.equal(rows.length, fleetPageSize, 'one page');
  // h1 and h2 of the fixture have a critical help alert each; then z0003 (critical), then silent z0030, the late device, the battery.
  t.same(rows.slice(0, 6), ['h1', 'h2', 'z0003', 'z0030', 'z0020', 'z0010'], 'problems first, worst first');
  t.match(first, '72 軒：アラート対応中 3 軒・反応なし 1 軒・電池わずか 1 軒・データの遅れ 1 軒');
  t.match(first, '72 軒（1 / 2 ページ）');
  t.match(first, '緊急アラート 1 件');
  t.match(first, '機器から報告なし', 'rule ids in words');
  t.match(first, 'rel="next"');
  t.same(rowsOf(await get('/operator/fleet?page=2')).length, 72 - fleetPageSize, 'the rest on page 2');
  t.same(rowsOf(await get('/operator/fleet?filter=problems')), ['h1', 'h2', 'z0003', 'z0030', 'z0020', 'z0010']);
  t.same(rowsOf(await get('/operator/fleet?filter=battery')), ['z0010']);
  t.same(rowsOf(await get('/operator/fleet?filter=late')), ['z0020']);
  t.same(rowsOf(await get('/operator/fleet?filter=silent')), ['z0030']);
  t.same(rowsOf(await get(`/operator/fleet?q=${encodeURIComponent('利用者 42')}`)), ['z0042'], 'search by resident name');
  t.same(rowsOf(await get('/operator/fleet?q=Z0061')), ['z0061'], 'search by id, any case');
  t.equal((await f.web.app.inject({ method: 'GET', url: '/operator/fleet?filter=nonsense', headers: { cookie: op.cookie, accept: 'text/html' } })).statusCode, 400, 'a bad filter is refused');
  const fam = await signIn(f, 'guardian1');
  t.equal((await f.web.app.inject({ method: 'GET', url: '/operator/fleet', headers: { cookie: fam.cookie, accept: 'text/html' } })).statusCode, 403, 'operators only');
});

t.test('the same store calls for 12 homes as for 212: no query per home', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const measure = async () => {
    const calls = countCalls(f);
    const res = await f.web.app.inject({ method: 'GET', url: '/operator/fleet', headers: { cookie: op.cookie, accept: 'text/html' } });
    t.equal(res.statusCode, 200);
    // The access log (per home shown) and the session's last-used time (per clock step) are counted apart.
    const out = Object.fromEntries([...calls].filter(([name]) => name !== 'recordAccess' && name !== 'updateSession'));
    return { out, access: calls.get('recordAccess') ?? 0 };
  };
  await addHomes(f, 10);
  const small = await measure();
  f.clock.advanceBy(6 * 60_000); // past the access log's five minutes per viewer, home and page
  for (let i = 10; i < 210; i++) await f.store.createHome({ id: `z${String(i).padStart(4, '0')}`, name: `宅 ${i}`, timezone: 'Asia/Tokyo', createdAt: f.clock.now() });
  const large = await measure();
  t.equal(small.out.listFleet, 1, 'one fleet summary');
  t.same(large.out, small.out, 'the same calls, whatever the fleet size');
  t.equal(large.access, fleetPageSize, 'the homes on the page are logged as seen, not the whole fleet');
});

t.test('the operator overview: one page of homes in full, problems first, searchable; only that page read and logged', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const at = f.clock.now();
  await addHomes(f, 48); // with the fixture's h1 and h2: 50 homes, three pages
  await f.store.openAlert({ homeId: 'z0040', rule: 'device-silent', severity: 'warning', message: 'x', finding: { message: { en: 'x', ja: 'x' }, audience: 'operator', device: 'k1' }, openedAt: at });
  await f.store.addDevice({ homeId: 'z0040', deviceId: 'k1', kind: 'kettle', secretHash: 'x', createdAt: at });
  const op = await signIn(f, 'op');
  const sectionsOf = (body: string) => [...body.matchAll(/<h2 id="op-([^"]+)">/g)].map((m) => m[1]);
  const get = async (url: string) => {
    const calls = countCalls(f);
    const res = await f.web.app.inject({ method: 'GET', url, headers: { cookie: op.cookie, accept: 'text/html' } });
    t.equal(res.statusCode, 200, url);
    f.clock.advanceBy(6 * 60_000); // past the access log's five minutes per viewer, home and page
    return { body: res.body, calls };
  };
  const first = await get('/operator');
  const homes = sectionsOf(first.body);
  t.equal(homes.length, operatorPageSize, 'one page of homes');
  t.same(homes.slice(0, 3), ['h1', 'h2', 'z0040'], 'homes with open alerts first (the fixture\'s help alerts), then a silent device');
  t.match(first.body, '50 軒（1 / 3 ページ）');
  t.match(first.body, /<td>k1<\/td><td>[^<]+<\/td><td>機器から報告なし<\/td>/, 'device health from the fleet summary');
  t.match(first.body, '利用者 40', 'residents from the fleet summary');
  t.equal(first.calls.get('recordAccess'), operatorPageSize, 'the homes on the page are logged as seen, not every home');
  t.equal(first.calls.get('listContacts'), operatorPageSize, 'contacts read for the page only');
  t.equal(first.calls.get('listDevices'), operatorPageSize);
  t.notOk(first.calls.has('listAlerts'), 'no alert query per home');
  t.match(first.body, /href="\/operator\?page=2" rel="next"/);
  const last = await get('/operator?page=3');
  t.equal(sectionsOf(last.body).length, 50 - 2 * operatorPageSize, 'the rest on page 3');
  t.match(last.body, 'rel="prev"');
  t.notMatch(last.body, 'rel="next"');
  t.same(sectionsOf((await get(`/operator?q=${encodeURIComponent('利用者 42')}`)).body), ['z0042'], 'search by resident name');
  const beyond = await get('/operator?page=99');
  t.same(sectionsOf(beyond.body), sectionsOf(last.body), 'a page past the end shows the last');
  t.equal((await f.web.app.inject({ method: 'GET', url: '/operator?page=0', headers: { cookie: op.cookie, accept: 'text/html' } })).statusCode, 400, 'a bad page is refused');
  const problems = await get('/operator?filter=problems');
  t.match(problems.body, /<h2 id="op-h1">[\s\S]*<h2 id="op-z0040">/, 'the fleet filters apply too');
  t.equal(sectionsOf(problems.body).length, 3);

  // After a change to a home, the operator lands on that home, whichever page it was on.
  const page = await get('/operator?page=3');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const post = await f.web.app.inject({ method: 'POST', url: '/operator/homes/z0047/residents', headers: { cookie: op.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${encodeURIComponent(csrf)}&name=${encodeURIComponent('新しい利用者')}&language=ja` });
  t.equal(post.statusCode, 303);
  t.equal(post.headers.location, '/operator?q=z0047');
  t.match((await get(post.headers.location as string)).body, '新しい利用者');
});
