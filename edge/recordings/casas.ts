/**
 * WSU CASAS smart homes (Washington State University, Pullman WA): homes of
 * older adults living alone, motion sensors in every area, the front door,
 * some light and door switches, every event labelled with the resident's
 * activity. See README-casas.md.
 *
 * The file is CASAS's location-named form (the "data" file of the AL activity
 * learner; the `hh1xx` homes' translated files have the same shape), one event
 * per line:
 *
 *   2011-06-15 10:37:08.988627 OutsideDoor FrontDoor OPEN Leave_Home
 *   date       time            area        sensor    message label
 *
 * Messages: `ON`/`OFF` (motion, light), `OPEN`/`CLOSE`/`CLOSED` (doors), or a
 * number (temperature, light level: not used — the event contract carries
 * thermometers, but these report on change only and are not the resident).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { slug, wallToEpoch, type SensorInterval, type SensorSpec } from './intervals.js';
import { labelsOf, sourceLabels, type ConvertedSource, type Period } from './source.js';

/** Pullman, Washington. */
export const casasTimeZone = 'America/Los_Angeles';
/** `al`: the one-month home published with CASAS's AL activity learner (WSU-CASAS/AL-Smarthome, file `data`). */
export const casasHomes = ['al'] as const;
const files: Record<string, string> = { al: 'data' };

/** What a CASAS sensor is, from its area and name and the kind of message it sends. */
export function casasSensor(area: string, name: string, message: 'switch' | 'door'): SensorSpec {
  const raw = `${area}/${name}`;
  const room = slug(area);
  const device = slug(area === name ? name : `${area}-${name}`);
  const base = { raw, room, object: name };
  if (message === 'door') {
    if (/^frontdoor$/i.test(name)) return { ...base, device: 'front-door', role: 'front-door', sensor: 'door contact' };
    return { ...base, device, role: 'contact', sensor: 'door contact' };
  }
  // A light going on or off in a home of one person is her doing: a sign of life, like a cupboard.
  if (/light$/i.test(name)) return { ...base, device, role: 'contact', sensor: 'light on/off' };
  return { ...base, device, role: 'motion', sensor: 'PIR' };
}

interface Parsed { specs: SensorSpec[]; intervals: SensorInterval[]; activities: (Period & { label: string })[]; ignored: number; unmatched: number }

/**
 * One CASAS file → sensor table, "on" intervals (ON…OFF, OPEN…CLOSE per
 * sensor; an OFF with no ON before it is a moment), and the activity runs
 * (consecutive events with the same label).
 */
export function parseCasas(text: string): Parsed {
  const specs = new Map<string, SensorSpec>();
  const onSince = new Map<string, number>();
  const intervals: SensorInterval[] = [];
  const activities: (Period & { label: string })[] = [];
  let ignored = 0, unmatched = 0;
  let run: (Period & { label: string }) | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    const cols = line.trim().split(/\s+/);
    const d = cols.length < 5 ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(cols[0]!);
    if (!d) return;
    const t = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(cols[1]!);
    if (!t) throw new Error(`line ${i + 1}: expected a time hh:mm:ss.ffffff, got ${JSON.stringify(cols[1])}`);
    const at = wallToEpoch({ year: Number(d[1]), month: Number(d[2]), day: Number(d[3]), hour: Number(t[1]), minute: Number(t[2]), second: Number(t[3]) }, casasTimeZone)
      + Math.floor(Number(`0.${t[4] ?? '0'}`) * 1000);
    const [area, name, message] = [cols[2]!, cols[3]!, cols[4]!.toUpperCase()];
    const label = cols[5];
    if (label !== undefined) {
      if (run && run.label === label) run.end = at;
      else { run = { label, start: at, end: at }; activities.push(run); }
    }
    const kind = message === 'ON' || message === 'OFF' ? 'switch' : message === 'OPEN' || message === 'CLOSE' || message === 'CLOSED' ? 'door' : undefined;
    if (kind === undefined) { ignored++; return; }
    const spec = casasSensor(area, name, kind);
    if (!specs.has(spec.raw)) specs.set(spec.raw, spec);
    const on = message === 'ON' || message === 'OPEN';
    const since = onSince.get(spec.raw);
    if (on) { if (since === undefined) onSince.set(spec.raw, at); return; }
    if (since === undefined) { unmatched++; intervals.push({ raw: spec.raw, start: at, end: at }); return; }
    onSince.delete(spec.raw);
    intervals.push({ raw: spec.raw, start: since, end: at });
  });
  // A sensor still on at the end of the file: on until its last event's moment.
  for (const [raw, since] of onSince) intervals.push({ raw, start: since, end: since });
  return { specs: [...specs.values()], intervals, activities, ignored, unmatched };
}

/** Labels that belong to a night: she is asleep, or up for a moment in between. */
const nightLabels = new Set(['Sleep', 'Wake_Up', 'Bed_Toilet_Transition', 'Go_To_Sleep', 'Sleep_Out_Of_Bed']);

/**
 * Her nights and times out from the activity runs. A night runs from the
 * start of a `Sleep` run to the start of the last `Wake_Up` before her day
 * begins (the first run that is not part of a night): the toilet trips and
 * the going back to sleep in between do not end it. A time out runs from the
 * end of a `Leave_Home` run to the start of the next `Enter_Home` run.
 * Nights at most 30 minutes apart are one: a trip to the toilet labelled
 * `Toilet` or `Other_Activity` at 02:00 does not split her night in two.
 */
export function casasPeriods(activities: readonly (Period & { label: string })[]): (Period & { label: string })[] {
  const out: (Period & { label: string })[] = [];
  let night: number | undefined, woke: number | undefined;
  let left: number | undefined;
  let lastNight: (Period & { label: string }) | undefined;
  const endNight = (end: number) => {
    if (lastNight !== undefined && night! - lastNight.end <= 30 * 60_000) lastNight.end = end;
    else { lastNight = { label: 'Sleep', start: night!, end }; out.push(lastNight); }
    night = undefined; woke = undefined;
  };
  for (const a of activities) {
    if (a.label === 'Sleep') { night ??= a.start; woke = undefined; continue; }
    if (night !== undefined && nightLabels.has(a.label)) { if (a.label === 'Wake_Up') woke ??= a.start; continue; }
    if (night !== undefined) endNight(woke ?? a.start);
    if (a.label === 'Leave_Home') left = a.end;
    else if (a.label === 'Enter_Home' && left !== undefined) { out.push({ label: 'Out', start: left, end: a.start }); left = undefined; }
  }
  if (activities.length > 0) {
    // The span the labels cover, for the report (labelsOf takes it from its input).
    out.push({ label: 'Labelled', start: activities[0]!.start, end: activities[activities.length - 1]!.end });
  }
  return out;
}

/** Reads home `al` from `rawDir` (its `data` file). */
export function readCasas(rawDir: string, home: string): ConvertedSource {
  const file = join(rawDir, files[home] ?? home);
  if (!existsSync(file)) throw new Error(`casas ${home}: no ${file}`);
  const { specs, intervals, activities, ignored, unmatched } = parseCasas(readFileSync(file, 'latin1'));
  const labels = labelsOf(casasPeriods(activities), /^Sleep$/, /^Out$/);
  return {
    dataset: 'casas', timezone: casasTimeZone, specs, intervals,
    ...sourceLabels(labels),
    source: 'WSU CASAS (D. Cook, IEEE Intelligent Systems 2012), the home published with the AL activity learner — edge/recordings/README-casas.md',
    notes: [
      'Motion sensors report ON when they see movement and OFF a moment later; lights ON/OFF are signs of life like a cupboard.',
      ...(ignored > 0 ? [`${ignored} numeric readings (temperature, light level) are not converted.`] : []),
      ...(unmatched > 0 ? [`${unmatched} OFF/CLOSE messages had no ON/OPEN before them and are single moments.`] : []),
    ],
  };
}
