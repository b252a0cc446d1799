/** The operator adds contacts with domestic numbers: stored as E.164, a bad number refused in the operator's language, shown domestic. */
import t from 'tap';
import { setup, signIn } from './helpers.js';

t.test('a contact typed as 090-1234-5678 or full-width is stored as E.164 and shown domestic', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const add = (phone: string, name: string) => f.web.app.inject({ method: 'POST', url: '/operator/homes/h1/contacts', headers: { cookie: op.cookie, accept: 'text/html' }, payload: { _csrf: op.csrf, name, role: 'family', phone, language: 'ja', priority: '1' } });
  t.equal((await add('090-1234-5678', '娘')).statusCode, 303);
  t.equal((await add('０３－１２３４－５６７８', '息子')).statusCode, 303);
  const bad = await add('090-1234-567', '誰か');
  t.equal(bad.statusCode, 400);
  t.match(bad.body, '電話番号を確認してください（例 090-1234-5678');
  t.notMatch(bad.body, /E\.164|Invalid input/, 'no library or schema words');
  t.same((await f.store.listContacts('h1')).map((c) => [c.name, c.phone]), [['娘', '+819012345678'], ['息子', '+81312345678']], 'exactly the two good ones, in E.164');
  const page = await f.web.app.inject({ method: 'GET', url: '/operator/homes/h1/contacts', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.match(page.body, '<a href="tel:+819012345678">090-1234-5678</a>');
  t.match(page.body, '<a href="tel:+81312345678">03-1234-5678</a>');
  await f.store.setAccountLanguage('op', 'en');
  const en = await f.web.app.inject({ method: 'POST', url: '/operator/homes/h1/contacts', headers: { cookie: op.cookie, accept: 'text/html' }, payload: { _csrf: op.csrf, name: 'X', role: 'family', phone: '12345', language: 'en', priority: '1' } });
  t.match(en.body, 'Check the phone number (e.g. 090-1234-5678');
  const enPage = await f.web.app.inject({ method: 'GET', url: '/operator/homes/h1/contacts', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.match(enPage.body, '>+81 90 1234 5678</a>', 'international for an English reader');
});
