/**
 * One converted home: what a dataset reader returns (sensor table, "on"
 * intervals, labelled sleep) and how it becomes a replay file plus its
 * settings file.
 */
import type { Reading } from '../../core/events.js';
import { toLocalIso } from '../../core/time.js';
import type { HomeSettings } from './home-settings.js';
import { intervalsToReadings, wakingHoursFromSleep, type SensorInterval, type SensorSpec } from './intervals.js';

/** A labelled period, epoch milliseconds. */
export interface Period { start: number; end: number }

/** What a recording's activity labels say: her nights, her times out, and the time they cover. */
export interface Labels { sleeps: Period[]; out: Period[]; from: number; to: number }

/** The labels of activities named `label` (`sleep` and `out` pick theirs by name); undefined for none. */
export function labelsOf(acts: readonly (Period & { label: string })[], sleep: RegExp, out: RegExp): Labels | undefined {
  if (acts.length === 0) return undefined;
  const named = (re: RegExp) => acts.filter((a) => re.test(a.label)).map(({ start, end }) => ({ start, end }));
  return { sleeps: named(sleep), out: named(out), from: Math.min(...acts.map((a) => a.start)), to: Math.max(...acts.map((a) => a.end)) };
}

/** The labels as a converted source carries them (`sleeps` for the waking hours, the rest as `labels`). */
export function sourceLabels(labels: Labels | undefined): Pick<ConvertedSource, 'sleeps' | 'labels'> {
  if (labels === undefined) return { sleeps: [] };
  return { sleeps: labels.sleeps, labels: { from: labels.from, to: labels.to, out: labels.out } };
}

/** What a dataset reader found for one home. */
export interface ConvertedSource {
  dataset: string;
  timezone: string;
  specs: SensorSpec[];
  intervals: SensorInterval[];
  /** Labelled sleep periods, when the recording has labels. */
  sleeps: Period[];
  /** Labelled times out of the home, and the time the labels cover (home-settings.ts `labels`). */
  labels?: Omit<Labels, 'sleeps'>;
  source: string;
  notes?: string[];
}

const kindOf: Record<SensorSpec['role'], HomeSettings['devices'][number]['kind']> = {
  motion: 'motion', mat: 'motion', 'front-door': 'door', contact: 'door', water: 'water', appliance: 'power',
};

/**
 * The replay readings and settings of home `home` (an id, e.g.
 * `kasteren-housea`). Only sensors that fired at least once are listed.
 */
export function buildRecording(home: string, src: ConvertedSource): { readings: Reading[]; settings: HomeSettings; unknown: number } {
  const { readings, unknown } = intervalsToReadings(home, src.specs, src.intervals, src.timezone);
  const used = new Set(readings.map((r) => r.device));
  const devices: HomeSettings['devices'] = [];
  const seen = new Set<string>();
  for (const s of src.specs) {
    if (!used.has(s.device) || seen.has(s.device)) continue;
    seen.add(s.device);
    const d: HomeSettings['devices'][number] = { device: s.device, kind: kindOf[s.role], role: s.role, sensor: s.sensor, raw: s.raw };
    if (s.room !== undefined) d.room = s.room;
    if (s.object !== undefined) d.object = s.object;
    if (s.role === 'mat') d.held = true;
    devices.push(d);
  }
  const settings: HomeSettings = { format: 'mimamori-home/1', home, dataset: src.dataset, timezone: src.timezone, devices, source: src.source };
  if (src.specs.some((s) => s.role === 'front-door' && used.has(s.device))) settings.frontDoor = 'front';
  const waking = wakingHoursFromSleep(src.sleeps, src.timezone);
  if (waking) {
    settings.wakingHours = { from: waking.from, to: waking.to };
    settings.wakingHoursSource = `median wake-up and bedtime of ${waking.nights} labelled nights`;
  }
  const first = readings[0], last = readings[readings.length - 1];
  if (first && last) { settings.from = toLocalIso(first.at, src.timezone); settings.to = toLocalIso(last.at, src.timezone); }
  if (src.labels !== undefined) {
    const at = (t: number) => toLocalIso(t, src.timezone);
    settings.labels = { from: at(src.labels.from), to: at(src.labels.to), out: src.labels.out.map((p) => ({ from: at(p.start), to: at(p.end) })) };
  }
  if (src.notes && src.notes.length > 0) settings.notes = src.notes;
  return { readings, settings, unknown };
}
