/** The emergency contact list on the live hub (issue 15): page and PDF for operators, access-logged, nobody else. */
import t from 'tap';
import { pdfText } from '../support/pdf-text.js';
import { setup, signIn } from './helpers.js';

t.test('operators get the contact list per home and for every home, as a page and a PDF; each read is logged', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  await f.store.addContact({ homeId: 'h1', name: 'Second Caller', role: 'caregiver', phone: '+819055550002', language: 'en', priority: 2 });
  await f.store.addContact({ homeId: 'h1', name: 'First Caller', role: 'family', phone: '+819055550001', language: 'en', priority: 1 });
  await f.store.addContact({ homeId: 'h2', name: 'H2 Caller', role: 'family', phone: '+819055550009', language: 'en', priority: 1 });
  const op = await signIn(f, 'op');
  const get = (url: string, cookie = op.cookie) => f.web.app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } });
  const before = { h1: (await f.store.listAccess('h1')).length, h2: (await f.store.listAccess('h2')).length };

  const overview = await get('/operator');
  t.match(overview.body, 'href="/operator/homes/h1/contacts.pdf"', 'the operator overview links each home\'s list');
  const page = await get('/operator/homes/h1/contacts');
  t.equal(page.statusCode, 200);
  t.ok(page.body.indexOf('First Caller') > 0 && page.body.indexOf('First Caller') < page.body.indexOf('Second Caller'), 'calling order on the page');
  t.notMatch(page.body, 'reference-banner', 'the live hub shows no reference banner');

  const pdf = await get('/operator/homes/h1/contacts.pdf');
  t.equal(pdf.statusCode, 200);
  t.equal(pdf.headers['content-type'], 'application/pdf');
  const lines = pdfText(pdf.rawPayload).split('\n');
  const first = lines.indexOf('1. First Caller — 家族 / family — +819055550001');
  const second = lines.indexOf('2. Second Caller — 介護 / caregiver — +819055550002');
  t.ok(first >= 0 && second > first, `PDF in calling order (${first} < ${second})`);
  t.notOk(lines.some((l) => l.includes('H2 Caller')), 'one home only');

  const all = pdfText((await get('/operator/contacts.pdf')).rawPayload);
  t.match(all, '1. H2 Caller — 家族 / family — +819055550009');

  const logged = (await f.store.listAccess('h1')).slice(0, (await f.store.listAccess('h1')).length - before.h1).map((a) => a.what).sort();
  t.same(logged, ['emergency contact list', 'emergency contact list (PDF)', 'operator overview'], 'h1: the page and the PDF logged (the whole-operator PDF within five minutes is thinned as usual)');
  t.equal((await f.store.listAccess('h2')).length - before.h2, 2, 'h2: the overview and the whole-operator PDF');

  const fam = await signIn(f, 'family1');
  t.equal((await get('/operator/homes/h1/contacts.pdf', fam.cookie)).statusCode, 403, 'family members do not get the operator list');
  t.equal((await get('/operator/homes/nope/contacts', op.cookie)).statusCode, 403, 'an unknown home is not served');
});
