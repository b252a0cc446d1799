/**
 * The family page says who is handling an alert even when they answered
 * outside the web app — here by replying to the SMS — and says it in the
 * reader's language.
 */
import t from 'tap';
import { setup, signIn } from './helpers.js';

t.test('an SMS acknowledgement shows who is handling the alert, and how', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const taro = await f.store.addContact({ homeId: 'h1', name: '山田 太郎', role: 'family', phone: '+819012345678', language: 'ja', priority: 1 });
  await f.store.updateAlertStatus(f.ids.alert1, 'acknowledged', f.clock.now());
  await f.store.saveAlertLifecycle({ alertId: f.ids.alert1, homeId: 'h1', acknowledgedBy: taro.id, acknowledgedVia: 'sms', acknowledgedAt: f.clock.now(), state: {}, updatedAt: f.clock.now() });

  const ja = await signIn(f, 'guardian1'); // Japanese
  const page = await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: ja.cookie, accept: 'text/html' } });
  t.equal(page.statusCode, 200);
  t.match(page.body, /山田 太郎 — 確認 SMSで/, 'the contact who replied, and that it was by SMS');
  t.match(page.body, /対応中/, 'the status in Japanese');
  t.notMatch(page.body, /まだ誰も対応していません/, 'not "nobody yet"');

  const en = await signIn(f, 'family1'); // English
  const page2 = await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: en.cookie, accept: 'text/html' } });
  t.match(page2.body, /acknowledged by SMS/);
  t.match(page2.body, /being handled/);
});
