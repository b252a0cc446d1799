/**
 * kill -9 mid-escalation: a hub-like child (store + notifier + escalation +
 * the real twilio client, on a scaled clock) is killed, restarted on the
 * same data folder, and every message in the local Twilio server's record
 * is counted: each tier reached its people exactly as often as the policy
 * says — none missing, none twice. The local Twilio server runs here, in the
 * parent, because a provider outlives the hub that crashed.
 *
 * Three kill points: while waiting between tiers; inside the send window
 * right after the first send key is written (the provider never got the
 * message: it is sent on restart); and right after the provider accepted
 * the first message but before the hub recorded that (found on restart, not
 * sent again).
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaledClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { startLocalTwilio, type LocalTwilio } from '../../notifier/local-twilio-server.js';
import { tempDir, until } from './helpers.js';
import { tsChildArgs } from '../support/ts-child.js';

const child = fileURLToPath(new URL('./fixtures/escalation-child.ts', import.meta.url));

// Six child processes in all, each loading the notifier: on a busy machine a
// start alone can take half a minute. The bounds below only guard against hangs.
t.setTimeout(900_000);

/** Family twice (repeats: 1), then the caregiver once, then emergency once. */
const policyCounts = { '+819011112222': 2, '+14155550123': 2, '+819033334444': 1, '+81311112222': 1 };

interface Provider { local: LocalTwilio; env: string; record: string }

/** The shared scaled clock (written for the child too) and the local Twilio server on it. */
async function provider(t: Test, dir: string, speed: number): Promise<Provider> {
  const t0 = { virtual: Date.parse('2026-11-21T19:42:00+09:00'), speed };
  // No real start: the child starts the clock when it is up (see resumeClock).
  writeFileSync(join(dir, 'clock.json'), JSON.stringify(t0));
  const clock = new ScaledClock(t0.virtual, speed);
  const record = join(dir, 'twilio-messages.ndjson');
  const local = await startLocalTwilio({ logger: silentLogger(), clock, recordFile: record });
  t.teardown(() => local.close());
  return { local, record, env: JSON.stringify({ url: local.url, accountSid: local.accountSid, authToken: local.authToken }) };
}

function start(t: Test, dir: string, p: Provider, o: { raise: boolean; crash?: 'after-key' | 'after-provider' }): { proc: ChildProcess; out: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const env: NodeJS.ProcessEnv = { ...process.env, MIMAMORI_TEST_TWILIO: p.env };
  if (o.crash) env.MIMAMORI_TEST_CRASH = o.crash;
  const proc = spawn(process.execPath, tsChildArgs(child, dir, ...(o.raise ? ['raise'] : [])), { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => { proc.kill('SIGKILL'); });
  return { proc, out: () => out, exited };
}

/** Distinct messages (by sid) per destination in the local Twilio server's record file. */
function sent(file: string): Map<string, number> {
  const bySid = new Map<string, string>();
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { kind: string; sid: string; to: string };
      if (r.kind === 'message') bySid.set(r.sid, r.to);
    }
  }
  const counts = new Map<string, number>();
  for (const to of bySid.values()) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/**
 * Stops the hub's virtual time where the dead child left it (no child, no
 * time passing): the next child starts it again when it is up, at `speed`.
 * So a slow start on a busy machine cannot age an interrupted send past the
 * reconciler's resend window, and no scaled timer races the test.
 */
function resumeClock(dir: string, speed: number): void {
  const file = join(dir, 'clock.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as { real?: number; virtual: number; speed: number };
  const virtual = c.real === undefined ? c.virtual : c.virtual + (Date.now() - c.real) * c.speed;
  writeFileSync(file, JSON.stringify({ virtual, speed }));
}

/** Restarts the child and waits until the escalation ran out of tiers; returns the record's counts. */
async function restartToTheEnd(t: Test, dir: string, p: Provider, speed: number): Promise<Map<string, number>> {
  resumeClock(dir, speed);
  const second = start(t, dir, p, { raise: false });
  await until(() => second.out().includes('done'), 180_000, 'the escalation to run out of tiers after the restart');
  await p.local.settled();
  const counts = sent(p.record);
  second.proc.kill('SIGTERM');
  await second.exited;
  return counts;
}

async function reconciliations(dir: string): Promise<unknown[]> {
  const store = createSqliteStore(join(dir, 'hub.db'));
  try {
    return (await store.listAudit()).filter((a) => a.action === 'send.reconcile').map((a) => (a.detail as { outcome?: string }).outcome);
  } finally {
    await store.close();
  }
}

t.test('kill -9 mid-escalation, restart: every tier sent, nothing twice', async (t) => {
  const dir = tempDir(t);
  const p = await provider(t, dir, 60);
  // The first child runs at real speed: the family repeat is three real
  // minutes away, so the kill below lands between the tiers however busy the
  // machine is. The restart continues the same virtual time 60× faster.
  resumeClock(dir, 1);
  const first = start(t, dir, p, { raise: true });
  await until(() => first.out().includes('raised'), 120_000, 'the child raised the alert');
  // The family tier went out (two people): kill it hard while it waits for the repeat.
  await until(() => total(sent(p.record)) >= 2, 120_000, 'family SMS in the record');
  first.proc.kill('SIGKILL');
  await first.exited;
  const atKill = sent(p.record);
  t.equal(atKill.get('+819011112222'), 1);
  t.equal(atKill.get('+14155550123'), 1);

  t.same(Object.fromEntries(await restartToTheEnd(t, dir, p, 60)), policyCounts);
});

t.test('kill -9 right after the send key is written, before the provider is called: sent on restart, once', async (t) => {
  const dir = tempDir(t);
  const p = await provider(t, dir, 120);
  const first = start(t, dir, p, { raise: true, crash: 'after-key' });
  const { signal } = await first.exited;
  t.equal(signal, 'SIGKILL', 'the child died inside the send window');
  await p.local.settled();
  t.equal(total(sent(p.record)), 0, 'the provider got nothing');

  t.same(Object.fromEntries(await restartToTheEnd(t, dir, p, 120)), policyCounts, 'none missing, none duplicated');
  t.same(await reconciliations(dir), ['resent'], 'the interrupted send was reconciled and sent');
});

t.test('kill -9 right after the provider accepted, before the hub recorded it: found on restart, not sent again', async (t) => {
  const dir = tempDir(t);
  const p = await provider(t, dir, 120);
  const first = start(t, dir, p, { raise: true, crash: 'after-provider' });
  const { signal } = await first.exited;
  t.equal(signal, 'SIGKILL', 'the child died inside the send window');
  await p.local.settled();
  t.equal(total(sent(p.record)), 1, 'the provider got the first message');

  t.same(Object.fromEntries(await restartToTheEnd(t, dir, p, 120)), policyCounts, 'none missing, none duplicated');
  t.same(await reconciliations(dir), ['found'], 'the interrupted send was found at the provider');
});
