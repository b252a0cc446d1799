/**
 * van Kasteren et al. (University of Amsterdam) houses A, B and C: one man
 * living alone in each, reed switches on doors and cupboards, a toilet-flush
 * float, and in B and C pressure mats, PIRs and mercury switches. See
 * README-kasteren.md for source, licence, citation and how to get the files.
 *
 * Two text forms are read:
 * - house A's own `kasterenSenseData.txt` (+ `kasterenActData.txt`): a
 *   sensor table in the header, then `25-Feb-2008 00:20:14<TAB>25-Feb-2008
 *   00:22:57<TAB>24<TAB>1` per firing;
 * - a tab-separated export of the `tlDatasets.mat` houses:
 *   `houseB.sensors` (`start<TAB>seconds<TAB>id`, start in seconds since
 *   1970 counted on the house's wall clock) with `houseB.sensor_names`
 *   (`id<TAB>name`), and optionally `houseB.activities` /
 *   `houseB.activity_names` in the same form;
 * - or, for B and C, the wall-clock firing lists `houseB-ss.txt`
 *   (`21-Jul-2009 13:30:12<TAB>21-Jul-2009 13:30:13<TAB>1` per firing), read
 *   in preference to `houseB.sensors` when both are there: a widely copied
 *   conversion script made `.sensors` from them with one id renumbered
 *   (7 → 4), which drops house B's front door and house C's freezer.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { slug, wallToEpoch, type SensorInterval, type SensorSpec, type WallTime } from './intervals.js';
import { labelsOf, sourceLabels, type ConvertedSource, type Labels } from './source.js';

export const kasterenTimeZone = 'Europe/Amsterdam';
export const kasterenHomes = ['housea', 'houseb', 'housec'] as const;

const months: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };

function parseDmy(text: string, where: string): WallTime {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{1,2}):(\d{2}):(\d{2})$/.exec(text.trim());
  const month = m ? months[m[2]!.toLowerCase()] : undefined;
  if (!m || month === undefined) throw new Error(`${where}: expected a time like 25-Feb-2008 00:20:14, got ${JSON.stringify(text)}`);
  return { year: Number(m[3]), month, day: Number(m[1]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]) };
}

/** Seconds since 1970 read on the house's wall clock (the .mat export's convention) → its wall time. */
function wallFromSeconds(s: number): WallTime {
  const d = new Date(s * 1000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

const dutchRooms: [RegExp, string][] = [[/slaapkamer|bed|dresser/, 'bedroom'], [/badkamer|bath|shower/, 'bathroom'], [/keuken|kitchen|fridge|freezer|stove|microwave|magnetron|toaster|cupboard|cutlary|cutlery|pans|plates|cups|groceries|dishwasher|gootsteen|sink|scraps|herb|refrigerator/, 'kitchen'], [/toilet/, 'toilet'], [/couch|living/, 'living room'], [/hall|front ?door|keys/, 'hall']];

/** What a van Kasteren sensor is, from its name (English or Dutch). */
export function kasterenSensor(raw: string, name: string): SensorSpec {
  const n = name.toLowerCase().trim();
  const room = dutchRooms.find(([re]) => re.test(n))?.[1];
  const spec = (role: SensorSpec['role'], sensor: string, device: string): SensorSpec => {
    const s: SensorSpec = { raw, device: slug(device), role, sensor, object: name.trim() };
    if (room !== undefined) s.room = room;
    return s;
  };
  if (/front ?door/.test(n)) return spec('front-door', 'reed', 'front-door');
  if (/flush|float/.test(n)) return spec('water', /float/.test(n) ? 'float' : 'flush float', n);
  if (/\bpir\b/.test(n)) return spec('motion', 'PIR', `pir-${n.replace(/\bpir\b/, '')}`);
  if (/\bmatt?\b|press(ure)?\b/.test(n)) return spec('mat', 'pressure mat', `mat-${n.replace(/\b(matt?|press|pressure)\b/g, '')}`);
  return spec('contact', /kwik|mercury/.test(n) ? 'mercury switch' : 'reed', n.replace(/\b(reed|kwik|mercury sensor)\b/g, ''));
}

/** House A's sensor table (`[ 1]    'Microwave'`) and firings. */
export function parseKasterenSenseText(text: string): { specs: SensorSpec[]; intervals: SensorInterval[] } {
  const specs: SensorSpec[] = [];
  const intervals: SensorInterval[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const named = /^\s*\[\s*(\d+)\]\s*'([^']+)'/.exec(line);
    if (named) { specs.push(kasterenSensor(named[1]!, named[2]!)); return; }
    const cols = line.split('\t').map((c) => c.trim()).filter((c) => c !== '');
    if (cols.length < 3 || !/^\d/.test(cols[0]!)) return;
    const where = `line ${i + 1}`;
    intervals.push({ raw: String(Number(cols[2])), start: wallToEpoch(parseDmy(cols[0]!, where), kasterenTimeZone), end: wallToEpoch(parseDmy(cols[1]!, where), kasterenTimeZone) });
  });
  return { specs, intervals };
}

const sleepName = /go-to-bed|go to bed|sleep/i;
const outName = /leave-house|leave house/i;

/** The labels of a house's activities (`raw` = activity id, named by `names`). */
function houseLabels(acts: readonly { raw: string; start: number; end: number }[], names: ReadonlyMap<string, string>): Labels | undefined {
  return labelsOf(acts.map(({ raw, start, end }) => ({ label: names.get(raw) ?? '', start, end })), sleepName, outName);
}

/** House A's activity file: its `go to bed` and `leave house` periods, from the id list in its header. */
export function parseKasterenActText(text: string): Labels | undefined {
  const names = new Map<string, string>();
  const acts: { raw: string; start: number; end: number }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const named = /^\s*(\d+)\s*:\s*'([^']+)'/.exec(line);
    if (named) names.set(named[1]!, named[2]!);
    const cols = line.split('\t').map((c) => c.trim()).filter((c) => c !== '');
    if (cols.length >= 3 && /^\d/.test(cols[0]!)) {
      acts.push({ raw: String(Number(cols[2])), start: wallToEpoch(parseDmy(cols[0]!, 'activity'), kasterenTimeZone), end: wallToEpoch(parseDmy(cols[1]!, 'activity'), kasterenTimeZone) });
    }
  }
  return houseLabels(acts, names);
}

function parseNames(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\d+)\t(.+)$/.exec(line);
    if (m) names.set(m[1]!, m[2]!.trim());
  }
  return names;
}

function parseSecondsFile(text: string, what: string): { raw: string; start: number; end: number }[] {
  const out: { raw: string; start: number; end: number }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const [s, d, id] = line.trim().split(/\s+/);
    const start = Number(s), seconds = Number(d);
    if (!Number.isFinite(start) || !Number.isFinite(seconds) || id === undefined) throw new Error(`${what} line ${i + 1}: expected "start<TAB>seconds<TAB>id", got ${JSON.stringify(line)}`);
    const at = wallToEpoch(wallFromSeconds(start), kasterenTimeZone);
    out.push({ raw: id, start: at, end: wallToEpoch(wallFromSeconds(start + seconds), kasterenTimeZone) });
  });
  return out;
}

/** A house of the .mat export: `<house>.sensors` + `<house>.sensor_names` (+ activities). */
export function parseKasterenExport(sensors: string, sensorNames: string, activities?: string, activityNames?: string): { specs: SensorSpec[]; intervals: SensorInterval[]; labels?: Labels } {
  const specs = [...parseNames(sensorNames)].map(([id, name]) => kasterenSensor(id, name));
  const intervals = parseSecondsFile(sensors, 'sensors');
  const labels = activities !== undefined && activityNames !== undefined ? houseLabels(parseSecondsFile(activities, 'activities'), parseNames(activityNames)) : undefined;
  return { specs, intervals, ...(labels === undefined ? {} : { labels }) };
}

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'latin1');

/** Reads one house from `rawDir` (house A's text files, or `houseX.sensors` etc.). */
export function readKasteren(rawDir: string, home: string): ConvertedSource {
  const house = home.replace(/^house/, '').toUpperCase();
  const base = {
    dataset: 'kasteren', timezone: kasterenTimeZone,
    source: 'T.L.M. van Kasteren et al., University of Amsterdam (Ubicomp 2008; Pervasive 2010) — edge/recordings/README-kasteren.md',
  };
  if (house === 'A' && existsSync(join(rawDir, 'kasterenSenseData.txt'))) {
    const { specs, intervals } = parseKasterenSenseText(read(rawDir, 'kasterenSenseData.txt'));
    const labels = existsSync(join(rawDir, 'kasterenActData.txt')) ? parseKasterenActText(read(rawDir, 'kasterenActData.txt')) : undefined;
    return { ...base, specs, intervals, ...sourceLabels(labels) };
  }
  const stem = `house${house}`;
  const wallClockList = existsSync(join(rawDir, `${stem}-ss.txt`));
  if (!wallClockList && !existsSync(join(rawDir, `${stem}.sensors`))) throw new Error(`kasteren ${home}: none of kasterenSenseData.txt (house A), ${stem}-ss.txt or ${stem}.sensors in ${rawDir}`);
  if (!existsSync(join(rawDir, `${stem}.sensor_names`))) throw new Error(`kasteren ${home}: ${stem}.sensor_names (id<TAB>name) is missing in ${rawDir}`);
  const hasActs = existsSync(join(rawDir, `${stem}.activities`)) && existsSync(join(rawDir, `${stem}.activity_names`));
  const parsed = parseKasterenExport(wallClockList ? '' : read(rawDir, `${stem}.sensors`), read(rawDir, `${stem}.sensor_names`),
    hasActs ? read(rawDir, `${stem}.activities`) : undefined, hasActs ? read(rawDir, `${stem}.activity_names`) : undefined);
  if (wallClockList) parsed.intervals = parseKasterenSenseText(read(rawDir, `${stem}-ss.txt`)).intervals;
  return { ...base, specs: parsed.specs, intervals: parsed.intervals, ...sourceLabels(parsed.labels) };
}

