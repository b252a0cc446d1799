/**
 * Onboarding with a real hub (startHub: broker, ingest, rules, web app) and a
 * real bridge on a real mosquitto: a plug nobody mapped is reported by the
 * bridge and listed on the operator's onboarding page; a bad mapping is
 * refused in the operator's language and stores nothing; a good one
 * registers the device (audited), the bridge takes it at its next report and
 * the plug's next messages reach the rules — exactly those, nothing from
 * before; after a bridge restart the device is still mapped.
 */
import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { systemClock } from '../../core/clock.js';
import type { HomeEvent, Reading } from '../../core/events.js';
import { silentLogger } from '../../core/logger.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { startHub } from '../../cli/hub.js';
import { DemoClock } from '../../cli/demo.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret } from '../../dashboards/totp.js';
import { createDeviceBridge, parseDeviceMap, type DeviceBridge } from '../../edge/adapters/index.js';
import { bridgeAuthorization, bridgeReportPath } from '../../edge/adapters/onboarding-report.js';
import { messages } from '../../dashboards/i18n.js';
import { startMosquitto } from '../support/mosquitto.js';
import { tempDir, until } from '../support/wait.js';
import { password, setup, signIn, start } from '../dashboards/helpers.js';
import { testConfig } from '../hub/helpers.js';

t.test('a device the bridge heard is mapped on the operator page and its next messages reach the rules', async (t) => {
  const dir = tempDir(t, 'mimamori-onboarding-');
  const t0 = Date.parse('2026-11-21T07:00:00+09:00');
  const clock = new DemoClock(t0, silentLogger());
  const hub = await startHub({ config: testConfig(join(dir, 'hub')), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  const web = hub.webApp!;
  await hub.store.createHome({ id: 'h1', name: '山田家', timezone: 'Asia/Tokyo' });
  const bridgeLogin = await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'bridge', kind: 'bridge' });
  const totp = { op: newTotpSecret() };
  await hub.store.createAccount({ id: 'op', login: 'op', name: 'Operator', role: 'operator', language: 'ja', passwordHash: await hashPassword(password), createdAt: t0, totpSecret: totp.op });
  const op = await signIn({ web, totp, clock: systemClock }, 'op');

  const got: Reading[] = [];
  hub.ingest.readings.subscribe((r) => got.push(r));
  const events = () => got.filter((r): r is HomeEvent => r.kind !== 'heartbeat');

  const mosquitto = await startMosquitto(t);
  const stateDir = join(dir, 'bridge');
  const map = parseDeviceMap({ home: 'h1', bridge: { device: 'bridge', secret: bridgeLogin.secret } });
  const openBridge = () => createDeviceBridge({
    map, localUrl: mosquitto.url, hubUrl: hub.mqttUrl, webUrl: hub.webUrl, stateDir, clock, logger: silentLogger(),
    hubClientOptions: { reconnectPeriod: 50 }, localClientOptions: { reconnectPeriod: 100 },
  });
  let bridge: DeviceBridge = await openBridge();
  t.teardown(() => bridge.close());
  await until(() => bridge.localConnected(), 10_000, 'bridge subscribed');
  const plug = await mqtt.connectAsync(mosquitto.url, { clientId: 'kitchen-plug', reconnectPeriod: 0 });
  t.teardown(() => plug.endAsync(true));
  const heard = () => bridge.stats().received + bridge.stats().unmapped;
  const send = async (payload: object) => {
    clock.advanceBy(5_000);
    const before = heard();
    await plug.publishAsync('zigbee2mqtt/kitchen_plug', JSON.stringify(payload), { qos: 1 });
    await until(() => heard() === before + 1, 10_000, 'the bridge took the message');
    await bridge.settled();
  };
  const onboardingPage = async () => {
    const res = await web.app.inject({ method: 'GET', url: '/operator/onboarding', headers: { cookie: op.cookie, accept: 'text/html' } });
    t.equal(res.statusCode, 200);
    return res.body;
  };

  // Before anyone maps it, the plug is heard, listed, and nothing of it reaches the hub's rules.
  await send({ state: 'ON', power: 2, linkquality: 120 });
  await send({ state: 'ON', power: 1250, linkquality: 120 });
  t.same(await bridge.report(), { mapped: 0 });
  const body = await onboardingPage();
  t.match(body, /<code>kitchen_plug<\/code><\/td><td>2<\/td>/, 'the unmapped plug with its 2 messages');
  t.match(body, /ブリッジ bridge の最終報告/, 'the bridge is shown as reporting (ja)');
  t.equal(got.length, 0, 'nothing from an unmapped device reached the hub');

  // A bad mapping: every problem named in the operator's language; nothing stored, nothing audited.
  const post = (form: Record<string, string>) => web.app.inject({
    method: 'POST', url: '/operator/homes/h1/onboarding', headers: { cookie: op.cookie, accept: 'text/html' },
    payload: { _csrf: op.csrf, adapter: 'zigbee2mqtt', native: 'kitchen_plug', room: '', door: '', thresholdOn: '', thresholdOff: '', ...form },
  });
  let res = await post({ device: 'Kitchen Kettle!', kind: 'kettle', thresholdOn: '60', thresholdOff: '800' });
  t.equal(res.statusCode, 400);
  t.match(res.body, messages.errDevice.ja);
  t.match(res.body, messages.errThreshold.ja);
  t.match(res.body, messages.nothingChanged.ja);
  t.match(res.body, /value="Kitchen Kettle!"/, 'what was typed is kept in the form');
  res = await post({ device: 'kitchen-kettle', kind: 'toaster' });
  t.equal(res.statusCode, 400);
  t.match(res.body, messages.errKind.ja);
  res = await post({ device: 'bridge', kind: 'kettle' });
  t.equal(res.statusCode, 400, 'a device id already used in the home');
  t.match(res.body, messages.errDeviceTaken.ja);
  res = await post({ device: 'kitchen-kettle', kind: 'kettle', _csrf: 'forged' });
  t.equal(res.statusCode, 403, 'a form without the session CSRF token is refused');
  t.same((await hub.store.listDevices('h1')).map((d) => d.deviceId), ['bridge'], 'refused mappings stored nothing');
  t.equal((await hub.store.listAudit()).filter((a) => a.action === 'device.map').length, 0);

  // The good mapping: registered with fresh credentials, audited, and waiting for the bridge.
  res = await post({ device: 'kitchen-kettle', kind: 'kettle', room: 'kitchen', thresholdOn: '800', thresholdOff: '60' });
  t.equal(res.statusCode, 200);
  t.match(res.body, messages.mappedOnce.ja);
  t.match(res.body, /id="device-username">h1\/kitchen-kettle</);
  t.match((await hub.store.getDevice('h1', 'kitchen-kettle')), { kind: 'kettle', label: 'zigbee2mqtt kitchen_plug' });
  const audits = (await hub.store.listAudit()).filter((a) => a.action === 'device.map');
  t.equal(audits.length, 1, 'one audit record');
  t.match(audits[0], { actor: 'op', subject: 'h1/kitchen-kettle', detail: { adapter: 'zigbee2mqtt', native: 'kitchen_plug', role: 'kettle' } });
  t.notMatch(await onboardingPage(), /kitchen_plug/, 'no longer listed as unmapped');

  t.same(await bridge.report(), { mapped: 1 }, 'the bridge takes the mapping at its next report');
  t.match(bridge.devices(), [{ device: 'kitchen-kettle', adapter: 'zigbee2mqtt', native: 'kitchen_plug', role: 'kettle' }]);
  t.same(bridge.unmapped(), []);
  t.equal(statSync(join(stateDir, 'onboarded.json')).mode & 0o777, 0o600, 'the mapping (with its secret) is readable by the bridge only');

  // Its next messages flow: on at ≥ 800 W (the threshold set on the page), 700 W is still on, off at ≤ 60 W.
  await send({ state: 'ON', power: 1500, linkquality: 120 });
  const onAt = clock.now();
  await send({ state: 'ON', power: 700, linkquality: 120 });
  await send({ state: 'ON', power: 40, linkquality: 120 });
  await bridge.drained();
  await until(() => events().length === 2, 10_000, 'two kettle events at the hub');
  t.same(events().map((e) => `${e.device}:${e.kind}:${e.kind === 'kettle' ? e.state : ''}`), ['kitchen-kettle:kettle:on', 'kitchen-kettle:kettle:off']);
  t.equal(got.filter((r) => r.kind === 'heartbeat').length, 1, 'one heartbeat with the first message');
  t.ok((hub.engine.lastSignOfLife('h1') ?? 0) >= onAt, 'the rules took the kettle as a sign of life');

  // The hub stops handing the mapping over once the bridge lists the device; its login is checked.
  const ask = (authorization: string, payload: unknown = { devices: ['kitchen-kettle'], unmapped: [] }) =>
    web.app.inject({ method: 'POST', url: bridgeReportPath, headers: { authorization, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  res = await ask(bridgeAuthorization('h1', 'bridge', bridgeLogin.secret));
  t.same(res.json(), { mappings: [] });
  t.equal((await ask(bridgeAuthorization('h1', 'bridge', 'wrong'))).statusCode, 401);
  t.equal((await ask(bridgeAuthorization('h1', 'kitchen-kettle', 'x'))).statusCode, 401, 'a sensor login is not a bridge');
  t.equal((await ask(bridgeAuthorization('h1', 'bridge', bridgeLogin.secret), { devices: 'all', unmapped: [] })).statusCode, 400);

  // A restarted bridge still forwards the device mapped on the hub.
  await bridge.close();
  bridge = await openBridge();
  await until(() => bridge.localConnected(), 10_000, 'bridge subscribed again');
  await send({ state: 'ON', power: 1300, linkquality: 120 });
  await bridge.drained();
  await until(() => events().length === 3, 10_000, 'a third kettle event');
  t.match(events()[2], { device: 'kitchen-kettle', kind: 'kettle', state: 'on' });
  t.equal(bridge.stats().unmapped, 0, 'not unmapped after the restart');
});

t.test('the onboarding form speaks the operator\'s language: English', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  await f.store.setAccountLanguage('op', 'en');
  const op = await signIn(f, 'op');
  const bridge = await provisionDevice(f.store, { homeId: 'h1', deviceId: 'bridge', kind: 'bridge' });
  const report = await f.web.app.inject({
    method: 'POST', url: bridgeReportPath, headers: { authorization: bridgeAuthorization('h1', 'bridge', bridge.secret), 'content-type': 'application/json' },
    payload: JSON.stringify({ devices: [], unmapped: [{ adapter: 'echonet', native: '192.168.1.30/028801', messages: 1, firstSeen: start, lastSeen: start }] }),
  });
  t.same(report.json(), { mappings: [] });
  const page = await f.web.app.inject({ method: 'GET', url: '/operator/onboarding', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.match(page.body, messages.onboardingIntro.en);
  t.match(page.body, /<code>192\.168\.1\.30\/028801<\/code>/);
  const res = await f.web.app.inject({
    method: 'POST', url: '/operator/homes/h1/onboarding', headers: { cookie: op.cookie, accept: 'text/html' },
    payload: { _csrf: op.csrf, adapter: 'echonet', native: 'meter-1', device: 'meter', kind: 'power', thresholdOn: '5', thresholdOff: '' },
  });
  t.equal(res.statusCode, 400);
  t.match(res.body, 'Check the native id (1–200 characters; ECHONET Lite is &quot;&lt;ip address&gt;/&lt;EOJ&gt;&quot;');
  t.match(res.body, messages.errThreshold.en);
  t.match(res.body, messages.nothingChanged.en);
  t.equal(await f.store.getDevice('h1', 'meter'), undefined, 'nothing stored');
});
