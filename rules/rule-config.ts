/**
 * Rules are data: a per-home rule set validated with zod. A bad rule is
 * reported with a human-readable message and skipped; the others still run.
 */
import { z } from 'zod';
import { idPattern } from '../core/events.js';
import { isValidTimeZone, parseClockTime } from '../core/time.js';

/** Whether `tz` is an IANA time zone this runtime knows (kept in core/time.ts, where edge/ can reach it too). */
export { isValidTimeZone };

const clockTime = z.string().refine((s) => {
  try { parseClockTime(s); return true; } catch { return false; }
}, { message: 'expected a time of day as "HH:MM" (00:00–23:59)' });

/** A daily window in the home's own time zone; `from` may be later than `to` (wraps midnight). */
const dailyWindow = z.strictObject({ from: clockTime, to: clockTime });

const ruleId = z.string().regex(idPattern, 'rule id: lower-case letters, digits, "-" or "_", 1–63 characters');
const minutes = (def: number, max = 7 * 24 * 60) => z.number().int().min(1).max(max).default(def);
const severity = z.enum(['info', 'warning', 'critical']);
/**
 * After a critical finding, signs of life within this many minutes of someone
 * coming in through the front door (or of their latest activity) are taken as
 * a visitor's and do not clear it (rules/rules/visitor-guard.ts).
 */
const visitorWindowMinutes = minutes(30, 24 * 60);

export const noSignOfLifeRule = z.strictObject({
  type: z.literal('noSignOfLife'),
  id: ruleId.default('no-sign-of-life'),
  enabled: z.boolean().default(true),
  /** The no-sign-of-life clock only runs inside this window (the resident's waking day). */
  wakingHours: dailyWindow.default({ from: '07:00', to: '22:00' }),
  warningAfterMinutes: minutes(180),
  criticalAfterMinutes: minutes(360),
  /** The door whose "opened, closed, no motion inside afterwards" means the resident went out. */
  frontDoor: z.string().min(1).max(64).default('front'),
  /** Going out suppresses the rule for at most this long (then the clock counts again). */
  outOfHomeMaxMinutes: minutes(720),
  /** A power reading counts as a sign of life when it moved by at least this many watts. */
  powerChangeWatts: z.number().positive().max(100_000).default(30),
  visitorWindowMinutes,
  /** Pressure mats and other devices that report a held state (pressed … released); ids naming a mat, seat, chair, couch or sofa are found by themselves. */
  heldDevices: z.array(z.string().min(1).max(64)).max(64).default([]),
  /** A pressed mat in the bed counts as her there, asleep or resting, for at most this long. */
  inBedMaxMinutes: minutes(720, 24 * 60),
  /** A pressed seat or couch mat counts as her there, present but still, for at most this long. */
  heldMaxMinutes: minutes(120, 24 * 60),
  /**
   * Learn when her nights begin (the time and the place of her last sign before
   * a night's sleep): a quiet spell that began well before that, or where no
   * night of hers began, is not taken as sleep — the clock runs through the night.
   */
  learnNights: z.boolean().default(true),
  /**
   * Learn her own limits (rules/rules/learned-limits.ts): how long she rests on a seat
   * mat (at most `restMaxMinutes`) and how long her unannounced outings last (at most
   * `outOfHomeLearnedMaxMinutes`). `false` (fixed rules alone): the fixed numbers above.
   */
  learnLimits: z.boolean().default(true),
  /** The most a learned seat rest may hold the clock (with the 3 h warning: told within 6 h of sitting down). */
  restMaxMinutes: minutes(180, 24 * 60),
  /** The most her learned quiet spells may delay the no-sign-of-life warning (never past the critical). */
  quietLearnedMaxMinutes: minutes(300, 24 * 60),
  /** The most a learned outing may hold the clock before the family is warned. */
  outOfHomeLearnedMaxMinutes: minutes(2880, 7 * 24 * 60),
  /** The most her learned outings after a visit may hold the clock (the fixed wait is `warningAfterMinutes`): a collapse as a visitor leaves is told within this. */
  uncertainOutLearnedMaxMinutes: minutes(360, 24 * 60),
  /** Signs of life from one device alone, after another's, for this long → a warning: the sensor may be firing by itself and hiding her. */
  soleDeviceMinutes: minutes(1440, 7 * 24 * 60),
}).refine((r) => r.criticalAfterMinutes > r.warningAfterMinutes, { message: 'criticalAfterMinutes must be greater than warningAfterMinutes', path: ['criticalAfterMinutes'] });

export const nightDoorRule = z.strictObject({
  type: z.literal('nightDoor'),
  id: ruleId.default('night-door'),
  enabled: z.boolean().default(true),
  /** Matches the door event's `door` field, or the device id. */
  door: z.string().min(1).max(64).default('front'),
  night: dailyWindow.default({ from: '23:00', to: '05:00' }),
  returnWithinMinutes: minutes(15, 24 * 60),
  severity: severity.default('warning'),
});

export const flowWithoutMotionRule = z.strictObject({
  type: z.literal('flowWithoutMotion'),
  id: ruleId.default('flow-without-motion'),
  enabled: z.boolean().default(true),
  signals: z.array(z.enum(['water', 'gas'])).min(1).default(['water', 'gas']),
  minutes: minutes(60, 24 * 60),
  /**
   * Where no motion sensor watches where the flow is used: a warning (not `severity`) only
   * after this long with nobody seen — running water nobody is seen near says no more than
   * no sign of life at all, so no sooner than the no-sign-of-life warning (never below `minutes`).
   */
  unwatchedMinutes: minutes(180, 24 * 60),
  severity: severity.default('critical'),
  /** The door (`door` field or device id) through which a visitor comes in. */
  frontDoor: z.string().min(1).max(64).default('front'),
  visitorWindowMinutes,
  /** A flow longer than any plausible use (a latched float or reed switch): a device fault for the operator, no longer a family matter. */
  faultAfterMinutes: minutes(240, 7 * 24 * 60),
  /**
   * Where each flow sensor is (device id → room, e.g. `{ "toilet-flush": "toilet" }`);
   * otherwise guessed from the device id (bath, toilet, kitchen, wash…); a sensor with no
   * room is a whole-home meter. The finding is raised at `severity` only when a motion
   * sensor covers that room (any motion sensor, for a whole-home meter), else at warning.
   */
  rooms: z.record(z.string().min(1).max(64), z.string().min(1).max(64)).default({}),
  /** Pressure mats (held states): a mat watches only itself, so it covers no room; ids naming a mat, seat, chair, couch or sofa are found by themselves. */
  heldDevices: z.array(z.string().min(1).max(64)).max(64).default([]),
}).refine((r) => r.faultAfterMinutes > r.minutes, { message: 'faultAfterMinutes must be greater than minutes', path: ['faultAfterMinutes'] });

export const helpButtonRule = z.strictObject({
  type: z.literal('helpButton'),
  id: ruleId.default('help-button'),
  enabled: z.boolean().default(true),
});

export const deviceSilentRule = z.strictObject({
  type: z.literal('deviceSilent'),
  id: ruleId.default('device-silent'),
  enabled: z.boolean().default(true),
  /** A device that sends heartbeats and sends nothing for this long is silent. */
  afterMinutes: minutes(120),
  /**
   * An event-only device (one that never sent a heartbeat: most PIR, reed and mat
   * sensors report only on change) is silent after twice its own longest quiet
   * spell so far, and never sooner than this.
   */
  eventOnlyAfterMinutes: minutes(48 * 60, 30 * 24 * 60),
  /**
   * An event-only device is judged on its own only after the home has been watched
   * this many days: a burner or a washing machine used twice a week shows its quiet
   * spells only over weeks (until then the home-silent finding covers it).
   */
  eventOnlyLearningDays: z.number().int().min(0).max(90).default(14),
  /**
   * An event-only device past its limit is silent only once the resident has lived
   * this many more hours at home (hours with a sign of life from other devices):
   * a cupboard says nothing while she is away, a broken one stays silent while she lives.
   */
  eventOnlyLivedHours: z.number().int().min(0).max(24 * 14).default(6),
  /** A home whose devices are all event-only went silent after twice its longest quiet spell so far, and never sooner than this. */
  homeSilentMinutes: minutes(12 * 60, 30 * 24 * 60),
});

export const batteryLowRule = z.strictObject({
  type: z.literal('batteryLow'),
  id: ruleId.default('battery-low'),
  enabled: z.boolean().default(true),
  belowPercent: z.number().min(1).max(95).default(15),
});

// ── Learned routines (docs/routines.md): silent while learning, then compare today with the resident's own normal day ──

const routineSignal = z.enum(['firstActivity', 'firstKettle']);

export const routineMissedRule = z.strictObject({
  type: z.literal('routineMissed'),
  id: ruleId.default('routine-missed'),
  enabled: z.boolean().default(true),
  /** Daily habits to watch: the day's first sign of life, the first kettle use. */
  signals: z.array(routineSignal).min(1).default(['firstKettle', 'firstActivity']),
  /** Late by more than this many spreads (robust standard deviations) after the usual time… */
  spreads: z.number().min(1).max(10).default(3),
  /** …and by at least this many minutes. */
  minLateMinutes: minutes(45, 12 * 60),
  /** Only habits kept on at least this fraction of days. */
  minHappened: z.number().min(0.5).max(1).default(0.85),
  severity: severity.default('info'),
});

export const unusualInactivityRule = z.strictObject({
  type: z.literal('unusualInactivity'),
  id: ruleId.default('unusual-inactivity'),
  enabled: z.boolean().default(true),
  /** Raise a warning when a quiet spell this long would happen by chance on fewer than this fraction of days. */
  warningBelow: z.number().positive().max(0.1).default(0.002),
  criticalBelow: z.number().positive().max(0.01).default(0.00002),
  /** Never sooner than this after the last sign of life. */
  minMinutes: minutes(90, 24 * 60),
  /** Hourly activity probabilities are capped here: nobody is certain to move every hour. */
  maxHourly: z.number().min(0.5).max(0.995).default(0.97),
}).refine((r) => r.criticalBelow < r.warningBelow, { message: 'criticalBelow must be smaller than warningBelow', path: ['criticalBelow'] });

export const unusualNightActivityRule = z.strictObject({
  type: z.literal('unusualNightActivity'),
  id: ruleId.default('unusual-night-activity'),
  enabled: z.boolean().default(true),
  /** Never for fewer than this many restless 10-minute slots between 23:00 and 04:00. */
  minSlots: z.number().int().min(2).max(30).default(9),
  severity: severity.default('warning'),
});

export const routineTrendRule = z.strictObject({
  type: z.literal('routineTrend'),
  id: ruleId.default('routine-trend'),
  enabled: z.boolean().default(true),
  /** The recent period compared with the weeks before it. */
  recentDays: z.number().int().min(7).max(28).default(14),
  /** A rate must change by at least this factor to be mentioned. */
  minRatio: z.number().min(1.1).max(5).default(1.5),
});

export const awayContextRule = z.strictObject({
  type: z.literal('awayContext'),
  id: ruleId.default('away-context'),
  enabled: z.boolean().default(true),
  /** Front door closed and nothing inside for this long: she seems to be away (an info notice while learning); the cap on the learned "longer than usual" limit. */
  inferAfterMinutes: minutes(600, 48 * 60),
  /** No longer used (an inferred absence never pauses the safety net, issue 10); accepted so saved rule sets stay valid. */
  inferredMaxHours: z.number().int().min(12).max(96).default(36),
  frontDoor: z.string().min(1).max(64).default('front'),
});

const schemas = {
  noSignOfLife: noSignOfLifeRule,
  nightDoor: nightDoorRule,
  flowWithoutMotion: flowWithoutMotionRule,
  helpButton: helpButtonRule,
  deviceSilent: deviceSilentRule,
  batteryLow: batteryLowRule,
  routineMissed: routineMissedRule,
  unusualInactivity: unusualInactivityRule,
  unusualNightActivity: unusualNightActivityRule,
  routineTrend: routineTrendRule,
  awayContext: awayContextRule,
} as const;

export type RuleType = keyof typeof schemas;
export const ruleTypes = Object.keys(schemas) as RuleType[];

export type NoSignOfLifeRule = z.output<typeof noSignOfLifeRule>;
export type NightDoorRule = z.output<typeof nightDoorRule>;
export type FlowWithoutMotionRule = z.output<typeof flowWithoutMotionRule>;
export type HelpButtonRule = z.output<typeof helpButtonRule>;
export type DeviceSilentRule = z.output<typeof deviceSilentRule>;
export type BatteryLowRule = z.output<typeof batteryLowRule>;
export type RoutineMissedRule = z.output<typeof routineMissedRule>;
export type UnusualInactivityRule = z.output<typeof unusualInactivityRule>;
export type UnusualNightActivityRule = z.output<typeof unusualNightActivityRule>;
export type RoutineTrendRule = z.output<typeof routineTrendRule>;
export type AwayContextRule = z.output<typeof awayContextRule>;
/** One validated rule, discriminated on `type`. */
export type RuleConfig = NoSignOfLifeRule | NightDoorRule | FlowWithoutMotionRule | HelpButtonRule | DeviceSilentRule | BatteryLowRule
  | RoutineMissedRule | UnusualInactivityRule | UnusualNightActivityRule | RoutineTrendRule | AwayContextRule;

/** The fixed safety rules: on from the first minute, during learning and after. */
export const fixedRuleTypes = ['noSignOfLife', 'nightDoor', 'flowWithoutMotion', 'helpButton', 'deviceSilent', 'batteryLow'] as const;
/** Rules on the learned baseline, and the away context they (and noSignOfLife) respect. */
export const learnedRuleTypes = ['routineMissed', 'unusualInactivity', 'unusualNightActivity', 'routineTrend', 'awayContext'] as const;
export type FixedRuleType = (typeof fixedRuleTypes)[number];
export type LearnedRuleType = (typeof learnedRuleTypes)[number];

export interface RuleError { index: number; id?: string; message: string }
export interface ParsedRuleSet {
  rules: RuleConfig[];
  errors: RuleError[];
  /** IANA zone from the rule set (`{ timezone, rules }` form), when given and valid. */
  timezone?: string;
}

/** The rule set every home starts with: one of each rule, all defaults. */
export function defaultRules(): RuleConfig[] {
  return ruleTypes.map((type) => schemas[type].parse({ type }) as RuleConfig);
}

/** Only the fixed safety rules, all defaults: "fixed rules alone" in `mimamori evaluate`. */
export function fixedRules(): RuleConfig[] {
  // Fixed numbers only: nothing learned from her own rests and outings.
  return fixedRuleTypes.map((type) => schemas[type].parse(type === 'noSignOfLife' ? { type, learnLimits: false } : { type }) as RuleConfig);
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * Validates a home's rule set item by item. Accepts an array of rules or
 * `{ timezone?, rules }`; `undefined`/`null` means the defaults. Each bad rule
 * is reported (`index`, `id` when readable, a message) and left out.
 *
 * @example
 * parseRuleSet([{ type: 'noSignOfLife', warningAfterMinutes: 120 }, { type: 'teleport' }])
 * // → rules: [noSignOfLife…], errors: [{ index: 1, message: 'unknown rule type "teleport"; …' }]
 */
export function parseRuleSet(input: unknown): ParsedRuleSet {
  if (input === undefined || input === null) return { rules: defaultRules(), errors: [] };
  const errors: RuleError[] = [];
  let items: unknown;
  let timezone: string | undefined;
  if (Array.isArray(input)) {
    items = input;
  } else if (typeof input === 'object') {
    const o = input as Record<string, unknown>;
    if (o.timezone !== undefined) {
      if (typeof o.timezone === 'string' && isValidTimeZone(o.timezone)) timezone = o.timezone;
      else errors.push({ index: -1, message: `timezone: ${JSON.stringify(o.timezone)} is not an IANA time zone such as "Asia/Tokyo"; using the home's default` });
    }
    items = o.rules === undefined ? defaultRules() : o.rules;
  }
  if (!Array.isArray(items)) {
    errors.push({ index: -1, message: 'a rule set is an array of rules, or an object { "timezone": "...", "rules": [...] }' });
    return timezone === undefined ? { rules: [], errors } : { rules: [], errors, timezone };
  }
  const rules: RuleConfig[] = [];
  const seen = new Set<string>();
  items.forEach((item: unknown, index) => {
    const rawId = item !== null && typeof item === 'object' ? (item as Record<string, unknown>).id : undefined;
    const id = typeof rawId === 'string' ? rawId : undefined;
    const fail = (message: string) => errors.push(id === undefined ? { index, message } : { index, id, message });
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return fail('a rule must be an object with a "type"');
    const type = (item as Record<string, unknown>).type;
    if (typeof type !== 'string' || !(type in schemas)) {
      return fail(`unknown rule type ${JSON.stringify(type)}; expected one of ${ruleTypes.join(', ')}`);
    }
    const parsed = schemas[type as RuleType].safeParse(item);
    if (!parsed.success) return fail(describe(parsed.error));
    const rule = parsed.data as RuleConfig;
    if (seen.has(rule.id)) return fail(`duplicate rule id "${rule.id}"; every rule in a home needs its own id`);
    seen.add(rule.id);
    rules.push(rule);
  });
  return timezone === undefined ? { rules, errors } : { rules, errors, timezone };
}
