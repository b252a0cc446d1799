/**
 * kill -9 mid-escalation: a hub-like child (store + notifier + escalation +
 * local Twilio server recording to a file, on a scaled clock) is killed
 * after the family tier went out, restarted on the same data folder, and
 * every message in the Twilio record is counted: each tier reached its
 * people exactly as often as the policy says — none missing, none twice.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempDir, until } from './helpers.js';

const child = fileURLToPath(new URL('./fixtures/escalation-child.ts', import.meta.url));
const tsImport = fileURLToPath(new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url));

function start(dir: string, raise: boolean): { proc: ChildProcess; out: () => string } {
  const proc = spawn(process.execPath, ['--import', tsImport, child, dir, ...(raise ? ['raise'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  return { proc, out: () => out };
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

t.test('kill -9 mid-escalation, restart: every tier sent, nothing twice', async (t) => {
  const dir = tempDir(t);
  const record = `${dir}/twilio-messages.ndjson`;
  const first = start(dir, true);
  t.teardown(() => { first.proc.kill('SIGKILL'); });
  await until(() => first.out().includes('raised'), 30_000, 'the child raised the alert');
  // The family tier went out (two people): kill it hard while it waits for the repeat.
  await until(() => [...sent(record).values()].reduce((a, b) => a + b, 0) >= 2, 10_000, 'family SMS in the record');
  const exited = new Promise((resolve) => first.proc.once('exit', resolve));
  first.proc.kill('SIGKILL');
  await exited;
  const atKill = sent(record);
  t.equal(atKill.get('+819011112222'), 1);
  t.equal(atKill.get('+14155550123'), 1);

  const second = start(dir, false);
  t.teardown(() => { second.proc.kill('SIGKILL'); });
  await until(() => second.out().includes('done'), 60_000, 'the escalation to run out of tiers after the restart');
  const counts = sent(record);
  // Policy: family twice (repeats: 1), then caregiver once, then emergency once.
  t.same(Object.fromEntries(counts), { '+819011112222': 2, '+14155550123': 2, '+819033334444': 1, '+81311112222': 1 });
  second.proc.kill('SIGTERM');
});
