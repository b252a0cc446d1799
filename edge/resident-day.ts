/**
 * One resident's day, from 04:00 to 04:00 the next morning on the home's
 * clock: first planned as blocks of activity (wake, meals, outings, bath,
 * night toilet visits…), then rendered into what the sensors would report.
 * Planning and rendering are separate so an incident can remove or replace
 * blocks without leaving half an activity behind (a door that opened but
 * never closed, a kettle that never switched off).
 */
import type { DeviceEvent } from '../core/events.js';
import { formatClockTime, parseClockTime } from '../core/time.js';
import { drawMinute, type HomeProfile } from './home-profile.js';
import { dayOfYear, localToEpoch, weekdayOf, type LocalDate } from './local-days.js';
import type { Random } from './random.js';

const MIN = 60_000;

type Room = 'living' | 'kitchen' | 'bedroom' | 'bath';
interface Span { from: number; to: number }

/** A planned activity: the time it occupies and the signals it causes. */
interface Block extends Span {
  label: string;
  motion?: Array<Span & { room: Room }>;
  water?: Array<Span & { rate: number }>;
  gas?: Array<Span & { rate: number }>;
  kettle?: Array<Span & { watts: number }>;
  power?: Array<Span & { watts: number }>;
  door?: Array<{ at: number; open: boolean }>;
  button?: Array<{ at: number; press: 'help' | 'ok' }>;
  /** The bed mat is pressed (lying down) or released (getting up); only homes with `sensors.bedMat` report it. */
  bedMat?: Array<{ at: number; pressed: boolean }>;
  /** Sitting on the chair with the seat mat; only homes with `sensors.seatMat` report it. */
  seatMat?: Span[];
  /** Outings and day-care: nobody is home during the block. */
  away?: boolean;
}

/** An incident that changes this day's routine, already resolved to instants. */
export type DayIncident =
  | { type: 'fall-in-bath'; at: number; end: number }
  | { type: 'no-sign-of-life'; at: number }
  | { type: 'night-wandering'; at: number; end: number }
  | { type: 'help-button'; at: number }
  /** Away from home (hospital, a trip): leaves through the front door at `from`, back at `to`; may span days. */
  | { type: 'absent'; from: number; to: number }
  /** Someone visits (a friend, a helper, a responder): door, movement, the kettle; the resident's own plan is untouched. */
  | { type: 'visitor'; at: number; end: number }
  /** Out through the front door at `leave`, back through it at `back`, then nothing from `collapse` on (after the door closes). */
  | { type: 'collapse-after-arrival'; leave: number; back: number; collapse: number }
  /** A visitor comes at `at` and leaves through the front door just before `end`; nothing from `collapse` on. */
  | { type: 'collapse-after-visitor'; at: number; end: number; collapse: number };

/** The resident's day: local 04:00 on `date` up to local 04:00 the day after. */
export interface DayWindow { date: LocalDate; start: number; end: number }

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A device event before it gets its id and local timestamp. */
export type EventBody = DistributiveOmit<DeviceEvent, 'id' | 'ts'>;
/** What one device reports at one instant. */
export interface RawEvent { at: number; device: string; body: EventBody }

const roomDevice: Record<Room, string> = { living: 'motion-living', kitchen: 'motion-kitchen', bedroom: 'motion-bedroom', bath: 'motion-bath' };

/** The window (04:00 → 04:00) that starts on local `date`. */
export function dayWindow(date: LocalDate, timeZone: string): DayWindow {
  return { date, start: localToEpoch(date, 4 * 60, timeZone), end: localToEpoch(date, 28 * 60, timeZone) };
}

/**
 * Plans and renders one day of `profile`'s resident. `rng` should be forked
 * per home and day so days are independent and reproducible.
 */
export function residentDay(profile: HomeProfile, window: DayWindow, rng: Random, incidents: readonly DayIncident[]): RawEvent[] {
  const blocks = planDay(profile, window, rng, incidents);
  return render(blocks, profile, rng.fork('render'), window);
}

function planDay(profile: HomeProfile, window: DayWindow, rng: Random, incidents: readonly DayIncident[]): Block[] {
  const at = (minuteOfDay: number): number => roundSecond(localToEpoch(window.date, minuteOfDay, profile.timezone));
  const wakeLatest = profile.wakeLatest === undefined ? 8 * 60 + 45 : parseClockTime(profile.wakeLatest);
  let wake = at(drawMinute(rng, seasonal(profile, window.date), 5 * 60, wakeLatest));
  const sleep = at(drawMinute(rng, profile.sleep, 20 * 60, 23 * 60 + 30));
  const blocks: Block[] = [];
  const free = (from: number, to: number): boolean => blocks.every((b) => to + MIN <= b.from || from >= b.to + MIN);
  /** The first start ≥ `preferred` where `minutes` fit, or undefined if none before `latest`. */
  const place = (preferred: number, minutes: number, latest: number): number | undefined => {
    let s = roundSecond(preferred);
    for (;;) {
      const e = s + minutes * MIN;
      if (e > latest) return undefined;
      const clash = blocks.find((b) => !(e + MIN <= b.from || s >= b.to + MIN));
      if (!clash) return s;
      s = clash.to + MIN;
    }
  };

  // Away first: day-care and outings are fixed appointments.
  const weekday = weekdayOf(window.date);
  if (profile.dayCareDays.includes(weekday)) {
    blocks.push(awayBlock('day-care', at(rng.uniform(9 * 60, 9 * 60 + 30)), at(rng.uniform(15 * 60, 16 * 60 + 30))));
  } else {
    const outings = Math.min(2, rng.poisson(Math.max(0, profile.outingsPerWeek + trendOf(profile.outingsTrend, window.date)) / 7));
    for (let i = 0; i < outings; i++) {
      const leave = at(rng.uniform(10 * 60, 16 * 60));
      const back = Math.min(leave + Math.round(rng.uniform(40, 150)) * MIN, at(18 * 60));
      if (free(leave - 10 * MIN, back + 10 * MIN)) blocks.push(awayBlock('outing', leave, back));
    }
  }

  // Leaving for a trip or a hospital stay this morning: she gets up in time to go. Left as
  // drawn, a getting-up within 26 min of leaving was erased with everything else around the
  // departure — and with it the bed mat's night: a late riser leaving at 10:28 lay in bed from
  // 04:00 without a stir, a silence the rules rightly read as a collapse.
  const leaving = incidents.find((i) => i.type === 'absent' && i.from > window.start && i.from < window.end);
  if (leaving?.type === 'absent' && wake + 26 * MIN > leaving.from) wake = Math.max(window.start + MIN, roundSecond(leaving.from - 75 * MIN));

  if (profile.wakeLatest !== undefined) {
    // A late riser still gets up for the day-care bus, and goes out only once up.
    const dayCareLeave = blocks.find((b) => b.label === 'day-care')?.from;
    if (dayCareLeave !== undefined) wake = Math.min(wake, roundSecond(dayCareLeave - 75 * MIN));
    for (let i = blocks.length - 1; i >= 0; i--) if ((blocks[i] as Block).from < wake + 30 * MIN) blocks.splice(i, 1);
  }

  // Getting up: bedroom, then the toilet and a wash.
  blocks.push({
    label: 'wake', from: wake, to: wake + 11 * MIN, bedMat: [{ at: wake, pressed: false }],
    motion: [{ room: 'bedroom', from: wake, to: wake + 4 * MIN }, { room: 'bath', from: wake + 5 * MIN, to: wake + 10 * MIN }],
    water: [flush(wake + 7 * MIN), { from: wake + 8 * MIN, to: wake + 8 * MIN + sec(rng.uniform(50, 120)), rate: 5 }],
  });
  // Going to bed.
  blocks.push({
    label: 'bedtime', from: sleep - 15 * MIN, to: sleep + 2 * MIN, bedMat: [{ at: sleep, pressed: true }],
    motion: [{ room: 'bath', from: sleep - 15 * MIN, to: sleep - 10 * MIN }, { room: 'bedroom', from: sleep - 4 * MIN, to: sleep + 2 * MIN }],
    water: [flush(sleep - 11 * MIN)],
  });
  // Night toilet visits between falling asleep and 03:30 (never the front door).
  const nightEnd = at(27 * 60 + 30);
  const visits = Math.min(4, rng.poisson(Math.max(0, profile.nightToiletVisits + trendOf(profile.nightToiletTrend, window.date))));
  const nightTimes = Array.from({ length: visits }, () => roundSecond(rng.uniform(sleep + 45 * MIN, nightEnd))).sort((a, b) => a - b);
  for (const t of nightTimes) {
    if (t < sleep + 45 * MIN || !free(t, t + 8 * MIN)) continue;
    blocks.push({
      label: 'night-toilet', from: t, to: t + 8 * MIN,
      motion: [{ room: 'bedroom', from: t, to: t + MIN }, { room: 'bath', from: t + 2 * MIN, to: t + 5 * MIN }, { room: 'bedroom', from: t + 6 * MIN, to: t + 7 * MIN }],
      water: [flush(t + 4 * MIN)],
      power: [{ from: t + MIN, to: t + 6 * MIN, watts: 20 }],
      bedMat: [{ at: t, pressed: false }, { at: t + 7 * MIN, pressed: true }],
    });
  }

  const lastCall = sleep - 20 * MIN;
  // Bath: most evenings for evening bathers, every other day otherwise; often taken at day-care instead.
  const dayCare = blocks.some((b) => b.label === 'day-care');
  if (rng.chance(profile.bathEvening ? 0.85 : 0.5) && !(dayCare && rng.chance(0.7))) {
    const s = place(at(drawMinute(rng, profile.bath, 14 * 60, 21 * 60 + 45)), 45, lastCall);
    if (s !== undefined) blocks.push(bathBlock(s, rng));
  }
  // Meals.
  const breakfast = place(wake + (profile.breakfastAfterWakeMinutes + rng.normal(0, 8)) * MIN, 25, wake + 150 * MIN);
  if (breakfast !== undefined) blocks.push(mealBlock('breakfast', breakfast, 25, rng, profile.cooksWithGas * 0.5, rng.chance(profile.kettleUses.breakfast)));
  const lunch = place(at(drawMinute(rng, profile.lunch, 11 * 60, 13 * 60 + 30)), 30, at(14 * 60 + 30));
  if (lunch !== undefined) blocks.push(mealBlock('lunch', lunch, 30, rng, profile.cooksWithGas * 0.6, false));
  const dinner = place(at(drawMinute(rng, profile.dinner, 17 * 60, 19 * 60 + 30)), 40, Math.min(at(20 * 60 + 30), lastCall));
  if (dinner !== undefined) blocks.push(mealBlock('dinner', dinner, 40, rng, profile.cooksWithGas, false));
  // Other kettle uses (afternoon tea…): after coming home if she was out at tea time.
  for (const use of profile.kettleUses.extra) {
    if (!rng.chance(use.probability)) continue;
    const s = place(at(drawMinute(rng, use.at, 6 * 60, 22 * 60)), 8, lastCall);
    if (s === undefined || s < wake) continue;
    const on = s + MIN, off = on + sec(rng.uniform(180, 300));
    blocks.push({ label: 'tea', from: s, to: s + 8 * MIN, motion: [{ room: 'kitchen', from: s, to: s + 6 * MIN }], kettle: [{ from: on, to: off, watts: kettleWatts(rng) }] });
  }
  // Sometimes the resident presses "OK" on the button in the morning (a daily check-in habit).
  if (rng.chance(0.2)) {
    const s = place(wake + rng.uniform(60, 180) * MIN, 3, lastCall);
    if (s !== undefined) blocks.push({ label: 'ok-press', from: s, to: s + 3 * MIN, motion: [{ room: 'living', from: s, to: s + 3 * MIN }], button: [{ at: s + MIN, press: 'ok' }] });
  }
  // A nap and long spells in the chair (extensions: only profiles that have them draw, from their own streams).
  if (profile.nap !== undefined) {
    const nr = rng.fork('nap');
    if (nr.chance(profile.nap.probability)) {
      const minutes = Math.round(nr.uniform(profile.nap.minutes[0], profile.nap.minutes[1]));
      const s = place(at(drawMinute(nr, profile.nap.at, 11 * 60, 19 * 60)), minutes + 4, lastCall);
      if (s !== undefined && s > wake + 60 * MIN) blocks.push(napBlock(s, s + (minutes + 4) * MIN));
    }
  }
  if (profile.sitting !== undefined) {
    const sr = rng.fork('sitting');
    const spells = Math.min(3, sr.poisson(profile.sitting.perDay));
    for (let i = 0; i < spells; i++) {
      const minutes = Math.round(sr.uniform(profile.sitting.minutes[0], profile.sitting.minutes[1]));
      const s = place(roundSecond(sr.uniform(wake + 60 * MIN, Math.max(wake + 60 * MIN, lastCall - minutes * MIN))), minutes, lastCall);
      if (s !== undefined) blocks.push(sitBlock(s, s + minutes * MIN));
    }
  }

  // Daytime toilet visits while at home.
  for (let t = wake + profile.toiletEveryMinutes * MIN; t < lastCall; ) {
    const s = place(t, 5, lastCall);
    if (s === undefined) break;
    blocks.push({ label: 'toilet', from: s, to: s + 5 * MIN, motion: [{ room: 'bath', from: s, to: s + 3 * MIN }], water: [flush(s + 2 * MIN)] });
    t = s + Math.max(60, rng.normal(profile.toiletEveryMinutes, 30)) * MIN;
  }

  // Visitors (an extension: only profiles that have them draw, from their own stream, so older seeds are unchanged).
  if (profile.visitorsPerWeek !== undefined && profile.visitorsPerWeek > 0) {
    const vr = rng.fork('visitors');
    if (vr.chance(Math.min(1, profile.visitorsPerWeek / 7))) {
      const minutes = Math.round(vr.uniform(30, 100));
      const s = place(at(vr.uniform(10 * 60, 16 * 60)), minutes, lastCall);
      if (s !== undefined && s > wake) blocks.push(visitorBlock(s, s + minutes * MIN, vr));
    }
  }

  const awakeEnd = applyIncidents(blocks, incidents, rng, window);
  blocks.push(...homeLife(blocks, wake, Math.min(sleep - 15 * MIN, awakeEnd.at - 6 * MIN), awakeEnd.lightsLeftOn, rng));
  return blocks;
}

/** Rewrites the planned day for the incidents; returns when ordinary waking life ends. */
function applyIncidents(blocks: Block[], incidents: readonly DayIncident[], rng: Random, window: DayWindow): { at: number; lightsLeftOn: boolean } {
  const removeWhere = (pred: (b: Block) => boolean): void => {
    for (let i = blocks.length - 1; i >= 0; i--) if (pred(blocks[i] as Block)) blocks.splice(i, 1);
  };
  const overlaps = (from: number, to: number) => (b: Block) => b.from < to && b.to > from;
  // A block must end early enough for its motion sensors to clear (≤ 5 min) before `t`.
  const endsAfter = (t: number) => (b: Block) => b.to + 6 * MIN > t;
  let awakeEnd = { at: Infinity, lightsLeftOn: false };
  // Absences first, visitors last: a visitor who comes after an incident is not removed by it.
  const order = (i: DayIncident) => (i.type === 'absent' ? 0 : i.type === 'visitor' ? 2 : 1);
  for (const incident of [...incidents].sort((a, b) => order(a) - order(b))) {
    if (incident.type === 'absent') {
      const { from, to } = incident;
      removeWhere(overlaps(from - 15 * MIN, to + 15 * MIN));
      const lo = Math.max(from, window.start), hi = Math.min(to, window.end);
      const b: Block = { label: 'absent', from: lo, to: hi, away: true, motion: [], door: [] };
      if (from >= window.start) { b.motion!.push({ room: 'living', from: from - 3 * MIN, to: from - MIN }); b.door!.push({ at: from, open: true }, { at: from + 30_000, open: false }); b.from = from - 3 * MIN; }
      if (to < window.end) { b.motion!.push({ room: 'living', from: to + MIN, to: to + 6 * MIN }); b.door!.push({ at: to, open: true }, { at: to + 30_000, open: false }); b.to = to + 6 * MIN; }
      blocks.push(b);
      continue;
    }
    if (incident.type === 'visitor') {
      blocks.push(visitorBlock(incident.at, incident.end, rng.fork(`visitor/${incident.at}`)));
      continue;
    }
    if (incident.type === 'collapse-after-arrival') {
      // Out, back through the front door, a few steps (if any time passes), then nothing: the lights stay off.
      const { leave, back, collapse } = incident;
      removeWhere(endsAfter(leave - 3 * MIN));
      blocks.push({
        label: 'collapse-after-arrival', from: leave - 3 * MIN, to: collapse, away: true,
        motion: [{ room: 'living', from: leave - 3 * MIN, to: leave - MIN }, ...(collapse > back + MIN ? [{ room: 'living' as const, from: back + MIN, to: collapse }] : [])],
        door: [{ at: leave, open: true }, { at: leave + 30_000, open: false }, { at: back, open: true }, { at: back + 30_000, open: false }],
      });
      awakeEnd = { at: Math.min(awakeEnd.at, leave - 3 * MIN), lightsLeftOn: false };
      continue;
    }
    const t = incident.at;
    switch (incident.type) {
      case 'help-button':
        removeWhere(overlaps(t - 5 * MIN, t + 10 * MIN));
        blocks.push({ label: 'help', from: t - 2 * MIN, to: t + 5 * MIN, motion: [{ room: 'living', from: t - 2 * MIN, to: t + 5 * MIN }], button: [{ at: t, press: 'help' }] });
        break;
      case 'night-wandering': {
        const back = incident.end;
        removeWhere(overlaps(t - 20 * MIN, back + 20 * MIN));
        blocks.push({
          label: 'night-wandering', from: t - 6 * MIN, to: back + 10 * MIN,
          motion: [{ room: 'bedroom', from: t - 6 * MIN, to: t - 4 * MIN }, { room: 'living', from: t - 3 * MIN, to: t - MIN }, { room: 'living', from: back + 30_000, to: back + 5 * MIN }, { room: 'bedroom', from: back + 8 * MIN, to: back + 10 * MIN }],
          // The door is left open while she is out: it closes only when she comes back.
          door: [{ at: t, open: true }, { at: back, open: false }],
          bedMat: [{ at: t - 6 * MIN, pressed: false }, { at: back + 9 * MIN, pressed: true }],
        });
        break;
      }
      case 'fall-in-bath':
        removeWhere(endsAfter(t));
        blocks.push({
          label: 'fall-in-bath', from: t, to: incident.end,
          // One movement on the way in, then nothing: the water keeps running until a responder turns it off.
          motion: [{ room: 'bath', from: t + MIN, to: t + MIN + sec(rng.uniform(30, 120)) }],
          water: [{ from: t, to: incident.end, rate: 12 }],
        });
        awakeEnd = { at: Math.min(awakeEnd.at, t), lightsLeftOn: true };
        break;
      case 'no-sign-of-life':
        removeWhere(endsAfter(t));
        awakeEnd = { at: Math.min(awakeEnd.at, t), lightsLeftOn: true };
        break;
      case 'collapse-after-visitor': {
        // The visitor leaves through the front door; she moves about until `collapse` (if any time passes), then nothing.
        const { end, collapse } = incident;
        removeWhere(endsAfter(t));
        const b = visitorBlock(t, end, rng.fork(`visitor/${t}`));
        b.label = 'collapse-after-visitor';
        if (collapse > end) b.motion!.push({ room: 'living', from: end, to: collapse });
        b.to = Math.max(end, collapse);
        blocks.push(b);
        awakeEnd = { at: Math.min(awakeEnd.at, t), lightsLeftOn: true };
        break;
      }
      default: {
        const never = incident as never;
        throw new Error(`unhandled incident ${JSON.stringify(never)}`);
      }
    }
  }
  return awakeEnd;
}

/**
 * Living-room presence and lights/TV in the gaps between activities while
 * the resident is home and awake, so a normal day never goes quiet for hours.
 */
function homeLife(blocks: readonly Block[], from: number, to: number, lightsLeftOn: boolean, rng: Random): Block[] {
  if (to <= from) return [];
  const busy = blocks.filter((b) => b.to > from && b.from < to).sort((a, b) => a.from - b.from);
  const gaps: Span[] = [];
  let cursor = from;
  for (const b of busy) {
    if (b.from > cursor) gaps.push({ from: cursor, to: b.from });
    cursor = Math.max(cursor, b.to);
  }
  if (cursor < to) gaps.push({ from: cursor, to });
  const out: Block[] = [];
  const tv = Math.round(rng.uniform(60, 150));
  const load: Array<Span & { watts: number }> = [];
  let homeFrom = from;
  for (const b of busy.filter((x) => x.away)) {
    if (b.from > homeFrom) load.push({ from: homeFrom, to: b.from, watts: tv });
    homeFrom = Math.max(homeFrom, b.to);
  }
  if (homeFrom < to) load.push({ from: homeFrom, to: lightsLeftOn ? Infinity : to, watts: tv });
  else if (lightsLeftOn && load.length > 0) (load[load.length - 1] as Span).to = Infinity;
  out.push({ label: 'lights', from, to: from, power: load });
  for (const gap of gaps) {
    let t = gap.from + MIN;
    while (t + 5 * MIN < gap.to - MIN) {
      const end = Math.min(t + sec(rng.uniform(8, 45) * 60), gap.to - MIN);
      out.push({ label: 'living', from: t, to: end, motion: [{ room: 'living', from: t, to: end }] });
      t = end + sec(rng.uniform(4, 35) * 60);
    }
  }
  return out;
}

/** A nap on the bed: into the bedroom, the bed mat pressed, still; up again and out of the bedroom. */
function napBlock(from: number, to: number): Block {
  return {
    label: 'nap', from, to,
    motion: [{ room: 'bedroom', from, to: from + 2 * MIN }, { room: 'bedroom', from: to - 2 * MIN, to }],
    bedMat: [{ at: from + 2 * MIN, pressed: true }, { at: to - 2 * MIN, pressed: false }],
  };
}

/**
 * Sitting still in the chair (TV, reading): the living-room sensor sees her
 * sit down and get up, nothing in between — an event-only PIR reports only
 * movement, and a seated person hardly moves.
 */
function sitBlock(from: number, to: number): Block {
  return {
    label: 'sitting', from, to,
    motion: [{ room: 'living', from, to: from + MIN }, { room: 'living', from: to - MIN, to }],
    seatMat: [{ from: from + MIN, to: to - MIN }],
  };
}

/** Someone comes in through the front door, sits in the living room, makes tea, and leaves. */
function visitorBlock(from: number, to: number, rng: Random): Block {
  const tea = from + 6 * MIN;
  return {
    label: 'visitor', from, to,
    motion: [{ room: 'living', from: from + MIN, to: to - 2 * MIN }, { room: 'kitchen', from: from + 5 * MIN, to: from + 12 * MIN }],
    kettle: [{ from: tea, to: tea + sec(rng.uniform(180, 300)), watts: kettleWatts(rng) }],
    door: [{ at: from, open: true }, { at: from + 30_000, open: false }, { at: to - MIN, open: true }, { at: to - MIN + 30_000, open: false }],
  };
}

/** The profile's wake time shifted for the season: later in winter, earlier in summer. */
function seasonal(profile: HomeProfile, date: LocalDate): HomeProfile['wake'] {
  if (profile.seasonalWakeMinutes === undefined || profile.seasonalWakeMinutes === 0) return profile.wake;
  const winter = Math.cos((2 * Math.PI * (dayOfYear(date) - 15)) / 365);
  const minute = parseClockTime(profile.wake.mean) + Math.round(profile.seasonalWakeMinutes * winter);
  return { mean: formatClockTime(minute), sdMinutes: profile.wake.sdMinutes };
}

/** How much a weekly trend has added by `date` (0 before it starts). */
function trendOf(trend: { from: string; perWeek: number } | undefined, date: LocalDate): number {
  if (trend === undefined) return 0;
  const [y, m, d] = trend.from.split('-').map(Number) as [number, number, number];
  const weeks = (Date.UTC(date.year, date.month - 1, date.day) - Date.UTC(y, m - 1, d)) / (7 * 86_400_000);
  return weeks > 0 ? weeks * trend.perWeek : 0;
}

function awayBlock(label: 'day-care' | 'outing', leave: number, back: number): Block {
  return {
    label, from: leave - 3 * MIN, to: back + 6 * MIN, away: true,
    motion: [{ room: 'living', from: leave - 3 * MIN, to: leave - MIN }, { room: 'living', from: back + MIN, to: back + 6 * MIN }],
    door: [{ at: leave, open: true }, { at: leave + 30_000, open: false }, { at: back, open: true }, { at: back + 30_000, open: false }],
  };
}

function mealBlock(label: string, s: number, minutes: number, rng: Random, gasProbability: number, kettle: boolean): Block {
  const end = s + minutes * MIN;
  const b: Block = {
    label, from: s, to: end,
    motion: [{ room: 'kitchen', from: s, to: end - 2 * MIN }],
    water: [{ from: end - 6 * MIN, to: end - 6 * MIN + sec(rng.uniform(90, 240)), rate: 6 }],
    power: [{ from: s + 3 * MIN, to: s + 3 * MIN + sec(rng.uniform(120, 300)), watts: Math.round(rng.uniform(600, 900)) }],
  };
  if (kettle) {
    const on = s + 2 * MIN;
    b.kettle = [{ from: on, to: on + sec(rng.uniform(180, 300)), watts: kettleWatts(rng) }];
  }
  if (rng.chance(gasProbability)) {
    const on = s + 5 * MIN;
    b.gas = [{ from: on, to: Math.min(on + sec(rng.uniform(5, 20) * 60), end - 7 * MIN), rate: 0.3 }];
  }
  return b;
}

function bathBlock(s: number, rng: Random): Block {
  const fill = s + MIN, filled = fill + sec(rng.uniform(10, 15) * 60);
  const shower = s + 20 * MIN;
  return {
    label: 'bath', from: s, to: s + 45 * MIN,
    motion: [{ room: 'bath', from: s, to: s + 40 * MIN }],
    water: [{ from: fill, to: filled, rate: 12 }, { from: shower, to: shower + sec(rng.uniform(3, 6) * 60), rate: 8 }],
    // A gas water heater runs while hot water flows.
    gas: [{ from: fill, to: filled, rate: 0.5 }],
  };
}

function flush(at: number): Span & { rate: number } {
  return { from: at, to: at + 40_000, rate: 10 };
}

function kettleWatts(rng: Random): number {
  return Math.round(rng.uniform(1200, 1300));
}

function sec(seconds: number): number {
  return Math.round(seconds) * 1000;
}

function roundSecond(at: number): number {
  return Math.round(at / 1000) * 1000;
}

/** Turns planned blocks into sensor reports. */
function render(blocks: readonly Block[], profile: HomeProfile, rng: Random, window: DayWindow): RawEvent[] {
  const out: RawEvent[] = [];
  type Signal = 'motion' | 'water' | 'gas' | 'kettle' | 'power' | 'door' | 'button' | 'bedMat' | 'seatMat';
  const all = <K extends Signal>(key: K): Array<NonNullable<Block[K]>[number]> =>
    blocks.flatMap((b) => (b[key] ?? []) as Array<NonNullable<Block[K]>[number]>);

  // Motion: a PIR sensor reports occupied on movement and clears a few
  // minutes after the last movement, so nearby spans in a room merge.
  for (const room of ['living', 'kitchen', 'bedroom', 'bath'] as const) {
    const spans = all('motion').filter((m) => m.room === room).sort((a, b) => a.from - b.from);
    let cur: Span | undefined;
    let hold = 0;
    const emit = (s: Span, h: number) => {
      out.push({ at: s.from, device: roomDevice[room], body: { kind: 'motion', occupied: true, room } });
      out.push({ at: s.to + h, device: roomDevice[room], body: { kind: 'motion', occupied: false, room } });
    };
    for (const s of spans) {
      if (cur && s.from <= cur.to + hold) { cur.to = Math.max(cur.to, s.to); continue; }
      if (cur) emit(cur, hold);
      cur = { from: s.from, to: s.to };
      hold = sec(rng.uniform(120, 300));
    }
    if (cur) emit(cur, hold);
  }
  for (const [device, kind] of [['water-meter', 'water'], ['gas-meter', 'gas']] as const) {
    let spans = mergeSpans(all(kind));
    const latch = profile.sensors?.latchedWater;
    if (kind === 'water' && latch !== undefined) spans = latchOne(spans, latch, window, rng.fork('latch'));
    for (const s of spans) {
      out.push({ at: s.from, device, body: { kind, flowing: true, rate: s.rate } });
      if (Number.isFinite(s.to)) out.push({ at: s.to, device, body: { kind, flowing: false } });
    }
  }
  for (const k of all('kettle')) {
    out.push({ at: k.from, device: 'kettle', body: { kind: 'kettle', state: 'on', watts: k.watts } });
    out.push({ at: k.to, device: 'kettle', body: { kind: 'kettle', state: 'off', watts: 0 } });
  }
  // The whole-house meter reports when consumption changes (the kettle included).
  const loads = [...all('power'), ...all('kettle')];
  const changes = [...new Set(loads.flatMap((l) => [l.from, l.to]).filter(Number.isFinite))].sort((a, b) => a - b);
  let last = -1;
  for (const t of changes) {
    const watts = profile.baseLoadWatts + loads.reduce((sum, l) => (l.from <= t && t < l.to ? sum + l.watts : sum), 0);
    if (watts !== last) out.push({ at: t, device: 'power-meter', body: { kind: 'power', watts } });
    last = watts;
  }
  for (const d of all('door')) out.push({ at: d.at, device: 'front-door', body: { kind: 'door', open: d.open, door: 'front' } });
  for (const p of all('button')) out.push({ at: p.at, device: 'help-button', body: { kind: 'button', press: p.press } });
  const mats = profile.sensors;
  if (mats?.bedMat) out.push(...bedMatEvents(all('bedMat'), mats.bedMat.chatterPerHour, window, rng.fork('bed-mat')));
  if (mats?.seatMat) out.push(...seatMatEvents(all('seatMat'), mats.seatMat.chatterPerHour, rng.fork('seat-mat')));
  for (const e of out) e.at = roundSecond(e.at);
  return out;
}

/**
 * A reed that sticks: with chance `perDay`, one of the day's water uses
 * keeps reading "on" for `hours` (released at the latest a minute before the
 * day ends); uses while it is stuck are not seen.
 */
function latchOne<T extends Span>(spans: T[], latch: { perDay: number; hours: [number, number] }, window: DayWindow, rng: Random): T[] {
  if (spans.length === 0 || !rng.chance(latch.perDay)) return spans;
  const stuck = { ...rng.pick(spans) };
  stuck.to = Math.min(window.end - MIN, roundSecond(stuck.to + rng.uniform(latch.hours[0], latch.hours[1]) * 60 * MIN));
  if (stuck.to <= stuck.from) return spans;
  return [...spans.filter((s) => s.to <= stuck.from || s.from > stuck.to), stuck].sort((a, b) => a.from - b.from);
}

/** Brief release/press flickers of a pressed mat inside [from, to): a mat under a restless body. */
function chatter(device: string, room: 'bedroom' | 'living', from: number, to: number, perHour: number, rng: Random): RawEvent[] {
  const out: RawEvent[] = [];
  if (perHour <= 0 || to - from < 4 * MIN) return out;
  const n = rng.poisson((perHour * (to - from)) / (60 * MIN));
  const times = Array.from({ length: n }, () => roundSecond(rng.uniform(from + MIN, to - 2 * MIN))).sort((a, b) => a - b);
  let last = -Infinity;
  for (const t of times) {
    if (t <= last + 30_000) continue;
    const back = t + sec(rng.uniform(2, 20));
    out.push({ at: t, device, body: { kind: 'motion', occupied: false, room } }, { at: back, device, body: { kind: 'motion', occupied: true, room } });
    last = back;
  }
  return out;
}

/**
 * The bed mat: pressed at bedtime, released on getting up (and for each
 * night toilet visit), flickering while pressed. She is in bed at 04:00
 * when the day's first change is getting up.
 */
function bedMatEvents(changes: Array<{ at: number; pressed: boolean }>, perHour: number, window: DayWindow, rng: Random): RawEvent[] {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const out: RawEvent[] = sorted.map((c) => ({ at: c.at, device: 'bed-mat', body: { kind: 'motion', occupied: c.pressed, room: 'bedroom' } }));
  // No change all day (away): the mat's state is unknown, so it does not flicker.
  let pressedFrom: number | undefined = sorted.length === 0 || sorted[0]!.pressed ? undefined : window.start;
  for (const c of [...sorted, { at: window.end, pressed: false }]) {
    if (!c.pressed && pressedFrom !== undefined) { out.push(...chatter('bed-mat', 'bedroom', pressedFrom, c.at, perHour, rng)); pressedFrom = undefined; }
    else if (c.pressed) pressedFrom = c.at;
  }
  return out;
}

/** The seat mat: pressed for each spell in the chair, flickering while pressed. */
function seatMatEvents(spans: Span[], perHour: number, rng: Random): RawEvent[] {
  return spans.flatMap((s) => [
    { at: s.from, device: 'seat-mat', body: { kind: 'motion', occupied: true, room: 'living' } } as RawEvent,
    ...chatter('seat-mat', 'living', s.from, s.to, perHour, rng),
    { at: s.to, device: 'seat-mat', body: { kind: 'motion', occupied: false, room: 'living' } } as RawEvent,
  ]);
}

function mergeSpans<T extends Span>(spans: T[]): T[] {
  const sorted = spans.map((s) => ({ ...s })).sort((a, b) => a.from - b.from);
  const out: T[] = [];
  for (const s of sorted) {
    const prev = out[out.length - 1];
    if (prev && s.from <= prev.to) prev.to = Math.max(prev.to, s.to);
    else out.push(s);
  }
  return out;
}
