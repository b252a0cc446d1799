/**
 * Every page, for every role, rendered in Japanese (server-side through
 * `inject`): no raw rule id, role id, alert state, severity or channel id and
 * no English sentence may show. Data the people typed (names, ids, news) is
 * taken out first; so are `<code>`, `<pre>`, URLs and the language names.
 */
import t from 'tap';
import { defaultRules, ruleTypes } from '../../rules/index.js';
import { setup, signIn, type Fixture } from './helpers.js';

/** Ids that must never show on a Japanese page as they are. */
const rawIds = [
  ...defaultRules().map((r) => r.id), ...ruleTypes, 'data-late', 'help',
  'resident', 'family', 'staff', 'caregiver', 'operator', 'emergency', 'guardian',
  'open', 'acknowledged', 'resolved', 'on-my-way', 'arrived',
  'critical', 'warning', 'info',
  'sms', 'voice', 'email', 'web-link', 'tablet', 'door', 'kettle', 'water', 'gas', 'power', 'motion', 'button', 'climate',
  'ok', 'failed', 'running',
];

/** Visible text of a page: text nodes and the labels people read (aria-label, placeholder, title, alt). */
export function visibleText(html: string): string[] {
  const body = html
    .replace(/<(script|style|code|pre|title)\b[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ');
  const attrs = [...body.matchAll(/\s(?:aria-label|placeholder|title|alt)="([^"]*)"/g)].map((m) => m[1]!);
  const texts = body.split(/<[^>]*>/).map((s) => s.replace(/&[a-z]+;|&#\d+;/g, ' ').trim()).filter((s) => s !== '');
  return [...texts, ...attrs];
}

/** What is wrong with one piece of a Japanese page's text (empty when nothing). */
export function japaneseProblems(text: string, typed: readonly string[]): string[] {
  let s = text;
  for (const v of [...typed].sort((a, b) => b.length - a.length)) s = s.split(v).join(' ');
  s = s.replace(/\b(?:https?:\/\/|\/)[\w./?=&%:-]*/g, ' ').replace(/\bEnglish\b|日本語/g, ' ');
  const out: string[] = [];
  for (const id of rawIds) if (new RegExp(`(^|[^\\w-])${id.replace(/[-]/g, '\\-')}($|[^\\w-])`).test(s)) out.push(`raw id "${id}" in "${text}"`);
  const dotted = /(^|[^\w./-])([a-z]+(?:\.[a-z][\w-]*)+)(?=$|[^\w.])/.exec(s);
  if (dotted) out.push(`raw id "${dotted[2]}" in "${text}"`);
  const sentence = /[A-Za-z][A-Za-z']*(?:[ ,]+[A-Za-z][A-Za-z']*){2,}/.exec(s);
  if (sentence) out.push(`English "${sentence[0]}" in "${text}"`);
  return out;
}

t.test('the checker itself: finds raw ids and English, passes Japanese and typed data', async (t) => {
  t.same(japaneseProblems('役割: caregiver', []), ['raw id "caregiver" in "役割: caregiver"']);
  t.same(japaneseProblems('device-silent', []).length, 1);
  t.same(japaneseProblems('Sign in to see more', []), ['English "Sign in to see more" in "Sign in to see more"']);
  t.same(japaneseProblems('ケアマネ・ヘルパー・看護師 — Name of care1', ['Name of care1']), []);
  t.same(japaneseProblems('通知システム escalation.tier 01abc', []), ['raw id "escalation.tier" in "通知システム escalation.tier 01abc"']);
  t.same(japaneseProblems('SMSで 確認 (2026-11-21 09:00) /homes/h1', []), []);
});

interface Visit { login: string; urls: string[] }
const visits: Visit[] = [
  { login: 'guardian1', urls: ['/homes/h1', '/homes/h1/access-log', '/homes/h1/consent', '/account', '/account/notifications'] },
  { login: 'resident1', urls: ['/tablet', '/homes/h1', '/homes/h1/access-log', '/homes/h1/consent', '/account'] },
  { login: 'staff1', urls: ['/staff', '/homes/h1', '/account'] },
  { login: 'care1', urls: ['/caregiver', '/homes/h1', '/account'] },
  { login: 'op', urls: ['/operator', '/operator/fleet', '/operator/onboarding', '/operator/homes/h1/escalation', '/operator/contacts', '/operator/homes/h1/contacts', '/operator/accounts', '/operator/dead-letters', '/account/password', '/homes/h1', '/homes/h1/access-log', '/account'] },
];

async function richData(f: Fixture): Promise<void> {
  const { store } = f;
  const at = f.clock.now();
  await store.addContact({ homeId: 'h1', name: '山田 太郎', role: 'family', phone: '+819012345678', language: 'ja', priority: 1 });
  await store.addContact({ homeId: 'h1', name: '佐藤 ケアマネ', role: 'caregiver', phone: '+81312345678', language: 'ja', priority: 2 });
  await store.addContact({ homeId: 'h1', name: '緊急 花子', role: 'emergency', phone: '+819011112222', language: 'ja', priority: 3 });
  await store.addDevice({ homeId: 'h1', deviceId: 'kettle1', kind: 'kettle', secretHash: 'x', createdAt: at });
  await store.openAlert({ homeId: 'h1', rule: 'device-silent', severity: 'warning', message: 'Device kettle1 silent', finding: { message: { en: 'kettle1 is silent', ja: 'kettle1 の報告がありません' }, audience: 'operator', device: 'kettle1' }, openedAt: at });
  await store.openAlert({ homeId: 'h1', rule: 'no-sign-of-life', severity: 'critical', message: 'No sign of life', finding: { message: { en: 'No sign of life since 7:00', ja: '7:00 から生活反応がありません' }, audience: 'family' }, openedAt: at });
  await store.audit({ at, actor: 'notifier', action: 'escalation.tier', subject: 'h1', detail: { tier: 1 } });
  await store.audit({ at, actor: 'op', action: 'contact.add', subject: 'h1' });
  // A dead letter of each kind, and an operator's account actions in the audit log (operator lane).
  const sato = (await store.listContacts('h1')).find((c) => c.role === 'caregiver')!;
  await store.recordNotification({ alertId: f.ids.alert1, contactId: sato.id, channel: 'voice', status: 'no-answer', error: 'no answer after 60 s', createdAt: at });
  await store.recordRejected({ at, topic: 'mimamori/h1/kettle1/events', homeId: 'h1', deviceId: 'kettle1', reason: 'invalid_fields', detail: 'state: expected on or off', payload: '{"kind":"kettle","state":"boiling"}' });
  await store.audit({ at, actor: 'op', action: 'account.password-reset', subject: 'care1' });
  await store.audit({ at, actor: 'notifier', action: 'send.retry', subject: f.ids.alert1 });
  for (const login of ['family1', 'family2', 'guardian1', 'resident1', 'staff1', 'care1', 'op']) await store.setAccountLanguage(login, 'ja');
}

t.test('no Japanese page shows a raw id or an English sentence, for any role', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  await richData(f);
  // What people typed in the fixture, shown as they typed it.
  const typed = ['Hanako sang today', 'Home h1', 'Home h2', ...['family1', 'family2', 'guardian1', 'resident1', 'staff1', 'care1', 'op'].map((l) => `Name of ${l}`), 'kettle1', 'Asia/Tokyo'];
  const signinPage = await f.web.app.inject({ method: 'GET', url: '/signin', headers: { 'accept-language': 'ja' } });
  const problems: string[] = visibleText(signinPage.body).flatMap((s) => japaneseProblems(s, typed)).map((p) => `/signin: ${p}`);
  const seen: string[] = [];
  for (const v of visits) {
    const s = await signIn(f, v.login);
    // Every page once, so the access log has rows to show, then again for the check.
    for (const url of v.urls) await f.web.app.inject({ method: 'GET', url, headers: { cookie: s.cookie, accept: 'text/html' } });
    for (const url of v.urls) {
      const res = await f.web.app.inject({ method: 'GET', url, headers: { cookie: s.cookie, accept: 'text/html' } });
      if (res.statusCode !== 200) { problems.push(`${v.login} ${url}: status ${res.statusCode}`); continue; }
      t.match(res.body, /<html lang="ja"/, `${v.login} ${url} is in Japanese`);
      seen.push(`${v.login} ${url}`);
      for (const p of visibleText(res.body).flatMap((x) => japaneseProblems(x, typed))) problems.push(`${v.login} ${url}: ${p}`);
    }
  }
  t.equal(seen.length, visits.reduce((n, v) => n + v.urls.length, 0), 'every page rendered');
  t.same(problems, []);
});
