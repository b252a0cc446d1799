import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecordedLine, type Reading } from '../../core/events.js';
import { main, type CliIo } from '../../cli/main.js';
import { convertRecording, parseHomeSettings } from '../../edge/recordings/index.js';
import { slug, wallToEpoch, wakingHoursFromSleep } from '../../edge/recordings/intervals.js';
import { tempDir } from '../hub/helpers.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'recordings');

/** A compact view of a reading: kind, device, state, local time. */
function brief(r: Reading): string {
  const ts = 'ts' in r ? r.ts : '';
  switch (r.kind) {
    case 'door': return `${ts} door ${r.device} ${r.door ?? ''} ${r.open ? 'open' : 'closed'}`;
    case 'motion': return `${ts} motion ${r.device} ${r.room ?? ''} ${r.occupied ? 'on' : 'off'}`;
    case 'water': return `${ts} water ${r.device} ${r.flowing ? 'on' : 'off'}`;
    case 'power': return `${ts} power ${r.device} ${r.watts}`;
    default: return `${ts} ${r.kind} ${r.device}`;
  }
}

t.test('van Kasteren house A text: front door, internal door, flush and cupboard mapped honestly; labels give the waking hours', async (t) => {
  const { readings, settings, unknown } = convertRecording('kasteren', 'housea', join(fixtures, 'kasteren'));
  t.equal(unknown, 1, 'the firing of sensor 77 (not in the table) is dropped and counted');
  t.same(readings.map(brief), [
    '2008-03-03T07:58:00+01:00 door bedroom-door bedroom-door open',
    '2008-03-03T07:58:20+01:00 door bedroom-door bedroom-door closed',
    '2008-03-03T08:02:10+01:00 water toilet-flush on',
    '2008-03-03T08:02:40+01:00 water toilet-flush off',
    '2008-03-03T08:05:00+01:00 door front-door front open',
    '2008-03-03T08:05:03+01:00 door front-door front closed',
    '2008-03-03T08:30:00+01:00 door tea-cupboard tea-cupboard open',
    '2008-03-03T08:30:15+01:00 door tea-cupboard tea-cupboard closed',
  ]);
  t.same(readings.map((r) => 'id' in r ? r.id : ''), ['bedroom-door-1', 'bedroom-door-2', 'toilet-flush-1', 'toilet-flush-2', 'front-door-1', 'front-door-2', 'tea-cupboard-1', 'tea-cupboard-2'], 'ids number each device in time order');
  t.equal(settings.home, 'kasteren-housea');
  t.equal(settings.timezone, 'Europe/Amsterdam');
  t.equal(settings.frontDoor, 'front');
  t.same(settings.wakingHours, { from: '07:45', to: '23:45' }, 'median wake 07:50 and bedtime 23:40 of three nights, to 15 min');
  t.same(settings.labels, { from: '2008-03-01T23:40:00+01:00', to: '2008-03-03T14:00:00+01:00', out: [{ from: '2008-03-03T13:00:00+01:00', to: '2008-03-03T14:00:00+01:00' }] },
    'the "leave house" period, and the time the labels cover');
  t.same(settings.devices.map((d) => `${d.device}:${d.role}:${d.room ?? ''}`), ['front-door:front-door:hall', 'bedroom-door:contact:bedroom', 'toilet-flush:water:toilet', 'tea-cupboard:contact:kitchen']);
  t.same(parseHomeSettings(JSON.parse(JSON.stringify(settings))), settings, 'the settings pass their own schema');
});

t.test('van Kasteren export (houseB.sensors): wall-clock seconds, Dutch names, a held bed mat, a PIR, a sink float', async (t) => {
  const { readings, settings, unknown } = convertRecording('kasteren', 'houseb', join(fixtures, 'kasteren'));
  t.equal(unknown, 1);
  t.same(readings.map(brief), [
    '2009-07-21T08:00:00+02:00 motion mat-bed-links bedroom on',
    '2009-07-21T08:00:30+02:00 motion mat-bed-links bedroom off',
    '2009-07-21T08:01:00+02:00 motion pir-keuken kitchen on',
    '2009-07-21T08:01:05+02:00 motion pir-keuken kitchen off',
    '2009-07-21T08:01:40+02:00 water gootsteen-float on',
    '2009-07-21T08:01:42+02:00 water gootsteen-float off',
    '2009-07-21T08:03:20+02:00 door dresser dresser open',
    '2009-07-21T08:03:21+02:00 door dresser dresser closed',
    '2009-07-21T08:05:00+02:00 door front-door front open',
    '2009-07-21T08:05:10+02:00 door front-door front closed',
  ]);
  const mat = settings.devices.find((d) => d.device === 'mat-bed-links');
  t.same({ role: mat?.role, held: mat?.held, sensor: mat?.sensor }, { role: 'mat', held: true, sensor: 'pressure mat' });
  t.equal(settings.devices.find((d) => d.device === 'dresser')?.sensor, 'mercury switch');
  t.equal(settings.wakingHours, undefined, 'no labels, no waking hours');
  t.equal(settings.labels, undefined, 'no labels, no times out');
});

t.test('van Kasteren wall-clock lists (houseC-ss.txt) are read before houseC.sensors, whose copies lost id 7 (the front door in B)', async (t) => {
  const { readings, unknown } = convertRecording('kasteren', 'housec', join(fixtures, 'kasteren-ss'));
  t.equal(unknown, 0, 'no firing of an unnamed id: the renumbered 4 in houseC.sensors is not read');
  t.same(readings.map(brief), [
    '2008-11-19T08:00:00+01:00 motion pir-keuken kitchen on',
    '2008-11-19T08:00:05+01:00 motion pir-keuken kitchen off',
    '2008-11-19T08:04:00+01:00 door toilet-door toilet-door open',
    '2008-11-19T08:04:02+01:00 door toilet-door toilet-door closed',
    '2008-11-19T08:10:00+01:00 door front-door front open',
    '2008-11-19T08:10:08+01:00 door front-door front closed',
  ], 'in time order, on the house\'s wall clock, the front door kept');
});

t.test('Ordóñez: PIRs by place, maindoor is the front door, fridge a contact, seat/bed mats held, electric use as power', async (t) => {
  const { readings, settings } = convertRecording('ordonez', 'a', join(fixtures, 'ordonez'));
  t.same(readings.map(brief), [
    '2011-11-28T02:27:59+01:00 motion bed-mat bedroom on',
    '2011-11-28T10:18:11+01:00 motion bed-mat bedroom off',
    '2011-11-28T10:21:44+01:00 motion pir-basin bathroom on',
    '2011-11-28T10:23:02+01:00 water toilet-flush on',
    '2011-11-28T10:23:31+01:00 motion pir-basin bathroom off',
    '2011-11-28T10:23:36+01:00 water toilet-flush off',
    '2011-11-28T10:34:23+01:00 door fridge fridge open',
    '2011-11-28T10:34:41+01:00 door fridge fridge closed',
    '2011-11-28T10:40:00+01:00 power toaster 1000',
    '2011-11-28T10:41:30+01:00 power toaster 0',
    '2011-11-28T11:02:00+01:00 door front-door front open',
    '2011-11-28T11:02:09+01:00 door front-door front closed',
    '2011-11-28T11:05:00+01:00 motion pir-kitchen-doorway kitchen on',
    '2011-11-28T11:05:04+01:00 motion pir-kitchen-doorway kitchen off',
  ]);
  t.equal(settings.timezone, 'Europe/Madrid');
  t.same(settings.wakingHours, { from: '10:00', to: '01:30' }, 'three nights; the 40-minute nap is not a night');
  t.match(settings.wakingHoursSource, /3 labelled nights/);
  t.same(settings.labels, { from: '2011-11-25T01:00:00+01:00', to: '2011-11-28T12:10:00+01:00', out: [{ from: '2011-11-28T11:02:00+01:00', to: '2011-11-28T12:10:00+01:00' }] }, '"Leaving" is her time out');
  t.same(parseHomeSettings(JSON.parse(JSON.stringify(settings))), settings, 'the settings pass their own schema');
});

t.test('Tapia: activity blocks across midnight, a firing listed twice is one, the foyer door is the front door', async (t) => {
  const { readings, settings } = convertRecording('tapia', 'subject1', join(fixtures, 'tapia'));
  t.same(readings.map(brief), [
    '2003-04-01T23:55:10-05:00 water toilet-flush-bathroom-100 on',
    '2003-04-01T23:55:30-05:00 water toilet-flush-bathroom-100 off',
    '2003-04-02T00:01:02-05:00 water sink-faucet-hot-bathroom-103 on',
    '2003-04-02T00:01:20-05:00 water sink-faucet-hot-bathroom-103 off',
    '2003-04-02T08:01:00-05:00 door cabinet-kitchen-102 cabinet-kitchen-102 open',
    '2003-04-02T08:01:05-05:00 door cabinet-kitchen-102 cabinet-kitchen-102 closed',
    '2003-04-02T08:03:00-05:00 door front-door front open',
    '2003-04-02T08:03:10-05:00 door front-door front closed',
  ]);
  t.equal(settings.frontDoor, 'front');
  t.equal(settings.timezone, 'America/New_York');
  t.ok(settings.notes?.some((n) => /labelled activities/.test(n)), 'says that unlabelled hours have no events');
  t.ok(settings.notes?.some((n) => /1 labelled activities with a date that does not exist were left out \(line 16: 4\/31\/2003 is not a date/.test(n)),
    'an activity dated 4/31 is left out and said, not rolled over into 1 May (subject2 has ten, copies of 1 May)');
});

t.test('CASAS: motion ON…OFF per area, the front door, lights as signs of life; a night keeps its toilet trip; Leave_Home…Enter_Home is her time out', async (t) => {
  const { readings, settings } = convertRecording('casas', 'al', join(fixtures, 'casas'));
  t.same(readings.slice(0, 12).map(brief), [
    '2011-06-15T08:00:00-07:00 motion kitchen kitchen on',
    '2011-06-15T08:00:02.500-07:00 motion kitchen kitchen off',
    '2011-06-15T08:01:00-07:00 door kitchen-kitchenlight kitchen-kitchenlight open',
    '2011-06-15T08:20:00-07:00 door kitchen-kitchenlight kitchen-kitchenlight closed',
    '2011-06-15T10:00:00-07:00 door front-door front open',
    '2011-06-15T10:00:01-07:00 motion outsidedoor-entry outsidedoor on',
    '2011-06-15T10:00:03-07:00 motion outsidedoor-entry outsidedoor off',
    '2011-06-15T10:00:05-07:00 door front-door front closed',
    '2011-06-15T12:00:00-07:00 door front-door front open',
    '2011-06-15T12:00:04-07:00 door front-door front closed',
    '2011-06-15T12:00:06-07:00 motion loungechair-livingroom loungechair on',
    '2011-06-15T12:00:06-07:00 motion loungechair-livingroom loungechair off',
  ], 'milliseconds kept; an OFF with no ON before it is a moment; the temperature line is not converted');
  t.ok(readings.some((r) => r.device === 'bedroom-closet' && r.kind === 'motion'), 'the closet is a motion sensor (CASAS names door contacts "…Door")');
  t.equal(settings.timezone, 'America/Los_Angeles');
  t.equal(settings.frontDoor, 'front');
  t.same(settings.wakingHours, { from: '07:00', to: '23:00' }, 'three nights: a toilet trip labelled apart (the first) or as `Toilet` (the second) does not split a night');
  t.match(settings.wakingHoursSource, /3 labelled nights/);
  t.same(settings.labels?.out, [{ from: '2011-06-15T10:00:05-07:00', to: '2011-06-15T12:00:00-07:00' }], 'out from the end of Leave_Home to the start of Enter_Home');
  t.equal(settings.labels?.from, '2011-06-15T08:00:00-07:00');
  t.ok(settings.notes?.some((n) => /1 numeric readings/.test(n)) && settings.notes.some((n) => /1 OFF\/CLOSE messages had no ON\/OPEN/.test(n)), 'what was not converted is said');
  t.same(parseHomeSettings(JSON.parse(JSON.stringify(settings))), settings, 'the settings pass their own schema');
});

t.test('wall-clock times honour daylight saving; slugs are ids; waking hours need three nights', async (t) => {
  t.equal(new Date(wallToEpoch({ year: 2008, month: 3, day: 30, hour: 3, minute: 30, second: 5 }, 'Europe/Amsterdam')).toISOString(), '2008-03-30T01:30:05.000Z', 'after the spring change: +02:00');
  t.equal(new Date(wallToEpoch({ year: 2008, month: 3, day: 29, hour: 3, minute: 30, second: 5 }, 'Europe/Amsterdam')).toISOString(), '2008-03-29T02:30:05.000Z', 'the day before: +01:00');
  t.equal(slug('Cabinet signs/herb  reed'), 'cabinet-signs-herb-reed');
  t.equal(slug('///'), 'sensor');
  const night = (d: number) => ({ start: Date.UTC(2026, 0, d, 14), end: Date.UTC(2026, 0, d, 22) });
  t.equal(wakingHoursFromSleep([night(1), night(2)], 'Asia/Tokyo'), undefined);
  t.same(wakingHoursFromSleep([night(1), night(2), night(3)], 'Asia/Tokyo'), { from: '07:00', to: '23:00', nights: 3 });
});

t.test('unknown dataset or home, and missing files, are clear errors', async (t) => {
  t.throws(() => convertRecording('aras', 'a', fixtures), /unknown dataset "aras"; known: casas, kasteren, ordonez, tapia/);
  t.throws(() => convertRecording('casas', 'aruba', fixtures), /no home "aruba"; its homes: al/);
  t.throws(() => convertRecording('ordonez', 'c', fixtures), /no home "c"; its homes: a, b/);
  t.throws(() => convertRecording('ordonez', 'b', join(fixtures, 'ordonez')), /no .*OrdonezB_Sensors\.txt/);
  t.throws(() => parseHomeSettings({ format: 'mimamori-home/1', home: 'h1', timezone: 'Mars/Olympus' }, 'h1.home.json'), /h1\.home\.json: timezone: an IANA time zone/);
});

t.test('mimamori convert writes each home\'s replay file and settings; a failing home is reported, the others written', async (t) => {
  const out = tempDir(t);
  const stdout: string[] = [], stderr: string[] = [];
  const io: CliIo = { out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
  t.equal(await main(['convert', 'ordonez', '--raw', join(fixtures, 'ordonez'), '--out', out], {}, io), 1, 'user B has no files here');
  t.match(stderr.join('\n'), /mimamori convert ordonez b: .*OrdonezB_Sensors/);
  t.same(readdirSync(out).sort(), ['ordonez-a.home.json', 'ordonez-a.ndjson']);
  const lines = readFileSync(join(out, 'ordonez-a.ndjson'), 'utf8').trim().split('\n');
  t.equal(lines.length, 14);
  t.ok(lines.every((l) => parseRecordedLine(l).ok), 'every line is a valid recorded reading');
  t.same(JSON.parse(stdout[0]!), { home: 'ordonez-a', file: join(out, 'ordonez-a.ndjson'), readings: 14, devices: 7, from: '2011-11-28T02:27:59+01:00', to: '2011-11-28T11:05:04+01:00' });
  stdout.length = 0;
  t.equal(await main(['convert', '--help'], {}, io), 0);
  t.match(stdout.join('\n'), /mimamori convert DATASET --raw DIR --out DIR/);
});
