/** The data folder is private: folders 0700, files 0600 — created so, and fixed at start if looser. */
import t from 'tap';
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { VirtualClock } from '../../core/clock.js';
import { securePrivateDir } from '../../core/file-modes.js';
import { startHub } from '../../cli/hub.js';
import { captureLogs } from '../broker/helpers.js';
import { tempDir, testConfig } from './helpers.js';

const start = Date.parse('2026-11-21T06:00:00+09:00');

/** Every folder and file under `dir` whose mode lets the group or others in. */
function looseEntries(dir: string): string[] {
  const out: string[] = [];
  const visit = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) out.push(`${relative(dir, p) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const n of readdirSync(p)) visit(join(p, n));
  };
  visit(dir);
  return out;
}
const modeOf = (p: string) => (lstatSync(p).mode & 0o777).toString(8);

t.test('a hub started on a loose data folder fixes it, logs it once, and creates everything private', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  mkdirSync(join(dataDir, 'photos'), { recursive: true });
  writeFileSync(join(dataDir, 'photos', 'old.jpg'), 'jpeg');
  writeFileSync(join(dataDir, 'notes.txt'), 'notes');
  chmodSync(dataDir, 0o755); chmodSync(join(dataDir, 'photos'), 0o755);
  chmodSync(join(dataDir, 'photos', 'old.jpg'), 0o644); chmodSync(join(dataDir, 'notes.txt'), 0o666);
  t.equal(looseEntries(dataDir).length, 4, 'four loose entries before the start');

  const logs = captureLogs();
  const hub = await startHub({ config: testConfig(dataDir, { logLevel: 'debug', flows: { enabled: false } }), logger: logs.logger, clock: new VirtualClock(start) });
  t.teardown(() => hub.close());
  const fixed = logs.lines.map((l) => JSON.parse(l) as { msg: string; dirs?: number; files?: number; paths?: string[] }).filter((l) => l.msg.startsWith('data folder permissions were looser'));
  t.equal(fixed.length, 1, 'one log line');
  t.same([fixed[0]?.dirs, fixed[0]?.files, fixed[0]?.paths?.sort()], [2, 2, ['.', 'notes.txt', 'photos', 'photos/old.jpg']], 'two folders and two files fixed, named');

  t.same([modeOf(dataDir), modeOf(join(dataDir, 'photos')), modeOf(join(dataDir, 'photos', 'old.jpg')), modeOf(join(dataDir, 'notes.txt'))], ['700', '700', '600', '600']);
  const made = readdirSync(dataDir).sort();
  for (const name of ['mimamori.db', 'totp-seed.secret', 'ack-link.secret', 'vapid-keys.json', 'history-buffer']) t.ok(made.includes(name), `${name} exists`);
  t.same(looseEntries(dataDir), [], 'nothing the hub, influxd or the broker created is readable by others (store, secrets, TLS, queue, influx dir)');
});

t.test('securePrivateDir leaves a private folder alone and keeps the owner bits', async (t) => {
  const dir = join(tempDir(t), 'd');
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh', { mode: 0o755 });
  writeFileSync(join(dir, 'ok'), 'x', { mode: 0o600 });
  chmodSync(join(dir, 'run.sh'), 0o755); chmodSync(dir, 0o700);
  t.same(securePrivateDir(dir), { dirs: 0, files: 1, paths: ['run.sh'] });
  t.equal(modeOf(join(dir, 'run.sh')), '700', 'group and others removed, owner keeps execute');
  t.same(securePrivateDir(dir), { dirs: 0, files: 0, paths: [] }, 'a second run changes nothing');
});
