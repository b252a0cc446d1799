/**
 * The escalation's pure decision step, table by table: no store, no clock,
 * no channels — a state, a policy, the facts and a time in; actions and the
 * next state out. `walk` plays the runner: it decides again while the
 * decision is due now, as the engine does.
 */
import t from 'tap';
import type { Contact, ContactRole, Severity } from '../../core/store.js';
import { channelToTry, decide, initialState, type EscalationAction, type EscalationEvent, type EscalationFacts, type EscalationState, type PolicySnapshot } from '../../notifier/escalation-decide.js';
import { defaultEscalationPolicy, validateEscalationPolicy, type QuietHours } from '../../notifier/escalation-policy.js';

const tz = 'Asia/Tokyo';
const min = 60_000;
/** 19:42 in Tokyo (outside the default quiet hours 22:00–07:00). */
const evening = Date.parse('2026-11-21T19:42:00+09:00');
/** 23:00 in Tokyo (inside them); they end at 07:00 next morning. */
const night = Date.parse('2026-11-21T23:00:00+09:00');
const morning = Date.parse('2026-11-22T07:00:00+09:00');

const person = (id: string, role: ContactRole, priority: number): Contact => ({ id, homeId: 'h', name: id, role, language: 'ja', priority });
const everyone = [person('hanako', 'resident', 0), person('ken', 'family', 1), person('taro', 'family', 2), person('carer', 'caregiver', 3), person('centre', 'emergency', 4)];

function facts(over: Partial<EscalationFacts> & { own?: Record<string, QuietHours> } = {}): EscalationFacts {
  const { own, ...rest } = over;
  return { activeAlerts: 1, contacts: everyone, quietHours: new Map(Object.entries(own ?? {})), timezone: tz, ...rest };
}
const start = (severity: Severity, policy: PolicySnapshot = defaultEscalationPolicy): EscalationState =>
  initialState(policy, severity, { alertId: 'a1', groupPending: false, backlog: false, code: 'K27' });

/** Decides until the decision is not due now (the runner's loop); every action in order, and where it ended. */
function walk(state: EscalationState, policy: PolicySnapshot, f: EscalationFacts, now: number) {
  const actions: EscalationAction[] = [];
  let s = state;
  for (let i = 0; i < 100; i++) {
    const d = decide(s, policy, f, now);
    actions.push(...d.actions);
    s = d.next.state;
    if (d.next.stop || d.next.at === undefined || d.next.at > now) return { actions, state: s, at: d.next.at, stop: d.next.stop === true };
  }
  throw new Error('the decision did not settle');
}
const pages = (as: EscalationAction[]) => as.flatMap((a) => (a.kind === 'page' ? [`${a.contactId}@${a.stage}`] : []));
const audits = (as: EscalationAction[]) => as.flatMap((a) => (a.kind === 'audit' ? [a.action] : []));

t.test('each severity enters at its policy tier: a warning asks the resident first, critical and info start with the family', async (t) => {
  const table: Array<[Severity, number, string]> = [['warning', 0, 'resident'], ['critical', 1, 'family'], ['info', 1, 'family']];
  for (const [sev, tier, name] of table) {
    const s = start(sev);
    t.equal(s.tier, tier, `${sev} → ${name}`);
    t.equal(defaultEscalationPolicy.tiers[s.tier]!.name, name);
    t.same([s.phase, s.epoch, s.repeat, s.started, s.reminders, s.members, s.code], ['running', 0, 0, false, 0, ['a1'], 'K27']);
  }
});

t.test('a tier starts (audited) and then pages everyone in it on the policy channels, waiting its minutes', async (t) => {
  const d = decide(start('critical'), defaultEscalationPolicy, facts(), evening);
  t.same(d.actions, [{ kind: 'audit', action: 'escalation.tier', detail: { tier: 'family', repeat: 0, epoch: 0, recipients: 2, held: 0, members: 1 }, log: { level: 'info', msg: 'escalation tier' } }]);
  t.equal(d.next.at, evening, 'due again at once: the pages follow');
  t.same([d.next.state.started, d.next.state.advanceAt, d.next.state.held], [true, evening + 10 * min, {}]);
  const w = walk(start('critical'), defaultEscalationPolicy, facts(), evening);
  t.same(w.actions.filter((a) => a.kind === 'page'), [
    { kind: 'page', contactId: 'ken', tier: 1, stage: '0:1:0', channels: ['voice', 'sms'], critical: true },
    { kind: 'page', contactId: 'taro', tier: 1, stage: '0:1:0', channels: ['voice', 'sms'], critical: true },
  ], 'family in priority order');
  t.equal(w.at, evening + 10 * min);
});

t.test('nobody acknowledges: tier by tier, with repeats, until every tier was tried', async (t) => {
  // [minutes after the alert, pages made then, audits then, stop]
  const critical: Array<[number, string[], string[], boolean]> = [
    [0, ['ken@0:1:0', 'taro@0:1:0'], ['escalation.tier'], false],
    [5, ['ken@0:1:0', 'taro@0:1:0'], [], false], // a re-run step repeats its pages: the send keys skip them
    [10, ['ken@0:1:0', 'taro@0:1:0', 'ken@0:1:1', 'taro@0:1:1'], ['escalation.tier'], false], // family repeats once
    [20, ['ken@0:1:1', 'taro@0:1:1', 'carer@0:2:0'], ['escalation.tier'], false],
    [35, ['carer@0:2:0', 'centre@0:3:0'], ['escalation.tier'], false],
    [50, ['centre@0:3:0'], ['escalation.exhausted'], true],
  ];
  let s = start('critical');
  for (const [m, p, a, stop] of critical) {
    const w = walk(s, defaultEscalationPolicy, facts(), evening + m * min);
    t.same(pages(w.actions), p, `+${m} min pages`);
    t.same(audits(w.actions), a, `+${m} min audits`);
    t.equal(w.stop, stop, `+${m} min stop`);
    s = w.state;
  }
  t.equal(s.phase, 'exhausted');

  // A warning: the resident first, never the emergency tier (critical-only).
  s = start('warning');
  const warning: Array<[number, string[], boolean]> = [
    [0, ['hanako@0:0:0'], false],
    [5, ['hanako@0:0:0', 'ken@0:1:0', 'taro@0:1:0'], false],
    [15, ['ken@0:1:0', 'taro@0:1:0', 'ken@0:1:1', 'taro@0:1:1'], false],
    [25, ['ken@0:1:1', 'taro@0:1:1', 'carer@0:2:0'], false],
    [40, ['carer@0:2:0'], true],
  ];
  for (const [m, p, stop] of warning) {
    const w = walk(s, defaultEscalationPolicy, facts(), evening + m * min);
    t.same(pages(w.actions), p, `warning +${m} min`);
    t.equal(w.stop, stop);
    s = w.state;
  }
  t.equal(s.phase, 'exhausted');
});

t.test('a tier with nobody in it is skipped', async (t) => {
  const noCarer = everyone.filter((c) => c.role !== 'caregiver');
  let s = start('critical');
  s = walk(s, defaultEscalationPolicy, facts({ contacts: noCarer }), evening).state;
  s = walk(s, defaultEscalationPolicy, facts({ contacts: noCarer }), evening + 10 * min).state;
  const w = walk(s, defaultEscalationPolicy, facts({ contacts: noCarer }), evening + 20 * min);
  t.same(pages(w.actions), ['ken@0:1:1', 'taro@0:1:1', 'centre@0:3:0'], 'straight from the family to the emergency tier');
  t.equal(w.state.tier, 3);
});

t.test('quiet hours hold non-critical messages until they end; critical alerts go through', async (t) => {
  const held = walk(start('info'), defaultEscalationPolicy, facts(), night);
  t.same(pages(held.actions), [], 'an info notice at 23:00 waits');
  t.same(held.state.held, { ken: morning, taro: morning });
  t.equal(held.at, morning, 'comes back when quiet hours end');
  t.equal(held.state.advanceAt, morning + 10 * min, 'a tier whose everyone is held starts its wait when they are told');
  const released = walk(held.state, defaultEscalationPolicy, facts(), morning);
  t.same(pages(released.actions), ['ken@0:1:0', 'taro@0:1:0']);

  const critical = walk(start('critical'), defaultEscalationPolicy, facts(), night);
  t.same(pages(critical.actions), ['ken@0:1:0', 'taro@0:1:0'], 'critical: at once, at night');
  t.same(critical.state.held, {});
});

t.test("a person's own quiet hours win; a hold outlasting the tier is carried along and still sent", async (t) => {
  const policy = validateEscalationPolicy({ ...defaultEscalationPolicy, quietHours: undefined });
  const f = facts({ own: { taro: { from: '22:00', to: '07:00' } } });
  let w = walk(start('info', policy), policy, f, night);
  t.same(pages(w.actions), ['ken@0:1:0'], 'ken has no quiet hours; taro is held');
  t.equal(w.at, night + 10 * min, 'the wait runs from now: not everyone is held');
  w = walk(w.state, policy, f, night + 10 * min);
  w = walk(w.state, policy, f, night + 20 * min);
  t.same(w.state.carried, [{ contactId: 'taro', tier: 1, stage: '0:1:0', until: morning }, { contactId: 'taro', tier: 1, stage: '0:1:1', until: morning }]);
  t.same(pages(w.actions), ['ken@0:1:1', 'carer@0:2:0']);
  w = walk(w.state, policy, f, night + 35 * min);
  t.equal(w.stop, false, 'held messages still to send: the escalation waits for them before it gives up');
  t.equal(w.at, morning);
  w = walk(w.state, policy, f, morning);
  t.same(pages(w.actions), ['carer@0:2:0', 'taro@0:1:0', 'taro@0:1:1'], 'released in the morning with their own stages');
  t.same(audits(w.actions), ['escalation.exhausted']);
  t.equal(w.stop, true);
});

t.test('a held message is released even when the last tier has nobody in it (was: never sent, retried every minute)', async (t) => {
  const policy = validateEscalationPolicy({ ...defaultEscalationPolicy, quietHours: undefined });
  const f = facts({ contacts: everyone.filter((c) => c.role !== 'caregiver'), own: { taro: { from: '22:00', to: '07:00' } } });
  let w = walk(start('warning', policy), policy, f, night);
  w = walk(w.state, policy, f, night + 5 * min);
  w = walk(w.state, policy, f, night + 15 * min);
  w = walk(w.state, policy, f, night + 25 * min);
  t.same(w.state.carried?.map((c) => c.stage), ['0:1:0', '0:1:1'], 'taro held at both family rounds');
  t.equal(w.state.tier, 2, 'the caregiver tier is empty and the emergency tier is critical-only');
  t.equal(w.at, morning);
  w = walk(w.state, policy, f, morning);
  t.same(pages(w.actions), ['taro@0:1:0', 'taro@0:1:1']);
  t.same(audits(w.actions), ['escalation.exhausted']);
  t.equal(w.stop, true);
  t.equal(w.state.phase, 'exhausted');
});

t.test('fallbacks: a person is tried channel by channel past the ones that failed, and no further once one reached them', async (t) => {
  const order = ['line', 'voice', 'sms'];
  const table: Array<[Record<string, 'none' | 'failed' | 'ok'>, string | undefined, string]> = [
    [{}, 'line', 'nothing sent yet: the first'],
    [{ line: 'failed' }, 'voice', 'LINE failed: voice'],
    [{ line: 'failed', voice: 'failed' }, 'sms', 'voicemail / no answer counts as failed: SMS'],
    [{ line: 'failed', voice: 'failed', sms: 'failed' }, undefined, 'every channel failed'],
    [{ line: 'ok' }, undefined, 'reached (or under way): nothing more'],
    [{ line: 'failed', voice: 'ok' }, undefined, 'the second reached them'],
    [{ voice: 'failed' }, 'line', 'order is kept: an untried earlier channel first'],
  ];
  for (const [outcomes, want, why] of table) t.equal(channelToTry(order, new Map(Object.entries(outcomes))), want, why);
});

t.test('acknowledge, on my way, arrival, reminders', async (t) => {
  const running = walk(start('critical'), defaultEscalationPolicy, facts(), evening).state;
  const ev = (event: EscalationEvent, s = running, at = evening + min) => decide(s, defaultEscalationPolicy, facts({ event }), at);

  const ack = ev({ kind: 'acknowledged', contactId: 'ken' });
  t.same(ack.actions, [{ kind: 'tell-told', stage: 'ack0', message: 'acknowledged', except: 'ken' }], 'everyone told hears who handles it');
  t.same([ack.next.state.phase, ack.next.state.ackContactId, ack.next.state.remindAt, ack.next.at], ['acknowledged', 'ken', evening + 31 * min, evening + 31 * min]);
  t.equal(running.phase, 'running', 'the input state is not changed');

  // Reminders: exactly renotifyMax (3), every renotifyMinutes, to the acknowledger.
  let s = ack.next.state;
  const reminded: string[] = [];
  let stop = false;
  for (let at = evening + 31 * min; !stop; at += 30 * min) {
    const w = walk(s, defaultEscalationPolicy, facts(), at);
    reminded.push(...w.actions.flatMap((a) => (a.kind === 'remind' ? [`${a.contactId}@${a.stage}`] : [])));
    s = w.state; stop = w.stop;
    if (at > evening + 10 * 60 * min) throw new Error('reminders never stopped');
  }
  t.same(reminded, ['ken@remind0', 'ken@remind1', 'ken@remind2']);
  t.equal(s.reminders, 3);

  const early = walk(ack.next.state, defaultEscalationPolicy, facts(), evening + 20 * min);
  t.same([early.actions, early.at], [[], evening + 31 * min], 'not yet due: waits');

  const omw = ev({ kind: 'on-my-way', contactId: 'taro', etaMinutes: 20 });
  t.same(omw.actions, [{ kind: 'tell-told', stage: 'omw0', message: 'on-my-way', except: 'taro' }]);
  t.same([omw.next.state.phase, omw.next.state.etaAt, omw.next.at], ['on-my-way', evening + 21 * min, evening + 31 * min], 'ETA + grace (10 min)');
  const omwDefault = ev({ kind: 'on-my-way' });
  t.equal(omwDefault.next.state.etaAt, evening + 31 * min, 'no ETA: defaultEtaMinutes');
  t.equal(omwDefault.next.state.ackContactId, undefined);
  t.same(ev({ kind: 'acknowledged' }, omw.next.state).next.state.phase, 'on-my-way', 'an acknowledgement does not undo "on my way"');

  const late = walk(omw.next.state, defaultEscalationPolicy, facts(), evening + 31 * min);
  t.same(audits(late.actions).slice(0, 2), ['escalation.resume', 'escalation.tier']);
  t.ok(late.actions.some((a) => a.kind === 'reopen-alerts'), 'the alerts open again');
  t.same(pages(late.actions), ['carer@1:2:0'], 'resumes at the next tier with fresh keys (epoch 1)');
  t.same([late.state.phase, late.state.epoch], ['running', 1]);

  const arrived = ev({ kind: 'arrived', contactId: 'taro' }, omw.next.state, evening + 25 * min);
  t.same(arrived.actions, []);
  t.same([arrived.next.state.phase, arrived.next.state.etaAt, arrived.next.state.remindAt, arrived.next.at], ['arrived', undefined, evening + 55 * min, evening + 55 * min]);
});

t.test('resolve: the escalation stops when nothing in its group is left open', async (t) => {
  const running = walk(start('critical'), defaultEscalationPolicy, facts(), evening).state;
  const one = decide(running, defaultEscalationPolicy, facts({ event: { kind: 'resolved', openLeft: 1 } }), evening);
  t.same([one.actions, one.next.stop, one.next.at, one.next.state.phase], [[], undefined, undefined, 'running'], 'another member is open: the schedule stays');
  const all = decide(running, defaultEscalationPolicy, facts({ event: { kind: 'resolved', openLeft: 0 } }), evening);
  t.same([all.next.stop, all.next.state.phase], [true, 'resolved']);
  t.same(walk(all.next.state, defaultEscalationPolicy, facts(), evening + 60 * min).actions, [], 'a resolved escalation pages nobody');
});

t.test('a severity rise restarts at the new entry tier with fresh keys; a reopen pages from the entry tier again', async (t) => {
  const warning = walk(start('warning'), defaultEscalationPolicy, facts(), evening).state;
  const up = decide(warning, defaultEscalationPolicy, facts({ event: { kind: 'severity-raised', severity: 'critical', rule: 'help' } }), evening + min);
  t.same(audits(up.actions), ['escalation.severity']);
  t.same([up.next.state.severity, up.next.state.epoch, up.next.state.tier, up.next.state.started, up.next.at], ['critical', 1, 1, false, evening + min]);
  t.same(pages(walk(up.next.state, defaultEscalationPolicy, facts(), evening + min).actions), ['ken@1:1:0', 'taro@1:1:0']);

  const same = decide(warning, defaultEscalationPolicy, facts({ event: { kind: 'severity-raised', severity: 'warning', rule: 'x' } }), evening);
  t.same([same.actions, same.next.at], [[], undefined], 'not higher: nothing');

  const acked = decide(warning, defaultEscalationPolicy, facts({ event: { kind: 'acknowledged' } }), evening).next.state;
  const upAcked = decide(acked, defaultEscalationPolicy, facts({ event: { kind: 'severity-raised', severity: 'critical', rule: 'help' } }), evening);
  t.same([upAcked.next.state.phase, upAcked.next.state.severity, upAcked.next.state.epoch, upAcked.next.at], ['acknowledged', 'critical', 0, undefined], 'someone is handling it: recorded, nobody paged');

  const notice: PolicySnapshot = { ...defaultEscalationPolicy, tiers: [defaultEscalationPolicy.tiers[1]!], entry: { info: 'family', warning: 'family', critical: 'family' }, notice: true };
  const n = decide(start('info', notice), notice, facts({ event: { kind: 'severity-raised', severity: 'warning', rule: 'x', homePolicy: defaultEscalationPolicy } }), evening);
  t.equal(n.next.policy, defaultEscalationPolicy, 'a notice turned warning escalates by the home policy');
  t.equal(n.next.state.tier, 0, "from the home policy's warning entry: the resident");

  const reopened = decide(acked, defaultEscalationPolicy, facts({ event: { kind: 'reopened', severity: 'critical' } }), evening);
  t.same([reopened.next.state.phase, reopened.next.state.epoch, reopened.next.state.tier, reopened.next.at], ['running', 1, 1, evening]);
});

t.test('nothing is decided for a group member, a paused (cleared) group or a finished escalation', async (t) => {
  const s = start('critical');
  t.same(decide({ ...s, leader: 'a0' }, defaultEscalationPolicy, facts(), evening).next.stop, true);
  t.same(decide(s, defaultEscalationPolicy, facts({ activeAlerts: 0 }), evening).actions, []);
  for (const phase of ['resolved', 'exhausted'] as const) t.same(decide({ ...s, phase }, defaultEscalationPolicy, facts(), evening), { actions: [], next: { state: { ...s, phase }, stop: true } });
});
