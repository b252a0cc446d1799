/**
 * The rule engine: readings in, findings out. Each reading updates its home's
 * compact state and runs that home's rules (pure functions of state and
 * reading) in O(1); time-based conditions wait in one min-heap of per-home
 * deadlines behind a single scheduler timer, so a motion event never touches
 * a timer. Findings leave through one Subject; sinks (history, notifier)
 * subscribe at the end.
 *
 * Timer design: each home has `wakeAt`, its earliest pending deadline in the
 * heap. Events that only push a deadline later (every sign of life, every
 * heartbeat) change a field and nothing else; the home's old heap entry fires
 * early, the engine finds nothing due and files the home's true next deadline
 * (lazy invalidation). Events that may pull a deadline earlier (a new device,
 * water starting to flow, a night door opening, a cleared finding) push a new
 * entry; a superseded entry is recognised on pop because its time no longer
 * equals the home's `wakeAt`, and dropped.
 *
 * Event time: a reading stamped later than the clock is taken as happening
 * now, so nothing (last seen, last sign of life) moves past the hub's own
 * clock. A home whose data is behind (watermark.ts) has its timers held: no
 * time-based rule decides about data that has not arrived; the operator gets
 * one `data-late` finding instead.
 */
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { scheduleAt, scheduleEvery } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import type { Reading } from '../core/events.js';
import type { Finding } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import type { HomeStatePart, RuleStateStore } from '../core/store.js';
import { Applied, applyReading, createHomeState, NONE, restoreHomeState, type HomeRules, type HomeState } from './home-state.js';
import { createHomeStateCodec, homePart, keysPart, readSavedHomeStates, routinePart, type HomeKeys } from './home-state-codec.js';
import { isValidTimeZone, parseRuleSet, type FixedRuleType, type RuleConfig, type RuleError, type RuleType } from './rule-config.js';
import { createRoutineBook, Observed, observeRules, type RoutineHome } from './baseline-book.js';
import { rebuildBaseline, routineReport, type RoutineReport } from './baseline-report.js';
import type { BaselineSettings } from './baseline.js';
import { parseContext } from './context.js';
import { routineDefinitions } from './rules/routine-definitions.js';
import { batteryLow } from './rules/battery-low.js';
import { deviceSilent } from './rules/device-silent.js';
import { flowWithoutMotion } from './rules/flow-without-motion.js';
import { helpButton } from './rules/help-button.js';
import { nightDoor } from './rules/night-door.js';
import { noSignOfLife } from './rules/no-sign-of-life.js';
import { finding, ZoneClock, type RuleContext, type RuleDefinition } from './rules/rule.js';
import { markEnteredAbsence } from './rules/routine-marks.js';
import { defaultWatermarkSettings, inDoubt, noteArrival, noteGap, notePeriodic, updateLateness, watermarkDeadline, watermarkProblem, type WatermarkSettings } from './watermark.js';

export interface RuleEngineOptions {
  /** Production: `systemClock`; tests and replay: a `VirtualClock`. Every timer uses it. */
  clock: SchedulerLike;
  logger: Logger;
  /** Where per-home state is persisted and restored from. */
  store?: RuleStateStore;
  /**
   * A cluster node's id: saves are fenced (`saveHomeStateParts`' `fencedFor`),
   * so a node that lost a home never overwrites the state its new owner
   * loaded; a refused home is not saved again by this node.
   */
  fencedFor?: string;
  /** A home's rule set (array or `{ timezone, rules }`); `undefined` means the defaults. */
  rulesFor?: (home: string) => Promise<unknown> | unknown;
  /** A home's IANA time zone when its rule set does not name one (default Asia/Tokyo). */
  timezoneFor?: (home: string) => string;
  /**
   * How often (clock time) home state a restart must not lose is saved: a
   * finding raised or cleared, a mark, a flow starting or stopping, a new
   * device, rules, away, context. Default 60 s.
   */
  persistEveryMs?: number;
  /**
   * How often every changed home is saved, including plain progress (last
   * seen, last sign of life, learned-routine tallies). Default 30 min;
   * rounded to a whole number of `persistEveryMs`, at least one. Going out
   * or coming back is saved once it has held `outSettleMs`, whichever is
   * sooner (docs/rules.md, "Persistence").
   */
  persistProgressEveryMs?: number;
  /** Learned routines: learning length and windows (docs/routines.md). */
  routineSettings?: Partial<BaselineSettings>;
  /**
   * Recorded readings of a home (e.g. from InfluxDB history), used to rebuild
   * its learned routine when no saved one exists. Called once per such home.
   */
  routineHistory?: (home: string) => Iterable<Reading> | AsyncIterable<Reading> | Promise<Iterable<Reading> | AsyncIterable<Reading> | undefined> | undefined;
  /**
   * When a home's data counts as behind, so its time-based rules wait
   * (docs/rules.md, "Watermark"). `false` turns the watermark off: for
   * replaying a recording, where time moves only with the data and the data
   * is complete by construction.
   */
  watermark?: Partial<WatermarkSettings> | false;
  /**
   * Restore every home's saved state at start (default true). A cluster node
   * starts with none and takes homes one by one with `loadHome` as it gains
   * their leases (docs/scale.md).
   */
  restoreAll?: boolean;
}

export interface RuleEngine {
  /** Feeds one validated reading (synchronous, the hot path). */
  ingest(reading: Reading): void;
  /** Ingests every reading of `readings` until it completes or the engine closes. */
  connect(readings: Observable<Reading>): Subscription;
  /** Every raised / cleared finding, in decision order. */
  findings: Observable<Finding>;
  /** Replaces a home's rule set; bad rules are reported and skipped, the rest apply at once. */
  setRules(home: string, input: unknown): { errors: RuleError[] };
  /** Marks the resident away (e.g. at day-care) until `until`, or back home now with `null`. */
  setAway(home: string, until: number | null): void;
  /** Epoch ms of the home's last sign of life (not heartbeats), if any. */
  lastSignOfLife(home: string): number | undefined;
  /**
   * While an absence entered for the home lasts (`setAway`: the tablet's 「出かけます」, day-care;
   * a context period), its end; undefined when none is, or she came home early (epoch ms).
   */
  awayUntil(home: string): number | undefined;
  /** The home's watermark (newest reading time) and, while its data is behind, since when. */
  watermarkOf(home: string): { newestAt?: number; lateSince?: number };
  /**
   * The alert a rule's finding opened has ended (a person resolved it, or it
   * resolved itself): the rule forgets its raised state if a new occurrence
   * is a new emergency (help button, night door), without a cleared finding.
   * Returns whether anything was re-armed.
   */
  alertEnded(home: string, rule: string): boolean;
  /**
   * Sets a home's context: known away periods (day-care, hospital, trip; RFC
   * 3339 times) and day-care weekdays. Replaces the previous context.
   */
  setContext(home: string, input: unknown): { errors: string[] };
  /** What the engine has learned about a home's routine, with learning progress and explanations. */
  routineOf(home: string): RoutineReport;
  /** Rebuilds a home's learned routine from recorded readings (e.g. InfluxDB history); returns the days learned. */
  rebuildRoutine(home: string, readings: Iterable<Reading> | AsyncIterable<Reading>): Promise<number>;
  /** Saves changed home state now. */
  flushState(): Promise<void>;
  /**
   * Takes a home on (a cluster node gained its lease): its saved state, if
   * any, replaces what this engine holds of it, and its deadlines are armed —
   * with `held`, only at `resumeHome`: readings apply meanwhile, nothing is
   * decided on the clock. A cluster node holds a home until it has run the
   * readings that waited in the inbox while no node ran it: a deadline that
   * fell in that time must be judged with them, not before them.
   */
  loadHome(home: string, opts?: { held?: boolean }): Promise<void>;
  /** Arms a held home's deadlines (`loadHome(…, { held: true })`): those already due are decided now. */
  resumeHome(home: string): void;
  /**
   * Lets a home go (a cluster node lost its lease): saves its state now and
   * forgets it — no more deadlines, nothing held. Resolves false when the
   * save failed (the state since the last save is then lost to the next owner).
   */
  releaseHome(home: string): Promise<boolean>;
  /** Stops timers, saves state and completes `findings`. */
  close(): Promise<void>;
}

const definitions: { [K in FixedRuleType]: RuleDefinition<Extract<RuleConfig, { type: K }>> } = {
  noSignOfLife, nightDoor, flowWithoutMotion, helpButton, deviceSilent, batteryLow,
};

const defaultTimezone = 'Asia/Tokyo';
/** A deadline that turns out not to be due is retried no sooner than this, so a rule bug cannot spin. */
const minimumRetryMs = 1000;
/**
 * Going out or coming back that has held this long is saved at the next save
 * (every `persistEveryMs`) instead of waiting for the progress save: a crash
 * loses at most this much of it. A door closed and movement minutes later
 * (a passage, the bin taken out) is not worth a save of its own.
 */
const outSettleMs = 10 * 60_000;

/** Min-heap of (time, home) in parallel arrays. */
class DeadlineHeap {
  private times: number[] = [];
  private homes: HomeState[] = [];
  get size(): number { return this.times.length; }
  peekTime(): number { return this.times[0] ?? Infinity; }
  push(t: number, h: HomeState): void {
    const times = this.times, homes = this.homes;
    let i = times.length;
    times.push(t); homes.push(h);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (times[p]! <= t) break;
      times[i] = times[p]!; homes[i] = homes[p]!;
      i = p;
    }
    times[i] = t; homes[i] = h;
  }
  pop(): HomeState | undefined {
    const times = this.times, homes = this.homes;
    const top = homes[0];
    const lastT = times.pop(), lastH = homes.pop();
    const n = times.length;
    if (n === 0 || lastT === undefined || lastH === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && times[r]! < times[l]! ? r : l;
      if (times[c]! >= lastT) break;
      times[i] = times[c]!; homes[i] = homes[c]!;
      i = c;
    }
    times[i] = lastT; homes[i] = lastH;
    return top;
  }
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Creates the rule engine; restores persisted home state from `store` first,
 * so a restart mid-window still raises on time and never raises twice.
 *
 * @example
 * const engine = await createRuleEngine({ clock: systemClock, logger, store });
 * engine.findings.subscribe((f) => notifier.handle(f));
 * engine.connect(readings$);
 */
export async function createRuleEngine(opts: RuleEngineOptions): Promise<RuleEngine> {
  const { clock, logger, store } = opts;
  if (!clock || typeof clock.now !== 'function' || typeof clock.schedule !== 'function') throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'rule engine: clock must be an RxJS SchedulerLike');
  if (!logger || typeof logger.warn !== 'function') throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'rule engine: logger is required');
  const persistEveryMs = opts.persistEveryMs ?? 60_000;
  if (!Number.isFinite(persistEveryMs) || persistEveryMs < 1) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'rule engine: persistEveryMs must be a positive number');
  const persistProgressEveryMs = opts.persistProgressEveryMs ?? 30 * 60_000;
  if (!Number.isFinite(persistProgressEveryMs) || persistProgressEveryMs < 1) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'rule engine: persistProgressEveryMs must be a positive number');
  /** Every this many saves, progress is saved too. */
  const progressEvery = Math.max(1, Math.round(persistProgressEveryMs / persistEveryMs));
  let watermark: WatermarkSettings | undefined;
  if (opts.watermark !== false) {
    watermark = { ...defaultWatermarkSettings };
    for (const [k, v] of Object.entries(opts.watermark ?? {}) as Array<[keyof WatermarkSettings, number | undefined]>) if (v !== undefined) watermark[k] = v;
    const problem = watermarkProblem(watermark);
    if (problem) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `rule engine: ${problem}`);
  }

  const homes = new Map<string, HomeState>();
  /** Homes taken on whose deadlines wait for `resumeHome` (`loadHome`'s `held`). */
  const held = new Set<string>();
  const subject = new Subject<Finding>();
  const heap = new DeadlineHeap();
  const ctx: RuleContext = { now: 0, sign: false, out: [] };
  /** Compiled rule sets shared by homes with the same input and zone (most homes run the defaults). */
  const compiled = new Map<string, HomeRules>();
  const connections: Subscription[] = [];
  /** Learned routines and away context, per home; the learned rules read it. */
  const book = createRoutineBook(opts.routineSettings);
  const codec = createHomeStateCodec();
  /** Homes restored from an old whole-state row (home_states) not yet saved in parts. */
  const wholeRows = new Set<string>();
  /** Homes whose last save was refused by their fence (another node holds them now). */
  const refusedSaves = new Set<string>();
  const allDefinitions: { [K in RuleType]: RuleDefinition<Extract<RuleConfig, { type: K }>> } = { ...definitions, ...routineDefinitions(book) };
  let timerAt = Infinity;
  let cancelTimer: (() => void) | undefined;
  let stopPersisting: (() => void) | undefined;
  let closed = false;

  function timezoneOf(home: string, fromRules: string | undefined): string {
    if (fromRules !== undefined) return fromRules;
    const tz = opts.timezoneFor?.(home);
    if (tz === undefined) return defaultTimezone;
    if (isValidTimeZone(tz)) return tz;
    logger.warn({ home, timezone: tz }, 'unknown time zone for home; using Asia/Tokyo');
    return defaultTimezone;
  }

  function compile(home: string, input: unknown): { rules: HomeRules; errors: RuleError[] } {
    const parsed = parseRuleSet(input);
    const timezone = timezoneOf(home, parsed.timezone);
    if (parsed.errors.length) logger.warn({ home, errors: parsed.errors }, 'invalid rules skipped');
    const key = `${timezone}\0${input === undefined ? '' : JSON.stringify(input)}`;
    let rules = compiled.get(key);
    if (!rules) {
      const enabled = parsed.rules.filter((r) => r.enabled);
      const nsl = enabled.find((r) => r.type === 'noSignOfLife');
      rules = {
        timezone, zone: new ZoneClock(timezone), rules: enabled,
        defs: enabled.map((r) => allDefinitions[r.type] as RuleDefinition),
        powerChangeWatts: nsl?.type === 'noSignOfLife' ? nsl.powerChangeWatts : 30,
      };
      compiled.set(key, rules);
    }
    return { rules, errors: parsed.errors };
  }

  function emit(): void {
    if (ctx.out.length === 0) return;
    const batch = ctx.out.splice(0);
    for (const f of batch) {
      // A raised or cleared finding is edge-trigger memory: saved at the next save.
      const h = homes.get(f.home);
      if (h !== undefined) h.urgent = true;
      // A day with a critical finding is not a day to learn "normal" from.
      if (f.state === 'raised' && f.severity === 'critical') book.flag(f.home);
    }
    for (const f of batch) subject.next(f);
  }

  function arm(): void {
    const top = heap.peekTime();
    if (top >= timerAt || closed) return;
    cancelTimer?.();
    timerAt = top;
    cancelTimer = scheduleAt(clock, top, onTimer);
  }

  /** Files the home's next deadline if it is earlier than what the heap already holds for it. */
  function schedule(h: HomeState, afterTick = false): void {
    if (held.size > 0 && held.has(h.id)) return;
    const now = clock.now();
    const rs = h.rules;
    let due = watermark ? watermarkDeadline(h, watermark) : Infinity;
    // While the home's data is behind, its rules' deadlines wait for it to catch up.
    // In doubt (its regular messages overdue, not yet behind), they wait for the next reading
    // (`ingest` plans again) or for the watermark's deadline, which `due` holds.
    if (h.lateSince === NONE && !(watermark && inDoubt(h, now, watermark))) for (let i = 0; i < rs.rules.length; i++) due = Math.min(due, rs.defs[i]!.nextDeadline(rs.rules[i]!, h, now));
    if (afterTick && due <= now) due = now + minimumRetryMs;
    if (due >= h.wakeAt) return;
    h.wakeAt = due;
    heap.push(due, h);
    arm();
  }

  function tick(h: HomeState, now: number): void {
    ctx.now = now;
    ctx.sign = false;
    // Behind: "nothing happened by now" cannot be decided about data that has not arrived.
    if (watermark && updateLateness(h, now, watermark, ctx.out)) { emit(); return; }
    // In doubt (its regular messages overdue, not yet behind): nothing is decided on the clock alone.
    if (watermark && inDoubt(h, now, watermark)) { emit(); return; }
    const rs = h.rules;
    try {
      for (let i = 0; i < rs.rules.length; i++) rs.defs[i]!.onTick(rs.rules[i]!, h, ctx);
    } catch (err) {
      logger.error({ err, home: h.id }, 'rule failed on timer');
    }
    emit();
  }

  function onTimer(): void {
    timerAt = Infinity;
    cancelTimer = undefined;
    const now = clock.now();
    while (heap.size > 0 && heap.peekTime() <= now) {
      const t = heap.peekTime();
      const h = heap.pop()!;
      if (t !== h.wakeAt) continue; // superseded by an earlier entry
      h.wakeAt = Infinity;
      tick(h, now);
      schedule(h, true);
    }
    arm();
  }

  function applyRules(h: HomeState, input: unknown): RuleError[] {
    const before = h.rules;
    const { rules, errors } = compile(h.id, input);
    h.rules = rules;
    h.dirty = true;
    h.urgent = true;
    // Findings of rules that are gone or disabled are cleared, so nothing stays open forever.
    if (h.active !== undefined) {
      const now = clock.now();
      for (const [key, was] of [...h.active]) {
        const id = key.split('/')[0]!;
        if (rules.rules.some((r) => r.id === id)) continue;
        const old = before.rules.find((r) => r.id === id);
        h.active.delete(key);
        if (old) {
          const text = { en: `Rule ${id} was removed or disabled`, ja: `ルール ${id} が削除または無効化されました` };
          ctx.out.push(finding(h, old, now, 'cleared', was, old.type === 'deviceSilent' || old.type === 'batteryLow' ? 'operator' : 'family',
            { message: text, expected: text, observed: text }));
        }
      }
      if (h.active.size === 0) h.active = undefined;
      emit();
    }
    h.wakeAt = Infinity;
    schedule(h);
    return errors;
  }

  async function rebuildFromHistory(id: string): Promise<void> {
    try {
      const history = await opts.routineHistory?.(id);
      if (history === undefined || closed) return;
      const days = await engine.rebuildRoutine(id, history);
      logger.info({ home: id, days }, 'learned routine rebuilt from history');
    } catch (err) {
      logger.warn({ err, home: id }, 'could not rebuild learned routine from history; learning afresh');
    }
  }

  function addHome(id: string, at: number): HomeState {
    let input: unknown;
    try {
      input = opts.rulesFor?.(id);
    } catch (err) {
      logger.warn({ err, home: id }, 'could not read rules for home; using defaults');
    }
    const pending = isPromiseLike(input);
    const h = createHomeState(id, compile(id, pending ? undefined : input).rules, at);
    homes.set(id, h);
    if (opts.routineHistory && !book.has(id)) void rebuildFromHistory(id);
    if (pending) {
      (input as PromiseLike<unknown>).then(
        (v) => { if (!closed) applyRules(h, v); },
        (err: unknown) => logger.warn({ err, home: id }, 'could not read rules for home; using defaults'),
      );
    }
    return h;
  }

  /**
   * Saves homes with urgent changes, or with `progress` every changed home:
   * one `home` part per such home, its `keys` part unless a committed save
   * wrote the same device ids and mark keys (and none since is under way:
   * the codec's `keysFor`), its `routine` part only when the learned routine
   * changed (a day committed), all homes in one transaction. The store
   * commits saves in the order they are made.
   */
  async function persist(progress = true): Promise<void> {
    if (!store) return;
    const saving: HomeState[] = [];
    const names: HomeKeys[] = [];
    const parts: HomeStatePart[] = [];
    const learned: RoutineHome[] = [];
    const dropWhole: string[] = [];
    const settled = clock.now() - outSettleMs;
    for (const h of homes.values()) {
      if (!(h.urgent || (h.dirty && (progress || (h.outUnsaved && h.outChangedAt <= settled))))) continue;
      h.dirty = false; h.urgent = false; h.outUnsaved = false;
      saving.push(h);
      const rh = book.find(h.id);
      const e = codec.encodeHome(h, rh);
      names.push(e.names);
      parts.push({ homeId: h.id, part: homePart, data: e.home });
      const keys = codec.keysFor(h, e.names);
      if (keys !== undefined) parts.push({ homeId: h.id, part: keysPart, data: keys });
      if (rh?.learnedDirty) {
        rh.learnedDirty = false;
        learned.push(rh);
        parts.push({ homeId: h.id, part: routinePart, data: codec.encodeRoutine(rh) });
      }
      if (wholeRows.has(h.id)) dropWhole.push(h.id);
    }
    if (saving.length === 0) return;
    try {
      const refused = await store.saveHomeStateParts(parts, clock.now(), dropWhole, opts.fencedFor);
      for (let i = 0; i < saving.length; i++) {
        const h = saving[i]!;
        if (refused.includes(h.id)) codec.forget(h); else codec.saved(h, names[i]!);
      }
      for (const id of dropWhole) if (!refused.includes(id)) wholeRows.delete(id);
      for (const id of refused) refusedSaves.add(id);
      if (refused.length > 0) logger.warn({ homes: refused }, 'rule state not saved: another node holds these homes now (their new owner keeps its own)');
    } catch (err) {
      for (const h of saving) { h.dirty = true; h.urgent = true; h.outUnsaved = true; codec.forget(h); }
      for (const rh of learned) rh.learnedDirty = true;
      logger.error({ err, homes: saving.length }, 'could not save rule state; will retry');
    }
  }

  /** Restores one home's saved state (deadlines are recomputed from persisted times, active findings remembered). */
  async function restoreHome(id: string, state: unknown, whole: boolean): Promise<HomeState | undefined> {
    if (typeof state === 'string') { logger.warn({ home: id, problem: state }, 'unreadable saved rule state ignored'); return undefined; }
    const rules = compile(id, await opts.rulesFor?.(id)).rules;
    const restored = restoreHomeState(id, rules, state, clock.now());
    if (typeof restored === 'string') logger.warn({ home: id, problem: restored }, 'unreadable saved rule state ignored');
    else {
      homes.set(id, restored.home);
      if (restored.repaired.length > 0) logger.warn({ home: id, fields: restored.repaired }, 'saved rule state had times later than the clock; pulled back to now');
    }
    const routine = (state as { routine?: unknown } | null)?.routine;
    if (routine !== undefined) {
      const problem = book.restore(id, routine);
      if (problem !== undefined) logger.warn({ home: id, problem }, 'unreadable learned routine ignored; learning again');
    }
    if (typeof restored === 'string') return undefined;
    // Read from an old whole-state row: written again in parts at the next save, which drops the row.
    if (whole) {
      wholeRows.add(id);
      restored.home.dirty = true;
      restored.home.urgent = true;
      const rh = book.find(id);
      if (rh !== undefined) rh.learnedDirty = true;
    }
    return restored.home;
  }

  /** Forgets a home: its heap entries are skipped from now on (`wakeAt` no longer matches them). */
  function dropHome(id: string): void {
    const h = homes.get(id);
    if (h !== undefined) h.wakeAt = Infinity;
    homes.delete(id);
    book.forget(id);
    wholeRows.delete(id);
  }

  if (store) {
    if (opts.restoreAll !== false) {
      const { states: saved, whole } = await readSavedHomeStates(store);
      for (const [id, state] of saved) await restoreHome(id, state, whole.has(id));
    }
    for (const h of homes.values()) schedule(h);
    let saves = 0;
    stopPersisting = scheduleEvery(clock, persistEveryMs, () => void persist(++saves % progressEvery === 0));
    logger.info({ homes: homes.size }, 'rule state restored');
  }

  const engine: RuleEngine = {
    ingest(reading: Reading): void {
      if (closed) return;
      const now = clock.now();
      // A reading stamped after the clock (ingest allows a few minutes of drift) happened now, at the latest.
      const r = reading.at > now ? Object.assign({}, reading, { at: now }) : reading;
      let h = homes.get(r.home);
      if (h === undefined) h = addHome(r.home, r.at);
      const beat = h.beats;
      const prevNewest = h.newestAt;
      // Behind for silence alone (no late reading this episode): a reading on time ends a gap whose data was lost.
      const silent = h.lateSince !== NONE && h.lateArrivalAt === NONE;
      // A thermometer already known: its previous reading, for telling whether it reports regularly.
      // Only where the watermark judges silence by it: a home with heartbeats is judged on them.
      const climateDev = watermark !== undefined && r.kind === 'climate' && !h.beats ? h.devices.get(r.device) : undefined;
      const prevSeen = climateDev?.lastSeen;
      // A reading that ends a doubt: the rules' deadlines held by it are planned again.
      const doubted = watermark !== undefined && inDoubt(h, now, watermark);
      const applied = applyReading(h, r);
      ctx.now = now;
      let reschedule = (applied & Applied.NewDevice) !== 0 || h.wakeAt === Infinity || beat !== h.beats || doubted;
      let gapEnded = false;
      if (watermark) {
        if (climateDev !== undefined) notePeriodic(h, climateDev, prevSeen!, prevNewest, r.at, watermark);
        noteArrival(h, now - reading.at, now, watermark, reading.at);
        const wasLate = h.lateSince !== NONE;
        if (updateLateness(h, now, watermark, ctx.out) !== wasLate) {
          // Caught up: the rules' held deadlines are due now (and after a gap whose data was lost,
          // the inactivity rules count from its end). Late: only the watermark's deadline counts.
          if (wasLate && silent) { noteGap(h, prevNewest, r.at); gapEnded = true; }
          h.wakeAt = Infinity;
          reschedule = true;
        }
      }
      ctx.sign = (applied & Applied.SignOfLife) !== 0;
      // The days a gap whose data was lost began and ended in are not days to learn her normal from:
      // their missing hours would read as quiet ones (before it ran off the gap, a critical
      // no-sign-of-life flagged them).
      if (gapEnded) book.flag(h.id);
      const observed = book.observe(h, r, ctx.sign);
      if (gapEnded) book.flag(h.id);
      if ((observed & Observed.Decision) !== 0) h.urgent = true;
      const outSince = h.outSince;
      const rs = h.rules;
      try {
        for (let i = 0; i < rs.rules.length; i++) if (rs.defs[i]!.onReading(rs.rules[i]!, h, r, ctx)) reschedule = true;
      } catch (err) {
        logger.error({ err, home: h.id, kind: r.kind }, 'rule failed on reading');
      }
      if ((observed & Observed.Out) !== 0 || h.outSince !== outSince) { h.outChangedAt = now; h.outUnsaved = true; }
      if (ctx.out.length > 0) { emit(); reschedule = true; }
      if (reschedule) schedule(h);
    },

    connect(readings: Observable<Reading>): Subscription {
      const sub = readings.subscribe({
        next: (r) => engine.ingest(r),
        error: (err: unknown) => logger.error({ err }, 'reading stream failed'),
      });
      connections.push(sub);
      return sub;
    },

    findings: subject.asObservable(),

    setRules(home: string, input: unknown): { errors: RuleError[] } {
      const h = homes.get(home) ?? addHome(home, clock.now());
      return { errors: applyRules(h, input) };
    },

    setAway(home: string, until: number | null): void {
      const now = clock.now();
      const h = homes.get(home) ?? addHome(home, now);
      if (until === null) { if (h.awayUntil > now) h.awayUntil = now; } else h.awayUntil = until;
      markEnteredAbsence(h, until ?? undefined, false);
      h.dirty = true;
      h.urgent = true;
      tick(h, now);
      h.wakeAt = Infinity;
      schedule(h);
    },

    lastSignOfLife(home: string): number | undefined {
      const t = homes.get(home)?.lastSignOfLife;
      return t === undefined || t === NONE ? undefined : t;
    },

    awayUntil(home: string): number | undefined {
      const t = homes.get(home)?.awayUntil;
      return t === undefined || t === NONE || t <= clock.now() ? undefined : t;
    },

    watermarkOf(home: string): { newestAt?: number; lateSince?: number } {
      const h = homes.get(home);
      const out: { newestAt?: number; lateSince?: number } = {};
      if (h !== undefined && h.newestAt !== NONE) out.newestAt = h.newestAt;
      if (h !== undefined && h.lateSince !== NONE) out.lateSince = h.lateSince;
      return out;
    },

    alertEnded(home: string, rule: string): boolean {
      const h = homes.get(home);
      if (h === undefined || closed) return false;
      const rs = h.rules;
      const i = rs.rules.findIndex((r) => r.id === rule);
      const rearm = i < 0 ? undefined : rs.defs[i]!.rearm;
      if (rearm === undefined || !rearm(rs.rules[i]!, h)) return false;
      h.dirty = true;
      h.urgent = true;
      logger.info({ home, rule }, 'alert ended; rule re-armed for a new occurrence');
      h.wakeAt = Infinity;
      schedule(h);
      // Saved at once: after a crash the next press must still open an alert.
      void persist(false);
      return true;
    },

    setContext(home: string, input: unknown): { errors: string[] } {
      const parsed = parseContext(input);
      if (!parsed.ok) return { errors: parsed.errors };
      const now = clock.now();
      const h = homes.get(home) ?? addHome(home, now);
      book.setContext(home, parsed.value);
      h.dirty = true;
      h.urgent = true;
      tick(h, now);
      h.wakeAt = Infinity;
      schedule(h);
      return { errors: [] };
    },

    routineOf(home: string): RoutineReport {
      const h = homes.get(home);
      return routineReport(book.get(home), book.settings, h?.rules.zone, clock.now());
    },

    async rebuildRoutine(home: string, readings: Iterable<Reading> | AsyncIterable<Reading>): Promise<number> {
      const h = homes.get(home) ?? addHome(home, clock.now());
      const rh = book.get(home);
      const rebuilt = await rebuildBaseline(readings, { zone: h.rules.zone, context: rh.context, powerChangeWatts: h.rules.powerChangeWatts, settings: book.settings, ...observeRules(h.rules) });
      if (rebuilt.days > rh.baseline.days) {
        // Keep today's live accumulators: history ends where live readings began.
        if (rh.baseline.today !== undefined && (rebuilt.today === undefined || rebuilt.today.start <= rh.baseline.today.start)) rebuilt.today = rh.baseline.today;
        book.setBaseline(home, rebuilt);
        h.dirty = true;
        h.urgent = true;
        h.wakeAt = Infinity;
        schedule(h);
      }
      return book.get(home).baseline.days;
    },

    flushState: () => persist(true),

    async loadHome(home: string, loadOpts?: { held?: boolean }): Promise<void> {
      if (closed || !store) return;
      if (loadOpts?.held === true) held.add(home); else held.delete(home);
      // Only this home's saved rows: a node taking many homes on must not read every home's state each time.
      const { states: saved, whole } = await readSavedHomeStates(store, home);
      dropHome(home);
      if (!saved.has(home)) return;
      const h = await restoreHome(home, saved.get(home), whole.has(home));
      if (h !== undefined) schedule(h);
    },

    resumeHome(home: string): void {
      if (!held.delete(home)) return;
      const h = homes.get(home);
      if (h === undefined || closed) return;
      h.wakeAt = Infinity;
      schedule(h);
    },

    async releaseHome(home: string): Promise<boolean> {
      held.delete(home);
      const h = homes.get(home);
      if (h === undefined) { book.forget(home); return true; }
      h.urgent = true;
      refusedSaves.delete(home);
      await persist(false);
      // `persist` marks a home urgent again when its save failed, and notes a fenced-out one.
      const saved = !h.urgent && !refusedSaves.has(home);
      refusedSaves.delete(home);
      if (!saved) logger.error({ home }, 'rule state of a released home not saved; the next owner starts from the last save');
      dropHome(home);
      return saved;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      cancelTimer?.();
      stopPersisting?.();
      for (const c of connections) c.unsubscribe();
      await persist(true);
      subject.complete();
    },
  };
  return engine;
}
