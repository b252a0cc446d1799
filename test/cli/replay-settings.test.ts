import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { tempDir } from '../hub/helpers.js';
import { capture } from '../support/cli-io.js';

t.test('replay --home-settings: each home of a multi-home file in its own zone with its own waking hours', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'two.ndjson');
  writeFileSync(file, [
    { home: 'tok', device: 'pir', id: 'p1', ts: '2026-01-05T08:00:00+09:00', kind: 'motion', occupied: true },
    { home: 'ams', device: 'pir', id: 'p1', ts: '2026-01-05T08:00:00+01:00', kind: 'motion', occupied: true },
  ].map((l) => JSON.stringify(l)).join('\n'));
  const settings = join(dir, 'ams.home.json');
  writeFileSync(settings, JSON.stringify({ format: 'mimamori-home/1', home: 'ams', timezone: 'Europe/Amsterdam', wakingHours: { from: '10:00', to: '23:00' } }));
  const firstWarning = (io: { stdout: string[] }, home: string) => (io.stdout.map((l) => JSON.parse(l) as { home: string; type: string; severity: string; ts: string })
    .find((f) => f.home === home && f.type === 'noSignOfLife' && f.severity === 'warning'))?.ts;

  let io = capture();
  t.equal(await main(['replay', file, '--until', '2026-01-06T00:00:00Z', '--home-settings', settings], {}, io), 0);
  t.equal(firstWarning(io, 'ams'), '2026-01-05T13:00:00+01:00', '3 h of her waking day (from 10:00, Amsterdam time), in her zone');
  t.equal(firstWarning(io, 'tok'), '2026-01-05T11:00:00+09:00', 'the other home keeps the defaults (07:00–22:00, Asia/Tokyo)');

  io = capture();
  t.equal(await main(['replay', file, '--until', '2026-01-06T00:00:00Z'], {}, io), 0);
  t.equal(firstWarning(io, 'ams'), '2026-01-05T19:00:00+09:00', 'without settings: Tokyo time and hours for everyone');

  writeFileSync(settings, JSON.stringify({ format: 'mimamori-home/1', home: 'ams', timezone: 'Europe/Amsterdam', wakingHours: { from: '25:00', to: '23:00' } }));
  io = capture();
  t.equal(await main(['replay', file, '--home-settings', settings], {}, io), 1);
  t.match(io.stderr.join('\n'), /ams\.home\.json: wakingHours\.from: HH:MM/);
});

t.test('replay --home-settings: absences entered in the settings are the home\'s context', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'trip.ndjson');
  // Up at 07:55, out through the front door at 08:00, back the next day at 16:00.
  writeFileSync(file, [
    { home: 'h1', device: 'pir', id: 'p1', ts: '2026-01-05T07:55:00+09:00', kind: 'motion', occupied: true },
    { home: 'h1', device: 'front-door', id: 'd1', ts: '2026-01-05T08:00:00+09:00', kind: 'door', open: true, door: 'front' },
    { home: 'h1', device: 'front-door', id: 'd2', ts: '2026-01-05T08:01:00+09:00', kind: 'door', open: false, door: 'front' },
    { home: 'h1', device: 'front-door', id: 'd3', ts: '2026-01-06T16:00:00+09:00', kind: 'door', open: true, door: 'front' },
    { home: 'h1', device: 'front-door', id: 'd4', ts: '2026-01-06T16:01:00+09:00', kind: 'door', open: false, door: 'front' },
    { home: 'h1', device: 'pir', id: 'p2', ts: '2026-01-06T16:03:00+09:00', kind: 'motion', occupied: true },
  ].map((l) => JSON.stringify(l)).join('\n'));
  const settings = join(dir, 'h1.home.json');
  const home = { format: 'mimamori-home/1', home: 'h1', timezone: 'Asia/Tokyo', frontDoor: 'front' };
  const family = (io: { stdout: string[] }) => io.stdout.map((l) => JSON.parse(l) as { type: string; state: string; severity: string; audience: string; ts: string })
    .filter((f) => f.state === 'raised' && f.audience === 'family' && f.severity !== 'info').map((f) => `${f.type}@${f.ts}`);

  writeFileSync(settings, JSON.stringify(home));
  let io = capture();
  t.equal(await main(['replay', file, '--until', '2026-01-06T17:00:00+09:00', '--home-settings', settings], {}, io), 0);
  t.same(family(io), ['noSignOfLife@2026-01-05T20:01:00+09:00'], 'not entered: out longer than 12 h is a warning');

  writeFileSync(settings, JSON.stringify({ ...home, away: [{ from: '2026-01-05T08:00:00+09:00', to: '2026-01-06T16:00:00+09:00', reason: 'trip' }] }));
  io = capture();
  t.equal(await main(['replay', file, '--until', '2026-01-06T17:00:00+09:00', '--home-settings', settings], {}, io), 0);
  t.same(family(io), [], 'entered: nothing');
});
