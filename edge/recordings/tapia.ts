/**
 * Munguia Tapia (MIT House_n, 2003/2004): two single-person apartments with
 * 77–84 reed switches on drawers, cupboards, appliances, doors, light
 * switches and taps, two weeks each. No motion sensors. See
 * README-tapia.md.
 *
 * `activities_data.csv` holds the firings grouped by the labelled activity
 * they happened in, five lines per activity:
 *
 *   Toileting,4/1/2003,17:30:36,17:46:41     label, m/d/yyyy, start, end
 *   100,68                                   sensor ids
 *   Toilet Flush,Sink faucet - hot           their objects
 *   17:39:37,17:39:46                        activation times
 *   18:10:57,17:39:52                        deactivation times
 *
 * so only firings during labelled activities are in the recording (a sensor
 * firing in two overlapping activities is counted once). `sensors.csv`:
 * `id,room,object`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { slug, wallToEpoch, type SensorInterval, type SensorSpec } from './intervals.js';
import type { ConvertedSource } from './source.js';

export const tapiaTimeZone = 'America/New_York';
export const tapiaHomes = ['subject1', 'subject2'] as const;

/** What a Tapia reed switch is, from its room and object; `frontDoorRoom` names the room whose "Door" is the entrance. */
export function tapiaSensor(id: string, room: string, object: string, frontDoorRoom: string): SensorSpec {
  const o = object.trim().toLowerCase(), r = room.trim().toLowerCase();
  const base = { raw: id, room: r, object: object.trim(), sensor: 'reed' };
  if (o === 'door' && r === frontDoorRoom) return { ...base, device: 'front-door', role: 'front-door' };
  if (/faucet|toilet flush/.test(o)) return { ...base, device: slug(`${o}-${r}-${id}`), role: 'water' };
  return { ...base, device: slug(`${o}-${r}-${id}`), role: 'contact' };
}

/** `sensors.csv`. */
export function parseTapiaSensors(text: string, frontDoorRoom: string): SensorSpec[] {
  return text.split(/\r?\n/).map((l) => l.split(',')).filter((c) => c.length >= 3 && /^\d+$/.test(c[0]!.trim()))
    .map((c) => tapiaSensor(c[0]!.trim(), c[1]!, c.slice(2).join(','), frontDoorRoom));
}

const clock = (t: string, where: string): number => {
  const m = /^(\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(t.trim());
  if (!m) throw new Error(`${where}: expected h:m:s, got ${JSON.stringify(t)}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
};

/** `activities_data.csv` → firings (deduplicated) and the labelled activity periods. */
export function parseTapiaActivities(text: string): { intervals: SensorInterval[]; activities: { label: string; start: number; end: number }[]; skipped: string[] } {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const intervals = new Map<string, SensorInterval>();
  const activities: { label: string; start: number; end: number }[] = [];
  const skipped: string[] = [];
  const header = /^([^,]+),(\d{1,2})\/(\d{1,2})\/(\d{4}),(\d{1,2}:\d{1,2}:\d{1,2}),(\d{1,2}:\d{1,2}:\d{1,2})$/;
  for (let i = 0; i < lines.length; i++) {
    const h = header.exec(lines[i]!);
    if (!h) continue;
    const where = `line ${i + 1}`;
    const date = { year: Number(h[4]), month: Number(h[2]), day: Number(h[3]) };
    // subject2 labels ten activities "4/31/2003": a second labelling of 1 May with the same firings.
    // A date that does not exist is not rolled over into the next month: the block is left out, and said.
    if (date.month < 1 || date.month > 12 || date.day < 1 || date.day > new Date(Date.UTC(date.year, date.month, 0)).getUTCDate()) {
      skipped.push(`${where}: ${h[2]}/${h[3]}/${h[4]} is not a date; activity "${h[1]}" left out`);
      i += 4;
      continue;
    }
    const at = (seconds: number) => wallToEpoch({ ...date, hour: 0, minute: 0, second: 0 }, tapiaTimeZone) + seconds * 1000;
    const startS = clock(h[5]!, where);
    let endS = clock(h[6]!, where);
    if (endS < startS) endS += 86_400;
    activities.push({ label: h[1]!, start: at(startS), end: at(endS) });
    const ids = (lines[i + 1] ?? '').split(',').map((s) => s.trim());
    const ons = (lines[i + 3] ?? '').split(',');
    const offs = (lines[i + 4] ?? '').split(',');
    if (ids.length !== ons.length || ids.length !== offs.length) throw new Error(`${where}: ${ids.length} sensor ids but ${ons.length} activation and ${offs.length} deactivation times`);
    ids.forEach((id, k) => {
      if (id === '') return;
      let on = clock(ons[k]!, `line ${i + 4}`);
      // An activity that crosses midnight carries next-day times.
      if (on < startS - 12 * 3600) on += 86_400;
      let off = clock(offs[k]!, `line ${i + 5}`);
      while (off < on) off += 86_400;
      const key = `${id}@${on}@${date.year}-${date.month}-${date.day}`;
      if (!intervals.has(key)) intervals.set(key, { raw: id, start: at(on), end: at(off) });
    });
    i += 4;
  }
  return { intervals: [...intervals.values()], activities, skipped };
}

const frontDoorRooms: Record<string, string> = { subject1: 'foyer', subject2: 'hallway' };

/** Reads `subject1` or `subject2` from `rawDir` (its `subjectN/` folder). */
export function readTapia(rawDir: string, home: string): ConvertedSource {
  const dir = join(rawDir, home);
  if (!existsSync(join(dir, 'activities_data.csv'))) throw new Error(`tapia ${home}: no ${join(dir, 'activities_data.csv')}`);
  const specs = parseTapiaSensors(readFileSync(join(dir, 'sensors.csv'), 'latin1'), frontDoorRooms[home] ?? 'foyer');
  const { intervals, skipped } = parseTapiaActivities(readFileSync(join(dir, 'activities_data.csv'), 'latin1'));
  return {
    dataset: 'tapia', timezone: tapiaTimeZone, specs, intervals, sleeps: [],
    source: 'E. Munguia Tapia, S.S. Intille, K. Larson, Pervasive 2004 (MIT House_n) — edge/recordings/README-tapia.md',
    notes: [
      'Only firings inside labelled activities are in the recording: hours with no label have no events at all.',
      'No motion sensors: every sign of life is a reed switch on an object.',
      `The entrance is the "Door" in the ${frontDoorRooms[home] ?? 'foyer'} (an assumption from the room name).`,
      ...(skipped.length > 0 ? [`${skipped.length} labelled activities with a date that does not exist were left out (${skipped[0]}${skipped.length > 1 ? ', …' : ''}).`] : []),
    ],
  };
}
