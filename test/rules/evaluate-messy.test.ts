// The messy corpus (mimamori evaluate --corpus --messy): homes like the real recordings, deterministic,
// with the settings a user would write, and written out for --recordings.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { evaluateCommand, loadRecordings } from '../../cli/evaluate.js';
import { parseHomeSettings } from '../../edge/index.js';
import { buildMessyCorpus, messyKinds } from '../../rules/evaluate-messy-corpus.js';

t.test('the messy corpus: four kinds of home in turn, event-only, deterministic, with valid settings and collapse incidents', async (t) => {
  const a = buildMessyCorpus({ seed: 3, homes: 4, days: 24 });
  const b = buildMessyCorpus({ seed: 3, homes: 4, days: 24 });
  t.equal(JSON.stringify(a), JSON.stringify(b), 'same seed, same corpus');
  t.same(Object.values(a.kinds), [...messyKinds]);
  t.equal(a.homes.length, 4);
  for (const h of a.homes) {
    t.same(parseHomeSettings(JSON.parse(JSON.stringify(h.settings))), h.settings, `${h.settings.home}: settings a user could write`);
    t.equal(h.readings.filter((r) => r.kind === 'heartbeat').length, 0, `${h.settings.home}: no heartbeats`);
    t.ok(h.readings.length > 24 * 40, `${h.settings.home}: ${h.readings.length} readings`);
  }
  const [motionOnly, objectOnly, late] = a.homes;
  t.equal(motionOnly!.readings.filter((r) => ['kettle', 'water', 'gas', 'power'].includes(r.kind)).length, 0, 'motion-only: no kettle, no meters');
  t.equal(objectOnly!.readings.filter((r) => r.kind === 'motion' && !r.device.endsWith('-mat')).length, 0, 'object-only: no PIR');
  t.same(late!.settings.wakingHours, { from: '10:15', to: '23:00' }, 'the late riser\'s waking hours');
  t.ok(late!.settings.devices.some((d) => d.device === 'bed-mat' && d.role === 'mat' && d.held === true), 'mats are held states');
  const types = new Set(a.labelled.truth.incidents.map((i) => i.type));
  t.ok(types.has('collapse-after-arrival') && types.has('collapse-after-visitor'), `incident types ${[...types].join(', ')}`);
  t.ok(a.labelled.truth.away.length + a.labelled.truth.unannounced.length > 0, 'weekends or nights away');
});

t.test('mimamori evaluate --messy: needs --corpus or --write-corpus; --write-corpus DIR --messy writes what --recordings reads', async (t) => {
  const out: string[] = [], err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  t.equal(await evaluateCommand(['--messy'], io), 1);
  t.match(err.join('\n'), /--messy goes with --corpus or --write-corpus/);
  t.match((await (async () => { out.length = 0; await evaluateCommand(['--help'], io); return out.join('\n'); })()), /--messy/);
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-messy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(await evaluateCommand(['--write-corpus', dir, '--messy', '--homes', '2', '--days', '20'], io), 0);
  t.same(readdirSync(dir).sort(), ['messy-01.home.json', 'messy-01.ndjson', 'messy-02.home.json', 'messy-02.ndjson', 'messy.truth.json']);
  const loaded = await loadRecordings(dir, io);
  const built = buildMessyCorpus({ seed: 1, homes: 2, days: 20 });
  t.same(loaded.map((h) => h.readings.length), built.homes.map((h) => h.readings.length), 'every reading written and read back');
});
