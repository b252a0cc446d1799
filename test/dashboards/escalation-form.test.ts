/**
 * The escalation policy form (/operator/homes/:home/escalation, issue 14):
 * the form round-trips any policy; a submitted form is stored through the
 * real notifier as exactly the policy it describes; invalid input is listed
 * in the operator's language (Japanese and English) and nothing is stored;
 * the preview says who gets what when for a critical and a warning alert,
 * computed from the policy and the home's contacts.
 */
import t from 'tap';
import { defaultEscalationPolicy, parseEscalationPolicy, type EscalationPolicy } from '../../notifier/index.js';
import { fieldsToPolicy, policyToFields, previewEscalation } from '../../dashboards/escalation-form.js';
import { messages } from '../../dashboards/i18n.js';
import { signIn } from './helpers.js';
import { operatorRig } from './operator-rig.js';

const listItems = (body: string, id: string) => {
  const list = new RegExp(`<(?:ol|ul) id="${id}">([\\s\\S]*?)</(?:ol|ul)>`).exec(body)?.[1] ?? '';
  return [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1]!.replace(/&#39;/g, "'").replace(/&quot;/g, '"'));
};

t.test('the form round-trips policies: the default, and one with contacts and their own channels', async (t) => {
  const back = fieldsToPolicy(policyToFields(defaultEscalationPolicy), { contactIds: [] });
  t.same(back.policy, defaultEscalationPolicy);
  const custom = parseEscalationPolicy({
    tiers: [{ name: 'family', recipients: [{ contactId: 'c1', channels: ['line', 'sms'] }, { role: 'family' }], channels: ['sms'], waitMinutes: 7.5, repeats: 2 }],
    entry: { info: 'family', warning: 'family', critical: 'family' }, renotifyMax: 0,
  });
  if (!custom.ok) throw new Error(custom.errors.join('; '));
  const round = fieldsToPolicy(policyToFields(custom.policy), { contactIds: ['c1'] });
  // The form lists roles before contacts: the same people, recipients in role-then-contact order.
  t.same(round.policy, { ...custom.policy, tiers: [{ ...custom.policy.tiers[0]!, recipients: [{ role: 'family' }, { contactId: 'c1', channels: ['line', 'sms'] }] }] });
  const unknown = fieldsToPolicy(policyToFields(custom.policy), { contactIds: ['c1'], channels: ['sms'] });
  t.same(unknown.problems, [{ key: 'policyErr_channelUnknown', vars: { tier: 1, channel: 'line', known: 'sms' } }], 'a channel the hub does not have');
});

t.test('preview: from the entry tier, repeats, the emergency tier only for critical, skipped tiers, the end', async (t) => {
  const p = parseEscalationPolicy({
    tiers: [
      { name: 'resident', recipients: [{ role: 'resident' }], channels: ['tablet'], waitMinutes: 5 },
      { name: 'family', recipients: [{ role: 'family' }], channels: ['voice', 'sms'], waitMinutes: 10, repeats: 1 },
      { name: 'emergency', recipients: [{ role: 'emergency' }], channels: ['voice'], waitMinutes: 15 },
    ],
    entry: { info: 'family', warning: 'resident', critical: 'family' },
  });
  if (!p.ok) throw new Error(p.errors.join('; '));
  const contacts = [
    { id: 'a', homeId: 'h', name: 'A', role: 'family' as const, language: 'ja' as const, priority: 1 },
    { id: 'e', homeId: 'h', name: 'E', role: 'emergency' as const, language: 'ja' as const, priority: 2 },
  ];
  const show = (s: ReturnType<typeof previewEscalation>) => [...s.steps.map((x) => `${x.at} ${x.tier}#${x.repeat}${x.skipped ? ' skipped' : ''} ${x.recipients.map((r) => `${r.contact.name}:${r.channels.join('>')}`).join(',')}`), `end ${s.end}`];
  t.same(show(previewEscalation(p.policy, contacts, 'critical')), ['0 family#0 A:voice>sms', '10 family#1 A:voice>sms', '20 emergency#0 E:voice', 'end 35']);
  t.same(show(previewEscalation(p.policy, contacts, 'warning')), ['0 resident#0 skipped ', '0 family#0 A:voice>sms', '10 family#1 A:voice>sms', 'end 20'], 'no resident contact: straight on; no emergency tier for a warning');
});

/** The form as a browser posts it: three tiers, the third (emergency) added in the empty row. */
function formFor(ids: { carer: string }): Record<string, string> {
  return {
    rows: '4',
    t0_name: 'family', t0_role_family: '1', t0_channels: 'sms, voice', t0_wait: '10', t0_repeats: '1',
    t1_name: 'caregiver', [`t1_contact_${ids.carer}`]: '1', [`t1_rch_contact-${ids.carer}`]: 'voice', t1_channels: 'sms', t1_wait: '15', t1_repeats: '0',
    t2_name: 'emergency', t2_role_emergency: '1', t2_channels: 'sms', t2_wait: '5', t2_repeats: '0',
    t3_name: '', t3_channels: '', t3_wait: '', t3_repeats: '',
    entry_info: 'family', entry_warning: 'family', entry_critical: 'family',
    quiet_from: '22:00', quiet_to: '07:00',
    renotifyMinutes: '30', renotifyMax: '3', graceMinutes: '10', defaultEtaMinutes: '30',
  };
}

t.test('the form stores exactly the policy it describes; the page previews it', async (t) => {
  const { f, contacts } = await operatorRig(t);
  const op = await signIn(f, 'op');
  const url = '/operator/homes/h1/escalation';
  const page = await f.web.app.inject({ method: 'GET', url, headers: { cookie: op.cookie, accept: 'text/html' } });
  t.equal(page.statusCode, 200);
  t.match(page.body, /<select id="t0_name" name="t0_name">/, 'a form, not a JSON box');
  t.notMatch(page.body, /<textarea/);
  t.equal(listItems(page.body, 'preview-critical').length > 0, true, 'the stored (default) policy is previewed');

  const save = await f.web.app.inject({ method: 'POST', url, headers: { cookie: op.cookie }, payload: { _csrf: op.csrf, ...formFor({ carer: contacts.carer.id }), action: 'save' } });
  t.equal(save.statusCode, 303);
  const expected: EscalationPolicy = {
    tiers: [
      { name: 'family', recipients: [{ role: 'family' }], channels: ['sms', 'voice'], waitMinutes: 10, repeats: 1 },
      { name: 'caregiver', recipients: [{ contactId: contacts.carer.id, channels: ['voice'] }], channels: ['sms'], waitMinutes: 15, repeats: 0 },
      { name: 'emergency', recipients: [{ role: 'emergency' }], channels: ['sms'], waitMinutes: 5, repeats: 0 },
    ],
    entry: { info: 'family', warning: 'family', critical: 'family' },
    quietHours: { from: '22:00', to: '07:00' },
    renotifyMinutes: 30, renotifyMax: 3, graceMinutes: 10, defaultEtaMinutes: 30,
  };
  t.same(await f.store.getEscalationPolicy('h1'), expected, 'stored policy equals the expected JSON');
  t.same((await f.store.listAudit('h1')).filter((a) => a.action === 'escalation.set').map((a) => a.actor), ['op'], 'audited once, as the operator');

  const after = await f.web.app.inject({ method: 'GET', url, headers: { cookie: op.cookie, accept: 'text/html' } });
  t.same(listItems(after.body, 'preview-critical'), [
    '0 分後 — ご家族: 山田 太郎（SMS → 音声電話）',
    '10 分後 — ご家族: 山田 太郎（SMS → 音声電話）（2回目）',
    '20 分後 — ケアマネ・ヘルパー・看護師: 佐藤 ケアマネ（音声電話）',
    '35 分後 — 緊急連絡先: 緊急 花子（SMS）',
    '40 分後 — 誰も確認しなければ、連絡はここで終わります（運営者の記録に残ります）',
  ]);
  t.same(listItems(after.body, 'preview-warning'), [
    '0 分後 — ご家族: 山田 太郎（SMS → 音声電話）',
    '10 分後 — ご家族: 山田 太郎（SMS → 音声電話）（2回目）',
    '20 分後 — ケアマネ・ヘルパー・看護師: 佐藤 ケアマネ（音声電話）',
    '35 分後 — 誰も確認しなければ、連絡はここで終わります（運営者の記録に残ります）',
  ], 'a warning never reaches the emergency tier');
  t.match(after.body, /id="preview-quiet">注意のアラートは、静かな時間 22:00〜07:00/);
  t.match(after.body, /<input type="checkbox" id="t0_role_family" name="t0_role_family" value="1" checked>/, 'the stored policy fills the form');

  // In English for an English-speaking operator.
  await f.store.setAccountLanguage('op', 'en');
  const en = await f.web.app.inject({ method: 'GET', url, headers: { cookie: op.cookie, accept: 'text/html' } });
  t.same(listItems(en.body, 'preview-critical')[1], 'after 10 min — family: 山田 太郎 (SMS → voice call) (round 2)');
});

t.test('preview without saving; invalid input: bilingual problems, nothing stored', async (t) => {
  const { f, contacts } = await operatorRig(t);
  const op = await signIn(f, 'op');
  const url = '/operator/homes/h1/escalation';
  const before = await f.store.getEscalationPolicy('h1');
  const post = (fields: Record<string, string>) => f.web.app.inject({ method: 'POST', url, headers: { cookie: op.cookie, accept: 'text/html' }, payload: { _csrf: op.csrf, ...fields } });

  const preview = await post({ ...formFor({ carer: contacts.carer.id }), action: 'preview' });
  t.equal(preview.statusCode, 200);
  t.equal(listItems(preview.body, 'preview-critical').length, 5, 'the form\'s policy previewed');
  t.same(await f.store.getEscalationPolicy('h1'), before, 'a preview stores nothing');

  const bad = { ...formFor({ carer: contacts.carer.id }), t0_wait: 'ten', [`t1_contact_${contacts.carer.id}`]: '', t2_channels: '', quiet_to: '22:00', action: 'save' };
  const ja = await post(bad);
  t.equal(ja.statusCode, 400);
  t.same(listItems(ja.body, 'policy-errors'), [
    messages.policyErr_wait.ja.replace('{tier}', '1'),
    messages.policyErr_recipients.ja.replace('{tier}', '2'),
    messages.policyErr_channels.ja.replace('{tier}', '3'),
    messages.policyErr_quiet.ja,
  ]);
  t.match(ja.body, messages.nothingChanged.ja);
  t.match(ja.body, /<input id="t0_wait" name="t0_wait" inputmode="decimal" value="ten">/, 'what was typed is kept in the form');
  await f.store.setAccountLanguage('op', 'en');
  const en = await post(bad);
  t.same(listItems(en.body, 'policy-errors'), [
    messages.policyErr_wait.en.replace('{tier}', '1'),
    messages.policyErr_recipients.en.replace('{tier}', '2'),
    messages.policyErr_channels.en.replace('{tier}', '3'),
    messages.policyErr_quiet.en,
  ]);
  // The policy-wide checks (entry tiers) run once every tier is well formed.
  const emergencyFirst = await post({ ...formFor({ carer: contacts.carer.id }), entry_warning: 'emergency', action: 'save' });
  t.same(listItems(emergencyFirst.body, 'policy-errors'), [messages.policyErr_entryEmergency.en]);
  const missingEntry = await post({ ...formFor({ carer: contacts.carer.id }), t0_name: '', action: 'save' });
  t.same(listItems(missingEntry.body, 'policy-errors'), ['info', 'warning', 'critical'].map((s) => messages.policyErr_entry.en.replace('{severity}', s)), 'the family tier was removed but is still where alerts start');
  const none = await post({ rows: '1', t0_name: '', entry_info: 'family', entry_warning: 'family', entry_critical: 'family', action: 'save' });
  t.same(listItems(none.body, 'policy-errors'), [messages.policyErr_noTiers.en, ...['info', 'warning', 'critical'].map((s) => messages.policyErr_entry.en.replace('{severity}', s))], 'no tier at all, so no tier to start at');
  const unknown = await post({ ...formFor({ carer: contacts.carer.id }), t0_channels: 'sms, fax', action: 'save' });
  t.same(listItems(unknown.body, 'policy-errors'), [messages.policyErr_channelUnknown.en.replace('{tier}', '1').replace('{channel}', 'fax').replace('{known}', 'sms, voice')]);
  t.same(await f.store.getEscalationPolicy('h1'), before, 'nothing stored');
  t.same((await f.store.listAudit('h1')).filter((a) => a.action === 'escalation.set' || a.action === 'policy.set'), [], 'nothing audited');
});
