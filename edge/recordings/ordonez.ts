/**
 * Ordóñez et al. (UC3M) "Activities of Daily Living Recognition Using Binary
 * Sensors" (UCI ADL binary dataset): users A and B, each living alone in
 * their own home in Spain; PIRs, reed switches, a toilet flush, bed and seat
 * pressure mats, electric-use sensors. See README-ordonez.md.
 *
 * `OrdonezA_Sensors.txt`: two header lines, then per firing
 * `2011-11-28 02:27:59<TABs>2011-11-28 10:18:11<TABs>Bed<TABs>Pressure<TABs>Bedroom`
 * (start, end, location, type, place). `OrdonezA_ADLs.txt`: start, end,
 * activity (`Sleeping` gives the waking hours, `Leaving` her times out).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { slug, wallToEpoch, type SensorInterval, type SensorSpec, type WallTime } from './intervals.js';
import { labelsOf, sourceLabels, type ConvertedSource, type Labels } from './source.js';

export const ordonezTimeZone = 'Europe/Madrid';
export const ordonezHomes = ['a', 'b'] as const;

function parseYmd(date: string, time: string, where: string): WallTime {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date), t = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(time);
  if (!d || !t) throw new Error(`${where}: expected "YYYY-MM-DD hh:mm:ss", got ${JSON.stringify(`${date} ${time}`)}`);
  return { year: Number(d[1]), month: Number(d[2]), day: Number(d[3]), hour: Number(t[1]), minute: Number(t[2]), second: Number(t[3]) };
}

/** What an Ordóñez sensor is, from its location, type and place. */
export function ordonezSensor(location: string, type: string, place: string): SensorSpec {
  const raw = `${location}|${type}|${place}`;
  const room = place.toLowerCase();
  const t = type.toLowerCase(), l = location.toLowerCase();
  const spec = (role: SensorSpec['role'], sensor: string, device: string): SensorSpec => ({ raw, device: slug(device), role, sensor, room, object: location });
  if (t === 'magnetic' && l === 'maindoor') return spec('front-door', 'reed', 'front-door');
  if (t === 'magnetic') return spec('contact', 'reed', l);
  // PIRs named "Door" watch a doorway of the room given as place.
  if (t === 'pir') return spec('motion', 'PIR', l === 'door' ? `pir-${room}-doorway` : `pir-${l}`);
  if (t === 'flush') return spec('water', 'flush float', `${l}-flush`);
  if (t === 'pressure') return spec('mat', 'pressure mat', `${l}-mat`);
  if (t === 'electric') return spec('appliance', 'electric use', l);
  throw new Error(`unknown sensor type ${JSON.stringify(type)} (${location}, ${place})`);
}

function rows(text: string, what: string): { cols: string[]; where: string }[] {
  const out: { cols: string[]; where: string }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || !/^\d{4}-\d{2}-\d{2}$/.test(cols[0]!)) return;
    out.push({ cols, where: `${what} line ${i + 1}` });
  });
  return out;
}

/** The sensors file of one user. */
export function parseOrdonezSensors(text: string): { specs: SensorSpec[]; intervals: SensorInterval[] } {
  const specs = new Map<string, SensorSpec>();
  const intervals: SensorInterval[] = [];
  for (const { cols, where } of rows(text, 'sensors')) {
    if (cols.length < 7) throw new Error(`${where}: expected start, end, location, type and place`);
    const spec = ordonezSensor(cols[4]!, cols[5]!, cols[6]!);
    if (!specs.has(spec.raw)) specs.set(spec.raw, spec);
    intervals.push({ raw: spec.raw, start: wallToEpoch(parseYmd(cols[0]!, cols[1]!, where), ordonezTimeZone), end: wallToEpoch(parseYmd(cols[2]!, cols[3]!, where), ordonezTimeZone) });
  }
  return { specs: [...specs.values()], intervals };
}

/** The ADL label file: its `Sleeping` and `Leaving` periods, and the time its labels cover. */
export function parseOrdonezLabels(text: string): Labels | undefined {
  const all = rows(text, 'ADLs').map(({ cols, where }) => ({
    label: cols[4]!, start: wallToEpoch(parseYmd(cols[0]!, cols[1]!, where), ordonezTimeZone), end: wallToEpoch(parseYmd(cols[2]!, cols[3]!, where), ordonezTimeZone),
  }));
  return labelsOf(all, /^sleeping$/i, /^leaving$/i);
}

/** Reads user `a` or `b` from `rawDir` (`OrdonezA_Sensors.txt`, `OrdonezA_ADLs.txt`). */
export function readOrdonez(rawDir: string, home: string): ConvertedSource {
  const user = home.toUpperCase();
  const sensorsFile = join(rawDir, `Ordonez${user}_Sensors.txt`), adlFile = join(rawDir, `Ordonez${user}_ADLs.txt`);
  if (!existsSync(sensorsFile)) throw new Error(`ordonez ${home}: no ${sensorsFile}`);
  const { specs, intervals } = parseOrdonezSensors(readFileSync(sensorsFile, 'latin1'));
  const labels = existsSync(adlFile) ? parseOrdonezLabels(readFileSync(adlFile, 'latin1')) : undefined;
  return {
    dataset: 'ordonez', timezone: ordonezTimeZone, specs, intervals,
    ...sourceLabels(labels),
    source: 'F.J. Ordóñez, P. de Toledo, A. Sanchis, Sensors 2013, 13, 5460–5477 (UCI ADL binary dataset) — edge/recordings/README-ordonez.md',
    notes: ['Electric-use sensors (microwave, toaster) are power events at a nominal 1000 W while on: the recording gives on/off only.'],
  };
}
