/**
 * The operator's facilities page (/operator/facilities, issue 14): register a
 * facility, enrol a home, end an enrolment — each audited with who and when,
 * CSRF-checked, operators only; the staff page shows exactly the homes
 * enrolled. An unknown facility or home is refused with the reason in the
 * operator's language, nothing stored, and what was typed still in the form.
 */
import t from 'tap';
import { messages } from '../../dashboards/i18n.js';
import { setup, signIn, type Fixture, type Session } from './helpers.js';

const html = { accept: 'text/html' };
const post = (f: Fixture, s: Session, url: string, payload: Record<string, string>) =>
  f.web.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, ...html }, payload: { _csrf: s.csrf, ...payload } });
const get = (f: Fixture, s: Session, url: string) => f.web.app.inject({ method: 'GET', url, headers: { cookie: s.cookie, ...html } });
const enrolled = (body: string) => [...body.matchAll(/<tr data-enrollment="([^"]+)"/g)].map((m) => m[1]);
const audits = async (f: Fixture) => (await f.store.listAudit()).filter((a) => a.action.startsWith('facility.')).map((a) => [a.actor, a.action, a.subject, a.detail]);
/** The homes a staff member's page lists (links to each home's page). */
const staffHomes = async (f: Fixture, s: Session) => [...(await get(f, s, '/staff')).body.matchAll(/href="\/homes\/([^"/]+)"/g)].map((m) => m[1]).filter((h, i, all) => all.indexOf(h) === i).sort();

t.test('register a facility, enrol homes, end an enrolment: audited, and the staff page follows', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const staff = await signIn(f, 'staff1');
  t.same(await staffHomes(f, staff), ['h1'], 'the fixture: f1 has h1');

  const page = await get(f, op, '/operator/facilities');
  t.equal(page.statusCode, 200);
  t.match(page.body, /id="facilities-count" role="status">1 施設/);
  t.same(enrolled(page.body), ['f1/h1']);
  t.match(page.body, /デイサービスさくら \(f1\)/);
  t.match(page.body, /職員アカウント: 1 人/);
  t.match(page.body, /<datalist id="home-ids"><option value="h1">Home h1<\/option><option value="h2">Home h2<\/option><\/datalist>/, 'homes offered by id with their names');
  t.match((await get(f, op, '/operator')).body, /<a href="\/operator\/facilities" id="facilities-link">/, 'linked from the operator page');

  const created = await post(f, op, '/operator/facilities', { id: 'dc2', name: 'デイケア ひまわり' });
  t.equal(created.statusCode, 303);
  t.match(decodeURIComponent(String(created.headers.location)), /^\/operator\/facilities\?notice=施設「デイケア ひまわり」を登録しました#facility-dc2$/);
  t.same((await f.store.getFacility('dc2'))?.name, 'デイケア ひまわり');

  t.equal((await post(f, op, '/operator/enrollments', { facility: 'f1', home: 'h2' })).statusCode, 303);
  t.equal((await post(f, op, '/operator/enrollments', { facility: 'dc2', home: 'h2' })).statusCode, 303);
  const again = await post(f, op, '/operator/enrollments', { facility: 'f1', home: 'h2' });
  t.match(decodeURIComponent(String(again.headers.location)), /すでに利用登録されています/, 'enrolling twice is no change');
  t.same(await staffHomes(f, staff), ['h1', 'h2'], 'staff of f1 now see h2');
  t.same(enrolled((await get(f, op, '/operator/facilities')).body), ['dc2/h2', 'f1/h1', 'f1/h2'], 'by facility id, then home');
  t.match((await get(f, op, '/operator')).body, /<p data-facilities="h2">利用しているデイサービス: デイケア ひまわり、デイサービスさくら/, 'each home says where it goes');

  const ended = await post(f, op, '/operator/enrollments/end', { facility: 'f1', home: 'h1' });
  t.equal(ended.statusCode, 303);
  t.match(decodeURIComponent(String(ended.headers.location)), /お宅 h1 の利用を終了しました#facility-f1$/);
  t.same(await staffHomes(f, staff), ['h2'], 'f1\'s staff no longer see h1');
  t.equal((await get(f, staff, '/homes/h1')).statusCode, 403, 'nor its page');

  t.same(await audits(f), [
    ['op', 'facility.create', 'dc2', { name: 'デイケア ひまわり' }],
    ['op', 'facility.enroll', 'h2', { facility: 'f1' }],
    ['op', 'facility.enroll', 'h2', { facility: 'dc2' }],
    ['op', 'facility.leave', 'h1', { facility: 'f1' }],
  ], 'each change once, with who; the repeat enrolment wrote nothing');
  const rows = (await get(f, op, '/operator')).body;
  t.match(rows, messages['audit_facility.leave'].ja, 'the audit table reads them in words');
});

t.test('refused: unknown facility or home, a taken id, a bad id — the reason in the operator\'s language, nothing stored, the typing kept', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const before = await f.store.listEnrollments();

  const noFacility = await post(f, op, '/operator/enrollments', { facility: 'dc9', home: 'h2' });
  t.equal(noFacility.statusCode, 400);
  t.match(noFacility.body, /<p class="error" role="alert" id="facility-error">その施設は登録されていません。先に施設を登録してください<\/p>/);
  t.match(noFacility.body, messages.nothingChanged.ja);

  const noHome = await post(f, op, '/operator/enrollments', { facility: 'f1', home: 'h9' });
  t.equal(noHome.statusCode, 400);
  t.match(noHome.body, messages.facUnknownHome.ja);
  t.match(noHome.body, /<input id="enroll-f1" name="home" list="home-ids" required value="h9"/, 'the home typed is still in f1\'s form');

  const notThere = await post(f, op, '/operator/enrollments/end', { facility: 'f1', home: 'h2' });
  t.equal(notThere.statusCode, 400);
  t.match(notThere.body, messages.facNotEnrolled.ja);

  const taken = await post(f, op, '/operator/facilities', { id: 'f1', name: '別の名前' });
  t.equal(taken.statusCode, 400);
  t.match(taken.body, messages.facExists.ja);
  t.match(taken.body, /<details open><summary>/, 'the form is open');
  t.match(taken.body, /<input id="f-name" name="name" required value="別の名前">/, 'with the name typed');
  t.equal((await f.store.getFacility('f1'))?.name, 'デイサービスさくら', 'the facility is unchanged');

  const bad = await post(f, op, '/operator/facilities', { id: 'Bad Id!', name: 'x' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, messages.facBadInput.ja);
  t.notMatch(bad.body, /Invalid|lower-case letters/, 'no raw validation text on a Japanese page');

  // In English for an English-speaking operator.
  await f.store.setAccountLanguage('op', 'en');
  const en = await post(f, op, '/operator/enrollments', { facility: 'dc9', home: 'h1' });
  t.match(en.body, messages.facUnknownFacility.en);

  t.same(await f.store.listEnrollments(), before, 'no enrolment changed');
  t.same((await f.store.listFacilities()).map((x) => x.id), ['f1'], 'no facility added');
  t.same((await f.store.listAudit()).filter((a) => a.action.startsWith('facility.')), [], 'nothing audited');

  // Linking a staff account to a facility that does not exist is refused too.
  const link = await post(f, op, '/operator/links', { login: 'family2', kind: 'facility', target: 'dc9' });
  t.equal(link.statusCode, 400);
  t.match(link.body, messages.facUnknownFacility.en, 'in the operator\'s language (English now)');
  t.same(await f.store.listLinks('family2'), [{ accountId: 'family2', kind: 'home', targetId: 'h2' }]);
});

t.test('operators only, and only with the page\'s CSRF token', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const staff = await signIn(f, 'staff1');
  t.equal((await get(f, staff, '/operator/facilities')).statusCode, 403);
  t.equal((await post(f, staff, '/operator/enrollments', { facility: 'f1', home: 'h2' })).statusCode, 403, 'staff cannot enrol homes themselves');
  t.equal((await post(f, staff, '/operator/facilities', { id: 'mine', name: 'x' })).statusCode, 403);
  const op = await signIn(f, 'op');
  const forged = await f.web.app.inject({ method: 'POST', url: '/operator/enrollments', headers: { cookie: op.cookie, ...html }, payload: { facility: 'f1', home: 'h2' } });
  t.equal(forged.statusCode, 403, 'no token: refused');
  const ended = await f.web.app.inject({ method: 'POST', url: '/operator/enrollments/end', headers: { cookie: op.cookie, ...html }, payload: { _csrf: 'wrong', facility: 'f1', home: 'h1' } });
  t.equal(ended.statusCode, 403, 'a wrong token: refused');
  t.same(await f.store.listEnrollments(), [{ facilityId: 'f1', homeId: 'h1' }], 'nothing changed');
});
