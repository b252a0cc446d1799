/**
 * The labelled evaluation corpus, generated deterministically with the
 * simulator: homes with different routines and day-care schedules, in two
 * seasons (a winter and a summer quarter), with hospital stays and trips
 * (announced to the system, or not), visitors, slow trends, and incidents
 * placed after the learning period. Nothing is committed: the same seed
 * always builds the same corpus.
 */
import { addDays, localToEpoch, type LocalDate } from '../edge/index.js';
import { createRandom, type Random } from '../edge/index.js';
import { defaultProfile, simulateStream, type HomeProfile, type IncidentSpec, type SimulationOptions } from '../edge/index.js';
import type { AbsenceSpec, VisitSpec } from '../edge/index.js';
import { toLocalIso } from '../core/time.js';
import { runModes, scoreFindings, type EvaluateOptions, type EvaluationMode, type ModeScore, type ScoredFinding, type Truth } from './evaluate.js';

const HOUR = 3_600_000;

export interface CorpusOptions {
  seed: number;
  /** Homes per season group (two groups). Default 10. */
  homesPerGroup?: number;
  /** Days per home. Default 92 (a quarter). */
  days?: number;
}

export interface CorpusGroup { name: string; sim: SimulationOptions; truth: Truth }

const groups = [
  { name: 'winter', start: { year: 2026, month: 1, day: 5 } },
  { name: 'summer', start: { year: 2026, month: 7, day: 6 } },
] as const;

const tz = 'Asia/Tokyo';
const criticalTypes = ['fall-in-bath', 'no-sign-of-life', 'night-wandering', 'help-button'] as const;

/** When in the day each incident type is placed (local minutes; may pass midnight). */
const timing: Record<string, [number, number]> = {
  'fall-in-bath': [19 * 60, 21 * 60],
  'no-sign-of-life': [9 * 60, 16 * 60],
  'night-wandering': [25 * 60 + 50, 26 * 60 + 15],
  'help-button': [10 * 60, 17 * 60],
  'sensor-silent': [8 * 60, 20 * 60],
  'battery-flat': [8 * 60, 18 * 60],
};

function iso(date: LocalDate, minute: number): string {
  return toLocalIso(localToEpoch(date, minute, tz), tz);
}

/** A resident for the corpus: the simulator's varied default plus seasons, visitors and (sometimes) a slow trend. */
function corpusProfile(home: string, rng: Random, start: LocalDate, days: number, index: number): HomeProfile {
  const p = defaultProfile(home, rng.fork('base'));
  p.seasonalWakeMinutes = Math.round(rng.uniform(0, 40));
  p.visitorsPerWeek = Math.round(rng.uniform(0, 2.5) * 10) / 10;
  const trendFrom = addDays(start, Math.floor(days / 2));
  const from = `${trendFrom.year}-${String(trendFrom.month).padStart(2, '0')}-${String(trendFrom.day).padStart(2, '0')}`;
  if (index % 5 === 1) p.nightToiletTrend = { from, perWeek: 0.35 };
  if (index % 5 === 3) p.outingsTrend = { from, perWeek: -Math.min(0.8, p.outingsPerWeek / 6) };
  return p;
}

/**
 * Builds the corpus: per group the simulator options (profiles, incidents,
 * absences, visits) and the ground truth (incidents, announced away
 * periods, unannounced absences, day-care days).
 */
export function buildCorpus(opts: CorpusOptions): CorpusGroup[] {
  const perGroup = opts.homesPerGroup ?? 10;
  const days = opts.days ?? 92;
  const rng = createRandom(`corpus/${opts.seed}`);
  return groups.map((g) => {
    const gr = rng.fork(g.name);
    const profiles: HomeProfile[] = [];
    const incidents: IncidentSpec[] = [];
    const absences: AbsenceSpec[] = [];
    const visits: VisitSpec[] = [];
    const away: Truth['away'] = [];
    const unannounced: Truth['unannounced'] = [];
    const truthHomes: Truth['homes'] = [];
    for (let i = 0; i < perGroup; i++) {
      const home = `${g.name}-${String(i + 1).padStart(2, '0')}`;
      const hr = gr.fork(home);
      const profile = corpusProfile(home, hr, g.start, days, i);
      profiles.push(profile);
      truthHomes.push({ home, timezone: tz, dayCareDays: profile.dayCareDays });
      /** Days (index from the start) already used by something. */
      const busy = new Set<number>();
      const take = (from: number, to: number) => { for (let d = from - 1; d <= to + 1; d++) busy.add(d); };
      const free = (from: number, to: number) => { for (let d = from; d <= to; d++) if (busy.has(d)) return false; return true; };
      const pickDay = (lo: number, hi: number, length = 1): number | undefined => {
        for (let attempt = 0; attempt < 60; attempt++) {
          const d = hr.int(lo, hi);
          if (free(d, d + length - 1)) return d;
        }
        return undefined;
      };
      // Announced absences, in this order: a hospital stay (about a third of homes, announced
      // by staff) and a trip of 2–4 nights (announced by family). Leave and return in hours.
      const announced = [
        { reason: 'hospital', chance: 0.35, nights: [3, 10], firstDay: 20, leave: [10, 15], back: [11, 16] },
        { reason: 'trip', chance: 0.4, nights: [2, 4], firstDay: 16, leave: [9, 14], back: [12, 18] },
      ] as const;
      for (const a of announced) {
        if (!hr.chance(a.chance)) continue;
        const length = hr.int(a.nights[0], a.nights[1]);
        const d = pickDay(a.firstDay, days - length - 5, length + 1);
        if (d === undefined) continue;
        take(d, d + length);
        const from = iso(addDays(g.start, d), Math.round(hr.uniform(a.leave[0] * 60, a.leave[1] * 60)));
        const to = iso(addDays(g.start, d + length), Math.round(hr.uniform(a.back[0] * 60, a.back[1] * 60)));
        absences.push({ home, from, to, reason: a.reason });
        away.push({ home, from, to, reason: a.reason });
      }
      // An unannounced night away (at the daughter's): nobody tells the system.
      if (hr.chance(0.35)) {
        const d = pickDay(10, days - 6, 2);
        if (d !== undefined) {
          take(d, d + 1);
          const from = iso(addDays(g.start, d), Math.round(hr.uniform(10 * 60, 15 * 60)));
          const to = iso(addDays(g.start, d + 1), Math.round(hr.uniform(11 * 60, 17 * 60)));
          absences.push({ home, from, to, reason: 'trip' });
          unannounced.push({ home, from, to, reason: 'trip', note: 'not told to the system' });
        }
      }
      // Incidents after the learning period: one or two critical ones per home, sometimes a device problem.
      const count = hr.chance(0.5) ? 2 : 1;
      for (let k = 0; k < count; k++) {
        const type = criticalTypes[(i + k * 2 + (g.name === 'summer' ? 1 : 0)) % criticalTypes.length]!;
        const d = pickDay(16, days - 3);
        if (d === undefined) continue;
        take(d, d);
        const [lo, hi] = timing[type]!;
        const minute = Math.round(hr.uniform(lo, hi));
        const spec: IncidentSpec = { home, type, at: iso(addDays(g.start, d), minute) };
        if (type === 'fall-in-bath') spec.durationMinutes = Math.round(hr.uniform(150, 300));
        if (type === 'night-wandering') spec.durationMinutes = Math.round(hr.uniform(45, 80));
        incidents.push(spec);
        // A helper or family member comes round some hours later (a visitor after an alarm, in the day).
        if (type === 'no-sign-of-life') {
          const at = Date.parse(spec.at) + Math.round(hr.uniform(4, 5)) * HOUR;
          visits.push({ home, at: toLocalIso(at, tz), minutes: 60 });
        }
      }
      if (hr.chance(0.25)) {
        const type = hr.chance(0.5) ? 'sensor-silent' : 'battery-flat';
        const d = pickDay(days - 12, days - 2);
        if (d !== undefined) {
          const [lo, hi] = timing[type]!;
          const spec: IncidentSpec = { home, type, at: iso(addDays(g.start, d), Math.round(hr.uniform(lo, hi))), device: hr.pick(['motion-kitchen', 'gas-meter', 'climate-living']) };
          if (type === 'battery-flat') spec.durationMinutes = Math.round(hr.uniform(180, 480));
          incidents.push(spec);
        }
      }
    }
    const sim: SimulationOptions = {
      seed: opts.seed, homes: profiles, start: iso(g.start, 0), days, incidents, absences, visits,
    };
    // Ground truth incidents come from the simulator's own plan (exact starts and ends).
    const planned = simulateStream({ ...sim, days: 0.001 }).incidents;
    return { name: g.name, sim, truth: { format: 'mimamori-truth/1' as const, homes: truthHomes, incidents: planned, away, unannounced } };
  });
}

/** Runs every corpus group through the modes and scores the whole corpus per mode. */
export async function evaluateCorpus(corpus: readonly CorpusGroup[], opts: EvaluateOptions = {}): Promise<{ scores: ModeScore[]; readings: number }> {
  const all = new Map<EvaluationMode, ScoredFinding[]>();
  const span = new Map<string, { first: number; last: number }>();
  const truth: Truth = { format: 'mimamori-truth/1', homes: [], incidents: [], away: [], unannounced: [] };
  let readings = 0;
  for (const g of corpus) {
    const stream = simulateStream(g.sim);
    function* counted() { for (const r of stream) { readings++; yield r; } }
    const res = await runModes(counted(), g.truth, opts);
    for (const [mode, f] of res.findings) all.set(mode, [...(all.get(mode) ?? []), ...f]);
    for (const [home, s] of res.span) span.set(home, s);
    truth.homes.push(...g.truth.homes);
    truth.incidents.push(...g.truth.incidents);
    truth.away.push(...g.truth.away);
    truth.unannounced.push(...g.truth.unannounced);
  }
  return { scores: [...all.entries()].map(([mode, f]) => scoreFindings(mode, f, truth, span)), readings };
}

