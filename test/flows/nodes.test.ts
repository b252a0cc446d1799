/**
 * Each custom node under Node-RED's own test helper, wired to a real bridge
 * (real store, notifier and local Twilio-compatible server).
 */
import t from 'tap';
import { createRequire } from 'node:module';
import registerMimamoriNodes from '../../flows/nodes/index.js';
import { settingsKey } from '../../flows/api.js';
import { findingFromMessage } from '../../flows/nodes/finding-out.js';
import { until } from '../support/wait.js';
import { startMiniHub, start, type MiniHub } from './helpers.js';

interface TestNode {
  on(event: 'input', fn: (msg: Record<string, unknown>) => void): void;
  /** The helper's spy: every `node.error(...)` call. */
  on(event: 'call:error', fn: (call: { args: unknown[] }) => void): void;
  receive(msg: Record<string, unknown>): void;
}
interface Helper {
  init(runtimePath: string, settings?: object): void;
  settings(s: object): object;
  load(nodes: unknown, flow: object[], credentials?: object): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
}
const require = createRequire(import.meta.url);
const helper = require('node-red-node-test-helper') as Helper;
helper.init(require.resolve('node-red'));

let hub: MiniHub;
t.before(async () => {
  hub = await startMiniHub({ maxNotifyPerHour: 2 });
  helper.settings({ [settingsKey]: hub.bridge });
  await helper.startServer();
});
t.teardown(async () => { await helper.stopServer(); await hub.close(); });
t.afterEach(() => helper.unload());

const tab = { id: 'f1', type: 'tab', label: 'test' };
const homeNode = (id: string, home: string) => ({ id, type: 'mimamori-home', home });

/** The messages of every error node `id` reports. */
function errorsOf(id: string): string[] {
  const got: string[] = [];
  helper.getNode(id).on('call:error', (call) => got.push(String((call.args[0] as Error | undefined)?.message ?? call.args[0])));
  return got;
}

/** Collects what a helper node receives. */
function collect(id: string): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  helper.getNode(id).on('input', (msg) => got.push(msg));
  return got;
}

const climate = (home: string, celsius: number, id: string) => ({ kind: 'climate' as const, id, ts: '2026-07-21T09:00:00+09:00', celsius, home, device: 'living-climate', at: start });

t.test('mimamori-home + event in: only the configured home and kinds come out', async (t) => {
  await helper.load(registerMimamoriNodes, [
    tab, homeNode('home1', 'h1'), homeNode('all', '*'),
    { id: 'ev', type: 'mimamori event in', z: 'f1', home: 'home1', kinds: ['climate'], wires: [['out']] },
    { id: 'evAll', type: 'mimamori event in', z: 'f1', home: 'all', kinds: [], wires: [['outAll']] },
    { id: 'out', type: 'helper', z: 'f1' }, { id: 'outAll', type: 'helper', z: 'f1' },
  ]);
  const one = collect('out');
  const all = collect('outAll');
  hub.readings.next(climate('h1', 30, 'c1'));
  hub.readings.next(climate('h2', 33, 'c2'));
  hub.readings.next({ kind: 'door', id: 'd1', ts: '2026-07-21T09:00:00+09:00', open: true, door: 'fridge', home: 'h1', device: 'fridge-door', at: start });
  hub.readings.next({ kind: 'heartbeat', home: 'h1', device: 'fridge-door', at: start });
  // Node-RED delivers messages asynchronously; the last event through is the barrier.
  hub.readings.next(climate('h1', 31, 'c-last'));
  await until(() => one.length >= 2 && all.length >= 4, 5000, 'the events');
  t.equal(one.length, 2, 'home h1 climate only');
  t.match(one[0], { topic: 'h1/living-climate/climate', home: 'h1', kind: 'climate', payload: { celsius: 30, home: 'h1' } });
  t.same(all.map((m) => m.kind), ['climate', 'climate', 'door', 'climate'], 'all homes, every event kind, no heartbeats');
  t.match(all[2], { payload: { door: 'fridge', open: true } });
});

t.test('event in: kinds may include heartbeats; a node without a home config says so', async (t) => {
  await helper.load(registerMimamoriNodes, [
    tab, homeNode('all', '*'),
    { id: 'hb', type: 'mimamori event in', z: 'f1', home: 'all', kinds: ['heartbeat'], wires: [['out']] },
    { id: 'orphan', type: 'mimamori event in', z: 'f1', home: '', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' },
  ]);
  const got = collect('out');
  hub.readings.next({ kind: 'heartbeat', home: 'h2', device: 'x', at: start, battery: 80 });
  hub.readings.next(climate('h2', 25, 'c3'));
  hub.readings.next({ kind: 'heartbeat', home: 'h1', device: 'y', at: start });
  await until(() => got.length >= 2, 5000, 'the heartbeats');
  t.same(got.map((m) => m.kind), ['heartbeat', 'heartbeat'], 'heartbeats only, and the orphan node sends nothing');
});

t.test('mimamori-home refuses something that is not a home id', async (t) => {
  await helper.load(registerMimamoriNodes, [
    tab, homeNode('bad', 'Not A Home!'),
    { id: 'ev', type: 'mimamori event in', z: 'f1', home: 'bad', wires: [['out']] },
    { id: 'good', type: 'mimamori event in', z: 'f1', home: 'all', wires: [['outGood']] },
    homeNode('all', '*'),
    { id: 'out', type: 'helper', z: 'f1' }, { id: 'outGood', type: 'helper', z: 'f1' },
  ]);
  const got = collect('out');
  const good = collect('outGood');
  hub.readings.next(climate('h1', 30, 'c4'));
  await until(() => good.length === 1, 5000, 'the event to the valid node');
  t.equal(got.length, 0, 'an invalid home matches nothing');
});

t.test('finding out: raises an alert through the notifier (SMS to the family), repeats only count', async (t) => {
  await helper.load(registerMimamoriNodes, [
    tab, homeNode('home1', 'h1'),
    { id: 'fo', type: 'mimamori finding out', z: 'f1', home: 'home1', rule: 'heat', severity: 'warning', audience: 'family', messageEn: 'Too hot', messageJa: '暑すぎます', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' },
  ]);
  const got = collect('out');
  const errors = errorsOf('fo');
  const before = hub.twilio.messages().length;
  helper.getNode('fo').receive({ payload: 32, data: { celsius: 32 }, observed: { en: 'living room 32 °C', ja: '居間 32℃' } });
  await until(() => got.length === 1, 5000, 'the finding result');
  t.match(got[0], { payload: { created: true, rule: 'flow-heat', state: 'raised', home: 'h1' } });
  const alerts = await hub.store.listAlerts({ homeId: 'h1', status: 'open' });
  const alert = alerts.find((a) => a.rule === 'flow-heat');
  t.ok(alert, 'an open alert for the flow rule');
  t.equal(alert?.severity, 'warning');
  t.match(alert?.finding, { type: 'flow', message: { en: 'Too hot', ja: '暑すぎます' }, observed: { en: 'living room 32 °C' }, data: { celsius: 32 } });
  await hub.notifier.idle();
  const sms = hub.twilio.messages().slice(before);
  t.ok(sms.length >= 1, 'the family gets an SMS');
  t.ok(sms.some((m) => m.body.includes('暑すぎます') || m.body.includes('Too hot')), 'with the flow\'s message');

  helper.getNode('fo').receive({ payload: 33 });
  await until(() => got.length === 2, 5000, 'the second result');
  t.match(got[1], { payload: { created: false, alertId: alert?.id } }, 'a repeat joins the open alert');
  t.equal(errors.length, 0, 'no errors');
});

t.test('finding out: bad input is a node error, never a crash', async (t) => {
  await helper.load(registerMimamoriNodes, [
    tab, homeNode('all', '*'),
    { id: 'fo', type: 'mimamori finding out', z: 'f1', home: 'all', rule: 'x', messageEn: 'm', messageJa: 'm', wires: [[]] },
  ]);
  const errors = errorsOf('fo');
  helper.getNode('fo').receive({ payload: 1 });
  helper.getNode('fo').receive({ home: 'nowhere', payload: 1 });
  await until(() => errors.length === 2, 5000, 'two errors');
  t.match(errors[0], /which home/);
  t.match(errors[1], /no home "nowhere"/);
  t.equal((await hub.store.listAlerts({ homeId: 'h2' })).length, 0, 'nothing was raised');
});

t.test('findingFromMessage: message sources, severity override, clear, rule prefix', async (t) => {
  const cfg = { rule: 'fridge', severity: 'info', messageEn: 'node text', messageJa: 'ノード文' };
  const f = findingFromMessage(cfg, { message: { en: 'msg text', ja: 'メッセージ' }, severity: 'critical' }, 'h1', 5);
  t.match(f, { rule: 'flow-fridge', severity: 'critical', message: { en: 'msg text' }, at: 5, state: 'raised' });
  t.match(findingFromMessage(cfg, { payload: 'just text', clear: true }, 'h1', 5), { message: { en: 'just text', ja: 'just text' }, state: 'cleared', severity: 'info' });
  t.match(findingFromMessage(cfg, { payload: 3 }, 'h1', 5), { message: { en: 'node text', ja: 'ノード文' } });
  t.match(findingFromMessage({ ...cfg, severity: 'loud' }, { rule: 'flow-other' }, 'h1', 5), { rule: 'flow-other', severity: 'warning' });
  t.type(findingFromMessage({}, {}, 'h1', 5), 'string', 'no rule is refused');
  t.type(findingFromMessage({ rule: 'r' }, {}, 'h1', 5), 'string', 'no message is refused');
});

t.test('alert in: opened, acknowledged, resolved — once each, filtered by home and change', async (t) => {
  await helper.load(registerMimamoriNodes, [
    tab, homeNode('home2', 'h2'), homeNode('home1', 'h1'),
    { id: 'ai', type: 'mimamori alert in', z: 'f1', home: 'home2', opened: true, acknowledged: true, resolved: true, wires: [['out']] },
    { id: 'aiResolved', type: 'mimamori alert in', z: 'f1', home: 'home2', opened: false, acknowledged: false, resolved: true, wires: [['outResolved']] },
    { id: 'aiOther', type: 'mimamori alert in', z: 'f1', home: 'home1', wires: [['outOther']] },
    { id: 'out', type: 'helper', z: 'f1' }, { id: 'outResolved', type: 'helper', z: 'f1' }, { id: 'outOther', type: 'helper', z: 'f1' },
  ]);
  const got = collect('out');
  const resolvedOnly = collect('outResolved');
  const other = collect('outOther');
  const finding = {
    home: 'h2', rule: 'help-button', type: 'helpButton', state: 'raised' as const, severity: 'critical' as const, audience: 'family' as const, at: hub.clock.now(),
    message: { en: 'Help button pressed', ja: '緊急ボタンが押されました' }, expected: { en: '-', ja: '-' }, observed: { en: '-', ja: '-' },
  };
  const { alertId } = await hub.notifier.handleFinding(finding);
  await hub.notifier.handleFinding({ ...finding, at: hub.clock.now() + 1000 }); // a repeat: not a new "opened"
  await hub.bridge.idle();
  await until(() => got.length === 1, 5000, 'opened');
  t.match(got[0], { topic: 'alert/opened', payload: { change: 'opened', alertId, homeId: 'h2', severity: 'critical', message: { en: 'Help button pressed' } } });
  await hub.notifier.responder.acknowledge({ alertId: alertId!, via: 'dashboard' });
  await hub.bridge.idle();
  await until(() => got.length === 2, 5000, 'acknowledged');
  t.match(got[1], { topic: 'alert/acknowledged', payload: { change: 'acknowledged', alertId } });
  await hub.notifier.responder.resolve({ alertId: alertId!, via: 'dashboard' });
  await hub.bridge.idle();
  await until(() => got.length === 3, 5000, 'resolved');
  t.match(got[2], { topic: 'alert/resolved', payload: { change: 'resolved' } });
  t.same(resolvedOnly.map((m) => (m.payload as { change: string }).change), ['resolved'], 'a node can pick one change');
  t.equal(other.length, 0, 'another home hears nothing');
});

t.test('notify: each contact of the group in their language; rate limited per home', async (t) => {
  await helper.load(registerMimamoriNodes, [
    tab, homeNode('all', '*'),
    { id: 'n', type: 'mimamori notify', z: 'f1', home: 'all', group: 'family', textEn: 'Fridge not opened', textJa: '冷蔵庫が開いていません', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1' },
  ]);
  const got = collect('out');
  const errors = errorsOf('n');
  const before = hub.twilio.messages().length;
  helper.getNode('n').receive({ home: 'h1' });
  await until(() => got.length === 1, 5000, 'first notify');
  t.match(got[0], { payload: { sent: 2, failed: 0, limited: false }, home: 'h1', group: 'family' });
  const sms = hub.twilio.messages().slice(before);
  t.same(new Set(sms.map((m) => m.body)), new Set(['冷蔵庫が開いていません', 'Fridge not opened']), 'Japanese to the Japanese speaker, English to the English speaker');
  t.same(sms.map((m) => m.to).sort(), ['+819012340001', '+819012340002'], 'only the family of h1');

  helper.getNode('n').receive({ home: 'h1', group: 'caregiver', payload: { en: 'Check in please', ja: '様子を見てください' } });
  await until(() => got.length === 2, 5000, 'second notify');
  t.match(got[1], { payload: { sent: 1 }, group: 'caregiver' });
  helper.getNode('n').receive({ home: 'h1' });
  await until(() => got.length === 3, 5000, 'third notify');
  t.match(got[2], { payload: { sent: 0, limited: true } }, 'the third message this hour is held back');
  t.equal(hub.twilio.messages().length - before, 3, 'three SMS in all');

  helper.getNode('n').receive({ home: 'h1', group: 'nobody' });
  await until(() => errors.length === 1, 5000, 'an error for a bad group');
  t.match(errors[0], /group must be one of/);
});
