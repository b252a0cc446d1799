/**
 * The demo keeps its own time, not security's (issue 11 item 8): on a busy
 * hub the street waits instead of running ahead, and the hub started with
 * the demo's sped-up clock still checks TOTP codes against the wall clock.
 */
import t from 'tap';
import type { Finding } from '../../core/findings.js';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { startHub } from '../../cli/hub.js';
import { DemoClock, demoHubOf, startDemo } from '../../cli/demo.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret, totpCode } from '../../dashboards/totp.js';
import { password, passwordStep, signIn } from '../dashboards/helpers.js';
import { tempDir, testConfig } from './helpers.js';

/** Holds the event loop, as a starved machine does to the hub. */
function busyFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a slow ingest */ }
}

t.test('a slow hub slows the demo street: no home falls behind the clock, no false no-sign-of-life', async (t) => {
  const dir = tempDir(t);
  const start = Date.parse('2026-11-21T05:00:00+09:00');
  const hours = 2;
  const stepMs = 60_000;
  const clock = new DemoClock(start, silentLogger());
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock });
  t.teardown(() => hub.close());

  // Every reading the hub takes in costs 30 ms of a blocked event loop: about 33 readings a second,
  // while the street at 1800× asks for about 40 (three homes, ~1.4 readings a simulated minute).
  const behind: number[] = [];
  const readings = hub.ingest.readings.subscribe((r) => {
    behind.push(clock.now() - r.at);
    busyFor(30);
  });
  t.teardown(() => readings.unsubscribe());
  const findings: Finding[] = [];
  const sub = hub.engine.findings.subscribe((f) => findings.push(f));
  t.teardown(() => sub.unsubscribe());

  const demo = await startDemo({
    store: hub.store, simClock: clock, wallClock: systemClock, speed: 1800, stepMs, hub: demoHubOf(hub), endAt: start + hours * 3600_000,
    logger: silentLogger(), mqttUrl: hub.mqttUrl, dataDir: dir, homes: 3, seed: 7, start,
    notifier: hub.notifier, twilioFrom: hub.config.twilio.from,
  });
  t.teardown(() => demo.close());
  await demo.finished;

  t.equal(clock.now(), start + hours * 3600_000, 'the street ran its two simulated hours');
  t.ok(demo.published() > 100, `the street published (${demo.published()})`);
  t.equal(behind.length, demo.published(), 'the hub took in every message before time moved on');
  t.ok(Math.max(...behind) <= stepMs, `no reading reached the hub more than one step behind its clock (worst ${Math.max(...behind)} ms)`);
  const silent = findings.filter((f) => f.state === 'raised' && (f.type === 'noSignOfLife' || /inactiv/i.test(f.type)));
  t.equal(silent.length, 0, 'no no-sign-of-life finding (none is scripted in these two hours)');
});

t.test('in demo mode a real authenticator\'s TOTP code works; a code of the sped-up clock does not', async (t) => {
  const dir = tempDir(t);
  // Simulated time ten days away from the wall clock, as the demo's is after a few minutes.
  const start = Date.now() - 10 * 24 * 3600_000;
  const clock = new DemoClock(start, silentLogger());
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  const secret = newTotpSecret();
  await hub.store.createAccount({ login: 'op', name: 'Operator', role: 'operator', language: 'ja', passwordHash: await hashPassword(password), totpSecret: secret, createdAt: clock.now() });
  const web = { app: hub.webApp!.app };

  const first = await passwordStep({ web, totp: { op: secret }, clock: systemClock }, 'op');
  t.equal(first.next, '/signin/totp', 'an operator needs the second factor');
  const simCode = await web.app.inject({ method: 'POST', url: '/signin/totp', headers: { cookie: first.cookie }, payload: { _csrf: first.csrf, code: totpCode(secret, clock.now()) } });
  t.equal(simCode.statusCode, 401, 'the code for the simulated time is refused');

  const session = await signIn({ web, totp: { op: secret }, clock: systemClock }, 'op');
  const page = await web.app.inject({ method: 'GET', url: '/operator', headers: { cookie: session.cookie, accept: 'text/html' } });
  t.equal(page.statusCode, 200, 'signed in with the code an authenticator shows now');
});
