/**
 * Evaluation: recorded readings plus a ground-truth incident list through
 * the engine — once with the fixed rules alone, once with fixed rules and the
 * away context, once with everything learned — and scored: recall per
 * incident type, false alarms per home per month, time to detect. The label
 * format is documented in docs/evaluate.md.
 */
import { z } from 'zod';
import { VirtualClock } from '../core/clock.js';
import type { Reading } from '../core/events.js';
import type { Finding } from '../core/findings.js';
import { silentLogger } from '../core/logger.js';
import { localTime } from '../core/time.js';
import type { BaselineSettings } from './baseline.js';
import { createRuleEngine, type RuleEngine } from './engine.js';
import { fixedRules } from './rule-config.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Days per month for "per home per month". */
export const daysPerMonth = 30.44;

const rfc3339 = z.iso.datetime({ offset: true });
const incidentSchema = z.object({
  home: z.string().min(1),
  type: z.string().min(1),
  start: rfc3339,
  end: rfc3339.optional(),
  severity: z.enum(['warning', 'critical']).default('critical'),
  device: z.string().optional(),
  silentFrom: rfc3339.optional(),
  note: z.string().optional(),
});
const periodSchema = z.object({ home: z.string().min(1), from: rfc3339, to: rfc3339, reason: z.enum(['day-care', 'hospital', 'trip', 'other']), note: z.string().optional() });
const truthObject = z.object({
  format: z.literal('mimamori-truth/1').optional(),
  homes: z.array(z.object({ home: z.string().min(1), timezone: z.string().default('Asia/Tokyo'), dayCareDays: z.array(z.number().int().min(0).max(6)).default([]) })).default([]),
  incidents: z.array(incidentSchema),
  away: z.array(periodSchema).default([]),
  /** Absences nobody told the system about: documented, never fed to the engine. */
  unannounced: z.array(periodSchema).default([]),
});
/** The ground truth: a bare incident list (as `mimamori simulate --truth` writes) or the full object. */
export const truthSchema = z.union([z.array(incidentSchema).transform((incidents) => truthObject.parse({ incidents })), truthObject]);
export type Truth = z.output<typeof truthObject>;
export type TruthIncident = Truth['incidents'][number];

/** Validates a truth file's JSON; throws with every problem listed. */
export function parseTruth(input: unknown): Truth {
  const r = truthSchema.safeParse(input);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return r.data;
}

/** Incident types the operator (device health) is told about; everything else is the family's. */
export const operatorIncidentTypes = new Set(['sensor-silent', 'battery-flat']);

export type EvaluationMode = 'fixed' | 'fixed+context' | 'learned';
export const evaluationModes: readonly EvaluationMode[] = ['fixed', 'fixed+context', 'learned'];
export const modeText: Record<EvaluationMode, string> = {
  fixed: 'fixed rules alone',
  'fixed+context': 'fixed rules + away context',
  learned: 'learned routines (fixed + context + learned rules)',
};

/** The few facts of a finding the score needs. */
export interface ScoredFinding { home: string; rule: string; type: string; state: Finding['state']; severity: Finding['severity']; audience: Finding['audience']; at: number; device?: string }

export interface TypeScore { type: string; total: number; detected: number; recall: number; medianMinutes: number; worstMinutes: number; missed: string[] }

export interface ModeScore {
  mode: EvaluationMode;
  homeMonths: number;
  byType: TypeScore[];
  criticalTotal: number;
  criticalDetected: number;
  /** Family-facing warning/critical alarms outside every incident. */
  falseAlarms: number;
  falseAlarmsPerHomeMonth: number;
  falseAlarmsByRule: Record<string, number>;
  /** Gentle notices (info, family), caregiver observations, operator findings outside incidents. */
  noticesPerHomeMonth: number;
  observations: number;
  operatorFalseAlarms: number;
  /** Operator findings outside incidents, by rule type. */
  operatorFalseAlarmsByRule: Record<string, number>;
  /** Median / worst minutes to detect no-sign-of-life incidents that began in waking hours (07:00–22:00). */
  noSignWakingMedianMinutes: number;
  noSignWakingWorstMinutes: number;
  /** False alarms per home and month (YYYY-MM), for --months. */
  byMonth: Record<string, number>;
  /** The false alarms themselves, for inspection. */
  falseAlarmList: ScoredFinding[];
}

/** The median, NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Window { from: number; to: number }

function incidentWindow(i: TruthIncident): Window {
  const start = Date.parse(i.start);
  if (operatorIncidentTypes.has(i.type)) {
    const silent = i.silentFrom ? Date.parse(i.silentFrom) : start;
    return { from: start - MIN, to: Math.max(silent, start) + 12 * HOUR };
  }
  const end = i.end ? Date.parse(i.end) : start + HOUR;
  return { from: start - MIN, to: end + 2 * HOUR };
}

/**
 * Scores findings against the truth. `span` gives each home's observed
 * period (first and last reading), from which home-months are counted.
 */
export function scoreFindings(mode: EvaluationMode, findings: readonly ScoredFinding[], truth: Truth, span: Map<string, { first: number; last: number }>): ModeScore {
  const tzOf = new Map(truth.homes.map((h) => [h.home, h.timezone]));
  const tz = (home: string) => tzOf.get(home) ?? 'Asia/Tokyo';
  let homeDays = 0;
  for (const s of span.values()) homeDays += (s.last - s.first) / DAY;
  const homeMonths = homeDays / daysPerMonth;
  const raised = findings.filter((f) => f.state === 'raised');
  const windows = new Map<string, Window[]>();
  for (const i of truth.incidents) windows.set(i.home, [...(windows.get(i.home) ?? []), incidentWindow(i)]);

  const types = new Map<string, { total: number; detected: number; minutes: number[]; missed: string[] }>();
  let criticalTotal = 0, criticalDetected = 0;
  const wakingNoSign: number[] = [];
  for (const i of truth.incidents) {
    if (!span.has(i.home)) continue;
    const w = incidentWindow(i);
    const operator = operatorIncidentTypes.has(i.type);
    const hit = raised.find((f) => f.home === i.home && f.at >= w.from && f.at <= w.to && f.severity !== 'info' && (operator ? f.audience === 'operator' : f.audience === 'family'));
    const t = types.get(i.type) ?? { total: 0, detected: 0, minutes: [], missed: [] };
    t.total++;
    if (i.severity === 'critical') criticalTotal++;
    if (hit) {
      t.detected++;
      const minutes = Math.max(0, (hit.at - Date.parse(i.start)) / MIN);
      t.minutes.push(minutes);
      if (i.severity === 'critical') criticalDetected++;
      const h = localTime(Date.parse(i.start), tz(i.home)).hour;
      if (i.type === 'no-sign-of-life' && h >= 7 && h < 22) wakingNoSign.push(minutes);
    } else t.missed.push(`${i.home} ${i.start}`);
    types.set(i.type, t);
  }

  // Alarm episodes: a raise of a key that was not already raised (escalation is the same episode).
  const active = new Set<string>();
  const falseAlarmList: ScoredFinding[] = [];
  const byRule: Record<string, number> = {};
  const byMonth: Record<string, number> = {};
  const operatorByRule: Record<string, number> = {};
  let notices = 0, observations = 0, operatorFalse = 0;
  for (const f of findings) {
    // A rule raises one alert per home, except device health (one per device); the device
    // on a family finding's clear is the sign of life that ended it, not part of its key.
    const key = `${f.home}\0${f.rule}\0${f.audience === 'operator' ? f.device ?? '' : ''}`;
    if (f.state === 'cleared') { active.delete(key); continue; }
    if (f.audience === 'caregiver') { if (!active.has(key)) observations++; active.add(key); continue; }
    if (f.severity === 'info') { if (!active.has(key)) notices++; active.add(key); continue; }
    if (active.has(key)) continue;
    active.add(key);
    const inIncident = (windows.get(f.home) ?? []).some((w) => f.at >= w.from && f.at <= w.to);
    if (inIncident) continue;
    if (f.audience === 'operator') { operatorFalse++; operatorByRule[f.type] = (operatorByRule[f.type] ?? 0) + 1; continue; }
    falseAlarmList.push(f);
    byRule[f.type] = (byRule[f.type] ?? 0) + 1;
    const l = localTime(f.at, tz(f.home));
    const month = `${l.year}-${String(l.month).padStart(2, '0')}`;
    byMonth[month] = (byMonth[month] ?? 0) + 1;
  }
  const perMonth = (n: number) => (homeMonths > 0 ? n / homeMonths : 0);
  return {
    mode, homeMonths,
    byType: [...types.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, t]) => ({
      type, total: t.total, detected: t.detected, recall: t.total ? t.detected / t.total : 1,
      medianMinutes: median(t.minutes), worstMinutes: t.minutes.length ? Math.max(...t.minutes) : NaN, missed: t.missed,
    })),
    criticalTotal, criticalDetected,
    falseAlarms: falseAlarmList.length, falseAlarmsPerHomeMonth: perMonth(falseAlarmList.length), falseAlarmsByRule: byRule,
    noticesPerHomeMonth: perMonth(notices), observations, operatorFalseAlarms: operatorFalse, operatorFalseAlarmsByRule: operatorByRule,
    noSignWakingMedianMinutes: median(wakingNoSign), noSignWakingWorstMinutes: wakingNoSign.length ? Math.max(...wakingNoSign) : NaN,
    byMonth, falseAlarmList,
  };
}

export interface EvaluateOptions {
  modes?: readonly EvaluationMode[];
  /** Learning length etc. for the learned mode. */
  routineSettings?: Partial<BaselineSettings>;
  /** A home's rule set per mode (default: fixed rules alone, + awayContext, or the engine's defaults for `learned`). */
  ruleSetFor?: (mode: EvaluationMode, home: string) => unknown;
  /** After the last reading, run the clocks on to this time (default: stop at the last reading). */
  runOnTo?: number;
  /**
   * Absences she entered herself (the tablet's 「出かけます」), in time order: at `at` the
   * engine is told she is away until `until` (`setAway`), as the tablet route does.
   */
  announced?: ReadonlyArray<{ home: string; at: number; until: number }>;
}

interface Run { mode: EvaluationMode; clock: VirtualClock; engine: RuleEngine; findings: ScoredFinding[] }

function toScored(f: Finding): ScoredFinding {
  const s: ScoredFinding = { home: f.home, rule: f.rule, type: f.type, state: f.state, severity: f.severity, audience: f.audience, at: f.at };
  if (f.device !== undefined) s.device = f.device;
  return s;
}

/**
 * Runs the readings (time order) through one engine per mode, side by side
 * on virtual clocks, and returns the raw findings per mode plus each home's
 * observed span. Nothing runs past the last reading, so the end of the data
 * is not mistaken for silence.
 */
export async function runModes(readings: Iterable<Reading> | AsyncIterable<Reading>, truth: Truth, opts: EvaluateOptions = {}): Promise<{ findings: Map<EvaluationMode, ScoredFinding[]>; span: Map<string, { first: number; last: number }> }> {
  const modes = opts.modes ?? evaluationModes;
  const tzOf = new Map(truth.homes.map((h) => [h.home, h.timezone]));
  const runs: Run[] = [];
  const span = new Map<string, { first: number; last: number }>();
  let started = false;
  const fixed = fixedRules();
  const announced = opts.announced ?? [];
  let nextAnnounced = 0;
  try {
    for await (const r of readings) {
      if (!started) {
        started = true;
        for (const mode of modes) {
          const clock = new VirtualClock(r.at);
          const engineOpts: Parameters<typeof createRuleEngine>[0] = { clock, logger: silentLogger(), watermark: {}, timezoneFor: (home) => tzOf.get(home) ?? 'Asia/Tokyo' };
          const ruleSetFor = opts.ruleSetFor;
          if (ruleSetFor) engineOpts.rulesFor = (home) => ruleSetFor(mode, home);
          else if (mode !== 'learned') engineOpts.rulesFor = () => (mode === 'fixed' ? fixed : [...fixed, { type: 'awayContext' }]);
          if (opts.routineSettings) engineOpts.routineSettings = opts.routineSettings;
          const engine = await createRuleEngine(engineOpts);
          const run: Run = { mode, clock, engine, findings: [] };
          engine.findings.subscribe((f) => run.findings.push(toScored(f)));
          if (mode !== 'fixed') {
            const homes = new Set([...truth.homes.map((h) => h.home), ...truth.away.map((a) => a.home)]);
            for (const home of homes) {
              const away = truth.away.filter((a) => a.home === home).map(({ home: _h, ...p }) => p);
              const res = engine.setContext(home, { away, dayCareDays: truth.homes.find((h) => h.home === home)?.dayCareDays ?? [] });
              if (res.errors.length) throw new Error(`context for ${home}: ${res.errors.join('; ')}`);
            }
          }
          runs.push(run);
        }
      }
      const s = span.get(r.home);
      if (s === undefined) span.set(r.home, { first: r.at, last: r.at });
      else if (r.at > s.last) s.last = r.at;
      for (; nextAnnounced < announced.length && announced[nextAnnounced]!.at <= r.at; nextAnnounced++) {
        const a = announced[nextAnnounced]!;
        for (const run of runs) { run.clock.advanceTo(a.at); run.engine.setAway(a.home, a.until); }
      }
      for (const run of runs) {
        run.clock.advanceTo(r.at);
        run.engine.ingest(r);
      }
    }
    if (opts.runOnTo !== undefined) for (const run of runs) run.clock.advanceTo(opts.runOnTo);
  } finally {
    for (const run of runs) await run.engine.close();
  }
  return { findings: new Map(runs.map((r) => [r.mode, r.findings])), span };
}

/** Runs and scores: one `ModeScore` per mode. */
export async function evaluateReadings(readings: Iterable<Reading> | AsyncIterable<Reading>, truth: Truth, opts: EvaluateOptions = {}): Promise<ModeScore[]> {
  const { findings, span } = await runModes(readings, truth, opts);
  return [...findings.entries()].map(([mode, f]) => scoreFindings(mode, f, truth, span));
}

/** Merges scores of separate runs (corpus groups) of the same mode by re-scoring their findings. */
export interface TargetCheck { name: string; met: boolean; detail: string }

/** The issue's targets, checked on the learned and fixed-alone scores. */
export function checkTargets(learned: ModeScore, fixed: ModeScore | undefined): TargetCheck[] {
  const recall = (s: ModeScore) => {
    let t = 0, d = 0;
    for (const x of s.byType) { t += x.total; d += x.detected; }
    return t ? d / t : 1;
  };
  const out: TargetCheck[] = [
    { name: 'every critical incident detected', met: learned.criticalDetected === learned.criticalTotal, detail: `${learned.criticalDetected}/${learned.criticalTotal}` },
    { name: 'at most 1 false alarm per home per month', met: learned.falseAlarmsPerHomeMonth <= 1, detail: learned.falseAlarmsPerHomeMonth.toFixed(3) },
    Number.isNaN(learned.noSignWakingMedianMinutes)
      ? { name: 'median time to detect no-sign-of-life in waking hours under 4 h', met: true, detail: 'not measured: no such incident in the data' }
      : { name: 'median time to detect no-sign-of-life in waking hours under 4 h', met: learned.noSignWakingMedianMinutes < 240, detail: fmtMinutes(learned.noSignWakingMedianMinutes) },
  ];
  if (fixed) {
    const perType = learned.byType.every((l) => l.recall >= (fixed.byType.find((f) => f.type === l.type)?.recall ?? 0));
    out.push({
      name: 'learned beats fixed rules alone on false alarms at equal or better recall',
      met: learned.falseAlarms < fixed.falseAlarms && recall(learned) >= recall(fixed) && perType,
      detail: `false alarms ${learned.falseAlarms} vs ${fixed.falseAlarms}; recall ${(recall(learned) * 100).toFixed(1)}% vs ${(recall(fixed) * 100).toFixed(1)}%${perType ? '' : ' (lower recall for some type)'}`,
    });
  }
  return out;
}

/** "2 h 05 min" / "—". */
export function fmtMinutes(m: number): string {
  if (!Number.isFinite(m)) return '—';
  const h = Math.floor(m / 60), mm = Math.round(m % 60);
  return h > 0 ? `${h} h ${String(mm).padStart(2, '0')} min` : `${mm} min`;
}

/** The printed report, one line per string. */
export function formatReport(scores: readonly ModeScore[], opts: { months?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const s of scores) {
    lines.push(`== ${modeText[s.mode]} ==`);
    lines.push(`  ${s.homeMonths.toFixed(1)} resident-months`);
    lines.push('  incident type          detected   recall   median detect   worst detect');
    for (const t of s.byType) {
      lines.push(`  ${t.type.padEnd(22)} ${`${t.detected}/${t.total}`.padStart(8)}   ${(t.recall * 100).toFixed(0).padStart(5)}%   ${fmtMinutes(t.medianMinutes).padStart(13)}   ${fmtMinutes(t.worstMinutes).padStart(12)}`);
      for (const m of t.missed) lines.push(`      missed: ${m}`);
    }
    lines.push(`  no-sign-of-life in waking hours: median ${fmtMinutes(s.noSignWakingMedianMinutes)}, worst ${fmtMinutes(s.noSignWakingWorstMinutes)}`);
    lines.push(`  false alarms (family, warning/critical): ${s.falseAlarms} = ${s.falseAlarmsPerHomeMonth.toFixed(3)} per home per month  ${JSON.stringify(s.falseAlarmsByRule)}`);
    lines.push(`  gentle notices (info): ${s.noticesPerHomeMonth.toFixed(2)} per home per month; caregiver observations: ${s.observations}; operator findings outside incidents: ${s.operatorFalseAlarms}`);
    if (opts.months) for (const [m, n] of Object.entries(s.byMonth).sort()) lines.push(`    ${m}: ${n} false alarm(s)`);
  }
  const learned = scores.find((s) => s.mode === 'learned');
  if (learned) {
    lines.push('== targets ==');
    for (const c of checkTargets(learned, scores.find((s) => s.mode === 'fixed'))) lines.push(`  [${c.met ? 'PASS' : 'FAIL'}] ${c.name}: ${c.detail}`);
  }
  return lines;
}
