/**
 * Evaluation on real recordings (`mimamori evaluate --recordings DIR`):
 * unlabelled recordings of people living alone, each with its home settings
 * (edge/recordings/home-settings.ts), run through the fixed rules alone and
 * the default rule set (fixed + learned).
 *
 * (a) As recorded: every family warning/critical is a false alarm (nothing
 *     happened to these residents that the data shows), counted per home-month
 *     by rule and audience.
 * (b) With injected incidents, each in its own run: the home's recording up
 *     to the incident, then the injected events, then 12 h of silence —
 *     collapse at a waking moment when she is home, a night outing without
 *     return, a collapse right after coming home. Recall and time to detect.
 *
 * Moments are drawn with a seeded generator from the second half of each
 * recording (so the learned rules have had the first half to learn), only
 * where the recording goes on for at least 12 h afterwards.
 */
import type { Reading } from '../core/events.js';
import { inWindow, localTime, parseClockTime, toLocalIso } from '../core/time.js';
import { createRandom, type Random } from '../edge/index.js';
import type { HomeSettings } from '../edge/index.js';
import { daysPerMonth, fmtMinutes, median, runModes, scoreFindings, type ModeScore, type ScoredFinding, type Truth } from './evaluate.js';
import { defaultRules, fixedRules, type RuleConfig } from './rule-config.js';
import { inBed } from './rules/held-state.js';
import { outingHoursOffered } from './rules/routine-marks.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** How long an injected incident silences the home. */
export const silenceHours = 12;

/** One recorded home: its settings and its readings in time order. */
export interface RecordedHome { settings: HomeSettings; readings: Reading[] }

export type RecordingMode = 'fixed' | 'learned';
export const recordingModes: readonly RecordingMode[] = ['fixed', 'learned'];
export const recordingModeText: Record<RecordingMode, string> = { fixed: 'fixed rules alone', learned: 'default rules (fixed + learned)' };

export const injectedTypes = ['collapse-waking', 'night-outing', 'collapse-after-arrival'] as const;
export type InjectedType = (typeof injectedTypes)[number];
export const injectedTypeText: Record<InjectedType, string> = {
  'collapse-waking': 'collapse at a waking moment, at home',
  'night-outing': 'night outing without return',
  'collapse-after-arrival': 'collapse right after coming home',
};

/**
 * The home's rule set for a mode, with its settings applied: the front door
 * to every rule that has one, the waking hours to every rule that has them.
 */
export function homeRuleSet(settings: HomeSettings, mode: RecordingMode): RuleConfig[] {
  return (mode === 'fixed' ? fixedRules() : defaultRules()).map((rule) => {
    const r: Record<string, unknown> = { ...rule };
    if (settings.frontDoor !== undefined) {
      if ('frontDoor' in r) r.frontDoor = settings.frontDoor;
      if (rule.type === 'nightDoor') r.door = settings.frontDoor;
    }
    if (settings.wakingHours !== undefined && 'wakingHours' in r) r.wakingHours = { ...settings.wakingHours };
    return r as unknown as RuleConfig;
  });
}

/** Readings with every reading of `home` in (`at`, `at` + `hours`] removed: the resident's sensors go silent. */
export function injectSilence(readings: readonly Reading[], home: string, at: number, hours = silenceHours): Reading[] {
  const until = at + hours * HOUR;
  return readings.filter((r) => r.home !== home || r.at <= at || r.at > until);
}

/** An incident to inject: silence from `at`, after the `extra` readings (e.g. the front door opening). */
export interface InjectedIncident { home: string; type: InjectedType; at: number; extra: Reading[] }

function isFrontDoor(r: Reading, settings: HomeSettings): boolean {
  return r.kind === 'door' && settings.frontDoor !== undefined && (r.door === settings.frontDoor || r.device === settings.frontDoor);
}

/** A reading that shows the resident inside: movement, a cupboard, a tap, an appliance — not the front door, not a release. */
function isInsideSign(r: Reading, settings: HomeSettings): boolean {
  switch (r.kind) {
    case 'motion': return r.occupied;
    case 'door': return r.open && !isFrontDoor(r, settings);
    case 'water': case 'gas': return r.flowing;
    case 'power': return r.watts > 0;
    case 'kettle': return r.state === 'on';
    case 'button': return true;
    default: return false;
  }
}

function waking(settings: HomeSettings): { from: number; to: number } {
  const w = settings.wakingHours ?? { from: '07:00', to: '22:00' };
  return { from: parseClockTime(w.from), to: parseClockTime(w.to) };
}

/** Picks up to `n` of `candidates` (times), at least a day apart, in seeded random order. */
function pickSpread(candidates: readonly number[], n: number, rng: Random): number[] {
  const chosen: number[] = [];
  for (const t of rng.shuffle(candidates)) {
    if (chosen.length >= n) break;
    if (chosen.every((c) => Math.abs(c - t) >= DAY)) chosen.push(t);
  }
  return chosen.sort((a, b) => a - b);
}

function frontDoorDevice(settings: HomeSettings): string {
  return settings.devices.find((d) => d.role === 'front-door')?.device ?? settings.frontDoor ?? 'front';
}

/**
 * Draws the incidents to inject into one home, `perType` of each type
 * (fewer where the recording has too few suitable moments; none of the two
 * door types in a home without a front-door sensor). Deterministic in `rng`.
 */
export function pickIncidents(home: RecordedHome, perType: number, rng: Random): InjectedIncident[] {
  const { settings, readings } = home;
  const id = settings.home;
  if (readings.length === 0) return [];
  const first = readings[0]!.at, last = readings[readings.length - 1]!.at;
  const half = first + (last - first) / 2;
  const latest = last - silenceHours * HOUR;
  const tz = settings.timezone;
  const wake = waking(settings);
  const out: InjectedIncident[] = [];

  // Collapse at a waking moment: an inside sign of life, in waking hours, while she is home —
  // and up: not in bed (a bed mat pressed, or its own press: lying down is what sleep looks like).
  const bedMats = new Set(settings.devices.filter((d) => d.role === 'mat' && [d.device, d.object, d.room].some((x) => x !== undefined && inBed(x))).map((d) => d.device));
  const pressed = new Set<string>();
  const awake: number[] = [];
  for (const r of readings) {
    if (r.kind === 'motion' && bedMats.has(r.device)) {
      if (r.occupied) pressed.add(r.device); else pressed.delete(r.device);
      continue;
    }
    if (pressed.size > 0 || r.at < half || r.at > latest || !isInsideSign(r, settings)) continue;
    if (inWindow(localTime(r.at, tz).minuteOfDay, wake.from, wake.to)) awake.push(r.at);
  }
  for (const at of pickSpread(awake, perType, rng.fork('collapse-waking'))) out.push({ home: id, type: 'collapse-waking', at, extra: [] });

  if (settings.frontDoor === undefined) return out;
  const device = frontDoorDevice(settings);
  const door = (at: number, open: boolean, n: number): Reading => ({ home: id, device, id: `${device}-injected-${n}`, kind: 'door', open, door: settings.frontDoor!, ts: new Date(at).toISOString(), at });

  // Night outing: a night (00:30–04:00) when she was home — an inside sign in the 6 h before, after the last front-door event.
  const nights: number[] = [];
  let lastDoor = -Infinity, lastInside = -Infinity, i = 0;
  for (let day = Math.floor(half / DAY) * DAY; day < latest; day += 15 * MIN) {
    while (i < readings.length && readings[i]!.at <= day) {
      const r = readings[i++]!;
      if (isFrontDoor(r, settings)) lastDoor = r.at;
      else if (isInsideSign(r, settings)) lastInside = r.at;
    }
    if (day < half) continue;
    const m = localTime(day, tz).minuteOfDay;
    if (m >= 30 && m < 240 && lastInside > lastDoor && day - lastInside <= 6 * HOUR) nights.push(day);
  }
  pickSpread(nights, perType, rng.fork('night-outing')).forEach((at, n) => {
    out.push({ home: id, type: 'night-outing', at: at + MIN, extra: [door(at, true, 2 * n + 1), door(at + MIN, false, 2 * n + 2)] });
  });

  // Collapse after coming home: a real front-door opening after at least an hour with no sign inside; silence from the door closing.
  const arrivals: number[] = [];
  lastInside = -Infinity;
  readings.forEach((r, k) => {
    if (isInsideSign(r, settings)) { lastInside = r.at; return; }
    if (!isFrontDoor(r, settings) || r.kind !== 'door' || !r.open || r.at < half || r.at - lastInside < HOUR) return;
    const close = readings.slice(k + 1, k + 50).find((x) => isFrontDoor(x, settings) && x.kind === 'door' && !x.open && x.at - r.at <= 10 * MIN);
    const at = close?.at ?? r.at;
    if (at <= latest) arrivals.push(at);
  });
  for (const at of pickSpread(arrivals, perType, rng.fork('collapse-after-arrival'))) out.push({ home: id, type: 'collapse-after-arrival', at, extra: [] });
  return out;
}

/** Readings no person makes: a thermometer and heartbeats go on through a collapse. */
function goesOn(r: Reading): boolean {
  return r.kind === 'climate' || r.kind === 'heartbeat';
}

/**
 * The readings one injected run replays: the recording up to the incident, then
 * its extra readings; then silence from her — but not from the thermometer or the
 * heartbeats, which a collapse does not stop (and which tell a gap in the data
 * from a quiet home: watermark.ts).
 */
export function injectedReadings(readings: readonly Reading[], incident: InjectedIncident): Reading[] {
  const cut = incident.extra.length === 0 ? incident.at + 1 : Math.min(...incident.extra.map((x) => x.at));
  const until = incident.at + silenceHours * HOUR;
  const after = readings.filter((r) => r.at >= cut && r.at <= until && goesOn(r));
  return [...readings.filter((r) => r.at < cut), ...[...incident.extra, ...after].sort((a, b) => a.at - b.at)];
}

/** Family alarms, device-health and caregiver findings of one home (or all) as recorded. */
export interface UnlabelledFigures {
  homeMonths: number;
  /** Family warning/critical alarm episodes, by rule type. */
  family: number; familyByRule: Record<string, number>;
  /** Operator findings (device health), by rule type. */
  operator: number; operatorByRule: Record<string, number>;
  /** Caregiver observations and gentle family notices (info). */
  caregiver: number; notices: number;
  /**
   * Within the time the recording's activity labels cover (home-settings.ts `labels`): its
   * home-months, the family alarms raised in it, and those raised while the labels say she was
   * out of the home — away, and nobody had told the system.
   */
  labelled: { homeMonths: number; family: number; whileOut: number };
}

export interface InjectedResult { home: string; type: InjectedType; at: number; /** `at` on the home's clock, RFC 3339. */ time: string; detectedMinutes: Record<RecordingMode, number | null>; detectedBy: Record<RecordingMode, string | null> }

export interface InjectedTypeScore { type: InjectedType; mode: RecordingMode; total: number; detected: number; medianMinutes: number; worstMinutes: number; missed: string[] }

export interface RecordingsReport {
  seed: number;
  perType: number;
  homes: { home: string; dataset?: string; days: number; frontDoor: boolean; wakingHours?: string; figures: Record<RecordingMode, UnlabelledFigures> }[];
  unlabelled: Record<RecordingMode, UnlabelledFigures>;
  injected: InjectedResult[];
  byType: InjectedTypeScore[];
  /**
   * What if she had told the tablet 「出かけます」 as she left for each outing the labels show,
   * choosing the shortest of its offered times that covers it (12 h for a longer one): the
   * default rules' family alarms in the labelled time, and those while she was out. An upper
   * bound on what the tablet can save, not the figure the targets judge.
   */
  announced: UnlabelledFigures['labelled'] & { outings: number };
}

/** No labels; the absences and day-care days the home's settings say were entered, set as its context. */
function truthFor(settings: HomeSettings): Truth {
  const away = (settings.away ?? []).map((p) => ({ home: settings.home, ...p }));
  return { homes: [{ home: settings.home, timezone: settings.timezone, dayCareDays: settings.dayCareDays ?? [] }], incidents: [], away, unannounced: [] };
}

function figuresOf(s: ModeScore, settings: HomeSettings, span: { first: number; last: number } | undefined): UnlabelledFigures {
  return {
    homeMonths: s.homeMonths, family: s.falseAlarms, familyByRule: { ...s.falseAlarmsByRule },
    operator: s.operatorFalseAlarms, operatorByRule: { ...s.operatorFalseAlarmsByRule },
    caregiver: s.observations, notices: Math.round(s.noticesPerHomeMonth * s.homeMonths),
    labelled: labelledFigures(s.falseAlarmList, settings, span),
  };
}

/** The family alarms of one home within its labelled time, and those while the labels say she was out. */
function labelledFigures(alarms: readonly ScoredFinding[], settings: HomeSettings, span: { first: number; last: number } | undefined): UnlabelledFigures['labelled'] {
  const labels = settings.labels;
  if (labels === undefined || span === undefined) return { homeMonths: 0, family: 0, whileOut: 0 };
  const from = Math.max(Date.parse(labels.from), span.first), to = Math.min(Date.parse(labels.to), span.last);
  if (!(to > from)) return { homeMonths: 0, family: 0, whileOut: 0 };
  const out = labels.out.map((p) => ({ from: Date.parse(p.from), to: Date.parse(p.to) }));
  const inside = alarms.filter((f) => f.at >= from && f.at <= to);
  return { homeMonths: (to - from) / DAY / daysPerMonth, family: inside.length, whileOut: inside.filter((f) => out.some((p) => f.at >= p.from && f.at <= p.to)).length };
}

const addLabelled = (a: UnlabelledFigures['labelled'], b: UnlabelledFigures['labelled']): UnlabelledFigures['labelled'] => ({
  homeMonths: a.homeMonths + b.homeMonths, family: a.family + b.family, whileOut: a.whileOut + b.whileOut,
});

function addFigures(a: UnlabelledFigures, b: UnlabelledFigures): UnlabelledFigures {
  const add = (x: Record<string, number>, y: Record<string, number>) => {
    const o = { ...x };
    for (const [k, v] of Object.entries(y)) o[k] = (o[k] ?? 0) + v;
    return o;
  };
  return {
    homeMonths: a.homeMonths + b.homeMonths, family: a.family + b.family, familyByRule: add(a.familyByRule, b.familyByRule),
    operator: a.operator + b.operator, operatorByRule: add(a.operatorByRule, b.operatorByRule), caregiver: a.caregiver + b.caregiver, notices: a.notices + b.notices,
    labelled: addLabelled(a.labelled, b.labelled),
  };
}

const emptyFigures = (): UnlabelledFigures => ({ homeMonths: 0, family: 0, familyByRule: {}, operator: 0, operatorByRule: {}, caregiver: 0, notices: 0, labelled: { homeMonths: 0, family: 0, whileOut: 0 } });

/**
 * The first raised family warning/critical from the incident's start (its
 * first injected event, else the start of the silence; 1 min grace) to the
 * end of the silence; minutes counted from that start.
 */
function detection(findings: readonly ScoredFinding[], incident: InjectedIncident): { minutes: number; rule: string } | null {
  const start = Math.min(incident.at, ...incident.extra.map((x) => x.at));
  const hit = findings.find((f) => f.home === incident.home && f.state === 'raised' && f.audience === 'family' && f.severity !== 'info' && f.at >= start - MIN && f.at <= incident.at + silenceHours * HOUR);
  return hit ? { minutes: Math.max(0, (hit.at - start) / MIN), rule: hit.type } : null;
}

export interface RecordingsOptions {
  seed?: number;
  /** Incidents of each type injected per home (default 3). */
  perType?: number;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

/** Her 「出かけます」 as she leaves for each outing the labels show: the shortest offered time that covers it. */
function announcedOutings(settings: HomeSettings): Array<{ home: string; at: number; until: number }> {
  return (settings.labels?.out ?? []).map((p) => {
    const from = Date.parse(p.from), length = Date.parse(p.to) - from;
    const hours = outingHoursOffered.find((h) => h * HOUR >= length) ?? outingHoursOffered[outingHoursOffered.length - 1]!;
    return { home: settings.home, at: from, until: from + hours * HOUR };
  }).sort((a, b) => a.at - b.at);
}

/** Runs both parts on every home and returns the report. */
export async function evaluateRecordings(homes: readonly RecordedHome[], opts: RecordingsOptions = {}): Promise<RecordingsReport> {
  const seed = opts.seed ?? 1, perType = opts.perType ?? 3;
  const rng = createRandom(seed);
  const report: RecordingsReport = { seed, perType, homes: [], unlabelled: { fixed: emptyFigures(), learned: emptyFigures() }, injected: [], byType: [], announced: { homeMonths: 0, family: 0, whileOut: 0, outings: 0 } };
  for (const home of homes) {
    const { settings, readings } = home;
    const ruleSetFor = (mode: string) => homeRuleSet(settings, mode === 'fixed' ? 'fixed' : 'learned');
    const truth = truthFor(settings);
    const { findings, span } = await runModes(readings, truth, { modes: ['fixed', 'learned'], ruleSetFor });
    const homeSpan = span.get(settings.home);
    const figures = {
      fixed: figuresOf(scoreFindings('fixed', findings.get('fixed') ?? [], truth, span), settings, homeSpan),
      learned: figuresOf(scoreFindings('learned', findings.get('learned') ?? [], truth, span), settings, homeSpan),
    };
    for (const m of recordingModes) report.unlabelled[m] = addFigures(report.unlabelled[m], figures[m]);
    const entry: RecordingsReport['homes'][number] = { home: settings.home, days: homeSpan ? (homeSpan.last - homeSpan.first) / DAY : 0, frontDoor: settings.frontDoor !== undefined, figures };
    if (settings.dataset !== undefined) entry.dataset = settings.dataset;
    if (settings.wakingHours) entry.wakingHours = `${settings.wakingHours.from}–${settings.wakingHours.to}`;
    report.homes.push(entry);

    const announced = announcedOutings(settings);
    if (announced.length > 0) {
      const run = await runModes(readings, truth, { modes: ['learned'], ruleSetFor, announced });
      const l = figuresOf(scoreFindings('learned', run.findings.get('learned') ?? [], truth, run.span), settings, run.span.get(settings.home)).labelled;
      report.announced = { ...addLabelled(report.announced, l), outings: report.announced.outings + announced.length };
    }

    const incidents = pickIncidents(home, perType, rng.fork(settings.home));
    opts.progress?.(`evaluate: ${settings.home}: ${readings.length} readings, ${incidents.length} injected incident(s)`);
    for (const incident of incidents) {
      const run = await runModes(injectedReadings(readings, incident), truth, { modes: ['fixed', 'learned'], ruleSetFor, runOnTo: incident.at + silenceHours * HOUR });
      const result: InjectedResult = { home: incident.home, type: incident.type, at: incident.at, time: toLocalIso(incident.at, settings.timezone), detectedMinutes: { fixed: null, learned: null }, detectedBy: { fixed: null, learned: null } };
      for (const m of recordingModes) {
        const d = detection(run.findings.get(m) ?? [], incident);
        result.detectedMinutes[m] = d?.minutes ?? null;
        result.detectedBy[m] = d?.rule ?? null;
      }
      report.injected.push(result);
    }
  }
  report.byType = scoreInjected(report.injected, homes);
  return report;
}

/** Recall and time to detect per incident type and mode. */
export function scoreInjected(results: readonly InjectedResult[], homes: readonly RecordedHome[]): InjectedTypeScore[] {
  const tzOf = new Map(homes.map((h) => [h.settings.home, h.settings.timezone]));
  const out: InjectedTypeScore[] = [];
  for (const type of injectedTypes) {
    for (const mode of recordingModes) {
      const of = results.filter((r) => r.type === type);
      const minutes = of.map((r) => r.detectedMinutes[mode]).filter((m): m is number => m !== null);
      out.push({
        type, mode, total: of.length, detected: minutes.length, medianMinutes: median(minutes), worstMinutes: minutes.length ? Math.max(...minutes) : NaN,
        missed: of.filter((r) => r.detectedMinutes[mode] === null).map((r) => {
          const l = localTime(r.at, tzOf.get(r.home) ?? 'UTC');
          return `${r.home} ${l.date} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
        }),
      });
    }
  }
  return out;
}

export interface RecordingsTarget { name: string; met: boolean; detail: string }

/** Issue #10's targets for real recordings, on the default rules. */
export function checkRecordingTargets(r: RecordingsReport): RecordingsTarget[] {
  const per = (f: UnlabelledFigures, n: number) => (f.homeMonths > 0 ? n / f.homeMonths : 0);
  const d = r.unlabelled.learned, f = r.unlabelled.fixed;
  const score = (type: InjectedType, mode: RecordingMode) => r.byType.find((s) => s.type === type && s.mode === mode)!;
  const recall = (mode: RecordingMode) => {
    const all = r.byType.filter((s) => s.mode === mode);
    const total = all.reduce((a, s) => a + s.total, 0);
    return total ? all.reduce((a, s) => a + s.detected, 0) / total : 1;
  };
  const cw = score('collapse-waking', 'learned');
  const allDetected = injectedTypes.every((t) => { const s = score(t, 'learned'); return s.detected === s.total; });
  return [
    { name: 'family warning/critical alarms ≤ 2.0 per home-month', met: per(d, d.family) <= 2, detail: per(d, d.family).toFixed(2) },
    { name: 'device-health findings ≤ 4 per home-month', met: per(d, d.operator) <= 4, detail: per(d, d.operator).toFixed(1) },
    { name: 'every injected incident detected', met: allDetected, detail: injectedTypes.map((t) => { const s = score(t, 'learned'); return `${t} ${s.detected}/${s.total}`; }).join(', ') },
    { name: 'waking-hours collapse: median ≤ 3 h, worst ≤ 6 h', met: cw.total > 0 && cw.medianMinutes <= 180 && cw.worstMinutes <= 360 && cw.detected === cw.total, detail: `median ${fmtMinutes(cw.medianMinutes)}, worst ${fmtMinutes(cw.worstMinutes)}` },
    { name: 'default rules beat fixed alone on false alarms at equal recall', met: d.family < f.family && recall('learned') >= recall('fixed'), detail: `family alarms ${d.family} vs ${f.family}; recall ${(recall('learned') * 100).toFixed(0)}% vs ${(recall('fixed') * 100).toFixed(0)}%` },
  ];
}

const rules = (o: Record<string, number>, homeMonths: number) => Object.entries(o).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} ${(homeMonths > 0 ? v / homeMonths : 0).toFixed(1)}`).join(', ') || '—';

/** The printed report (text table), one line per string. */
export function formatRecordingsReport(r: RecordingsReport): string[] {
  const lines: string[] = [];
  const total = r.unlabelled.fixed.homeMonths;
  lines.push(`Real recordings: ${r.homes.length} homes, ${(total * 30.44).toFixed(1)} days = ${total.toFixed(2)} home-months; seed ${r.seed}, ${r.perType} injected incident(s) of each type per home`);
  lines.push('');
  lines.push('(a) as recorded — per home-month                       family alarms   device-health   caregiver   notices');
  const row = (name: string, f: UnlabelledFigures) => {
    const per = (n: number) => (f.homeMonths > 0 ? n / f.homeMonths : 0).toFixed(1);
    return `  ${name.padEnd(52)} ${per(f.family).padStart(13)}   ${per(f.operator).padStart(13)}   ${per(f.caregiver).padStart(9)}   ${per(f.notices).padStart(7)}`;
  };
  for (const m of recordingModes) {
    lines.push(row(`${recordingModeText[m]} — all homes`, r.unlabelled[m]));
    lines.push(`      family by rule: ${rules(r.unlabelled[m].familyByRule, r.unlabelled[m].homeMonths)}`);
    lines.push(`      device-health by rule: ${rules(r.unlabelled[m].operatorByRule, r.unlabelled[m].homeMonths)}`);
    const l = r.unlabelled[m].labelled;
    if (l.homeMonths > 0) lines.push(`      in the labelled time (${(l.homeMonths * daysPerMonth).toFixed(1)} days): ${l.family} family alarms, ${l.whileOut} of them while she was out by the labels (nobody had told the system); the others ${((l.family - l.whileOut) / l.homeMonths).toFixed(1)} per home-month`);
    const a = r.announced;
    if (m === 'learned' && a.outings > 0) lines.push(`      had she told the tablet 「出かけます」 as she left for each of the ${a.outings} labelled outings (the shortest of ${outingHoursOffered.join('/')} h that covers it): ${a.family} family alarms in the labelled time, ${a.whileOut} while out (${(a.family / a.homeMonths).toFixed(1)} per home-month) — what the tablet can save at most, not the figure judged`);
  }
  lines.push('  per home (fixed alone | default):');
  for (const h of r.homes) {
    const f = h.figures.fixed, d = h.figures.learned;
    const per = (x: UnlabelledFigures, n: number) => (x.homeMonths > 0 ? n / x.homeMonths : 0).toFixed(1);
    const l = d.labelled;
    const labelled = l.homeMonths > 0 ? `   labelled ${(l.homeMonths * daysPerMonth).toFixed(1)} d: ${l.family} family, ${l.whileOut} while out` : '';
    lines.push(`    ${h.home.padEnd(18)} ${h.days.toFixed(1).padStart(5)} d  family ${per(f, f.family).padStart(5)} | ${per(d, d.family).padStart(5)}   device-health ${per(f, f.operator).padStart(6)} | ${per(d, d.operator).padStart(6)}${h.frontDoor ? '' : '   (no front-door sensor)'}${h.wakingHours ? `   waking ${h.wakingHours}` : ''}${labelled}`);
  }
  lines.push('');
  lines.push(`(b) injected incidents (${silenceHours} h of silence each)     ${recordingModes.map((m) => recordingModeText[m].padEnd(36)).join('')}`);
  lines.push(`  ${''.padEnd(44)} ${recordingModes.map(() => 'detected   median      worst          ').join('')}`);
  for (const type of injectedTypes) {
    const cells = recordingModes.map((m) => {
      const s = r.byType.find((x) => x.type === type && x.mode === m)!;
      return `${`${s.detected}/${s.total}`.padEnd(10)} ${fmtMinutes(s.medianMinutes).padEnd(11)} ${fmtMinutes(s.worstMinutes).padEnd(15)}`;
    });
    lines.push(`  ${injectedTypeText[type].padEnd(44)} ${cells.join('')}`);
    for (const m of recordingModes) for (const miss of r.byType.find((x) => x.type === type && x.mode === m)!.missed) lines.push(`      missed by ${recordingModeText[m]}: ${miss}`);
  }
  lines.push('');
  lines.push('== targets (default rules) ==');
  for (const c of checkRecordingTargets(r)) lines.push(`  [${c.met ? 'PASS' : 'FAIL'}] ${c.name}: ${c.detail}`);
  return lines;
}
