/**
 * Text choice and policies as data: the words a message carries follow the
 * tier's traits and the channel's nature, not their names; an info notice's
 * channels come from the policy.
 */
import t from 'tap';
import { createSqliteStore, type Alert } from '../../core/store.js';
import type { Channel } from '../../notifier/channel.js';
import { initialState } from '../../notifier/escalation-decide.js';
import { noticePolicy } from '../../notifier/escalation-engine.js';
import { defaultEscalationPolicy, defaultNoticeChannels, parseEscalationPolicy, roleTraits, tierAllowed, tierTraits, validateEscalationPolicy } from '../../notifier/escalation-policy.js';
import { createEscalationTexts } from '../../notifier/escalation-texts.js';
import { emergencySmsText, emergencyVoiceText } from '../../notifier/emergency-message.js';
import { residentPromptText } from '../../notifier/templates.js';
import { at1942, finding, homeId, seedHome } from './helpers.js';

const stub = (name: string, spoken?: boolean): Channel => ({ name, ...(spoken ? { spoken } : {}), send: () => Promise.resolve({ status: 'failed', error: 'not used' }) });

t.test('the emergency message is read aloud on a spoken channel, whatever its name; an SMS text elsewhere', async (t) => {
  const { store } = await seedHome(createSqliteStore(':memory:'));
  t.teardown(() => store.close());
  // A hub whose calling channel is not named "voice": before, the spoken text was chosen by the name.
  const channels = new Map([stub('call', true), stub('sms')].map((c) => [c.name, c]));
  const texts = createEscalationTexts({ store, channels, ledger: { tried: async () => [] } });
  const alert: Alert = (await store.openAlert({ homeId, rule: 'help', severity: 'critical', message: 'help', finding: finding(), openedAt: at1942 })).alert;
  const state = initialState(defaultEscalationPolicy, 'critical', { alertId: alert.id, groupPending: false, backlog: false, code: 'K27' });
  const emergencyTier = defaultEscalationPolicy.tiers.find((x) => tierTraits[x.name].message === 'emergency')!;
  const text = await texts.page(emergencyTier, [alert], state, { alertId: alert.id, homeId }, at1942);
  const home = (await store.getHome(homeId))!;
  const facts = { home, residents: await store.listResidents(homeId), finding: finding(), since: at1942, tried: [], at: at1942 };
  t.equal(text('ja', 'call'), emergencyVoiceText(facts, 'ja'));
  t.equal(text('en', 'sms'), emergencySmsText(facts, 'en'));
  t.not(emergencyVoiceText(facts, 'ja'), emergencySmsText(facts, 'ja'), 'the two texts differ, so the choice is visible');

  const residentTier = defaultEscalationPolicy.tiers.find((x) => tierTraits[x.name].message === 'resident-prompt')!;
  t.equal((await texts.page(residentTier, [alert], state, { alertId: alert.id, homeId }, at1942))('en', 'tablet'), residentPromptText('en'));
  const familyTier = defaultEscalationPolicy.tiers.find((x) => x.name === 'family')!;
  t.match((await texts.page(familyTier, [alert], state, { alertId: alert.id, homeId }, at1942))('ja', 'sms'), /K27/, 'an alert tier carries the reply code');
});

t.test('what tier names and contact roles mean is one table; the emergency tier is critical-only through it', async (t) => {
  t.same(Object.entries(tierTraits).filter(([, v]) => v.criticalOnly).map(([k]) => k), ['emergency']);
  const emergency = defaultEscalationPolicy.tiers.find((x) => x.name === 'emergency')!;
  t.same([tierAllowed(emergency, 'warning'), tierAllowed(emergency, 'info'), tierAllowed(emergency, 'critical')], [false, false, true]);
  t.same(Object.entries(roleTraits).filter(([, v]) => !v.hearsFollowUps).map(([k]) => k), ['resident'], 'the resident hears no follow-ups');
  t.same(Object.entries(roleTraits).filter(([, v]) => !v.listedAsTried).map(([k]) => k), ['emergency']);
  const bad = parseEscalationPolicy({ ...defaultEscalationPolicy, entry: { info: 'family', warning: 'emergency', critical: 'family' } });
  t.same(bad, { ok: false, errors: ['entry: only critical alerts may reach the emergency tier'] });
});

t.test("an info notice's channels come from the policy (optional noticeChannels), SMS then e-mail by default", async (t) => {
  t.same(noticePolicy(defaultEscalationPolicy, 'family').tiers[0]!.channels, ['sms', 'email']);
  t.same(defaultNoticeChannels, ['sms', 'email']);
  const p = validateEscalationPolicy({ ...defaultEscalationPolicy, noticeChannels: ['line', 'email'] });
  const notice = noticePolicy(p, 'caregiver');
  t.same(notice.tiers, [{ name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['line', 'email'], waitMinutes: 60, repeats: 0 }]);
  t.same(parseEscalationPolicy({ ...defaultEscalationPolicy, noticeChannels: [] }), { ok: false, errors: ['noticeChannels: at least one channel, e.g. ["sms"]'] });
  t.equal('noticeChannels' in validateEscalationPolicy(defaultEscalationPolicy), false, 'a policy without it parses to the same shape as before');
});
