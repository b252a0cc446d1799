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
