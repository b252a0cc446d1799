/**
 * Replay: recorded readings through the same engine on a virtual clock, as
 * fast as the CPU allows. Time jumps to each reading's `at` (timers due in
 * between fire first, in order); after the last reading it runs on to
 * `until` so pending deadlines fire.
 */
import { VirtualClock } from '../core/clock.js';
import type { Reading } from '../core/events.js';
import type { Finding } from '../core/findings.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { toLocalIso } from '../core/time.js';
import { createRuleEngine, type RuleEngine, type RuleEngineOptions } from './engine.js';

export interface ReplayOptions {
  rulesFor?: RuleEngineOptions['rulesFor'];
  timezoneFor?: RuleEngineOptions['timezoneFor'];
  /** A home's entered absences and day-care days (`RuleEngine.setContext` input), set before its first reading. */
  contextFor?: (home: string) => unknown;
  /** Run the clock on to this time after the last reading (default: last reading + 24 h). */
  until?: number;
  logger?: Logger;
}

/**
 * Yields every finding the readings produce, in order.
 *
 * @example
 * for await (const f of replayReadings(readings)) process.stdout.write(findingToNdjson(f) + '\n');
 */
export async function* replayReadings(readings: Iterable<Reading> | AsyncIterable<Reading>, opts: ReplayOptions = {}): AsyncGenerator<Finding> {
  const clock = new VirtualClock(0);
  const found: Finding[] = [];
  let engine: RuleEngine | undefined;
  let last = -Infinity;
  const seen = new Set<string>();
  try {
    for await (const r of readings) {
      if (engine === undefined) {
        clock.advanceTo(r.at);
        // A recording is complete by construction and time moves only with it: no watermark.
        const engineOpts: RuleEngineOptions = { clock, logger: opts.logger ?? silentLogger(), watermark: false };
        if (opts.rulesFor) engineOpts.rulesFor = opts.rulesFor;
        if (opts.timezoneFor) engineOpts.timezoneFor = opts.timezoneFor;
        engine = await createRuleEngine(engineOpts);
        engine.findings.subscribe((f) => found.push(f));
      }
      if (opts.contextFor && !seen.has(r.home)) {
        seen.add(r.home);
        const context = opts.contextFor(r.home);
        if (context !== undefined) {
          const { errors } = engine.setContext(r.home, context);
          if (errors.length > 0) throw new Error(`${r.home}: context: ${errors.join('; ')}`);
        }
      }
      // A reading older than the clock (out of order) is applied at the current time.
      clock.advanceTo(r.at);
      engine.ingest(r);
      if (r.at > last) last = r.at;
      if (found.length > 0) yield* found.splice(0);
    }
    if (engine === undefined) return;
    clock.advanceTo(opts.until ?? last + 24 * 3600_000);
    if (found.length > 0) yield* found.splice(0);
  } finally {
    await engine?.close();
  }
}

/**
 * One NDJSON line (no newline) for a finding: `ts` is the RFC 3339 time it was
 * decided, in `timezone` when given, else UTC.
 */
export function findingToNdjson(f: Finding, timezone?: string): string {
  const line: Record<string, unknown> = {
    ts: timezone ? toLocalIso(f.at, timezone) : new Date(f.at).toISOString(),
    home: f.home, rule: f.rule, type: f.type, state: f.state, severity: f.severity, audience: f.audience,
    message: f.message.en, message_ja: f.message.ja,
    expected: f.expected.en, expected_ja: f.expected.ja,
    observed: f.observed.en, observed_ja: f.observed.ja,
  };
  if (f.device !== undefined) line.device = f.device;
  if (f.data !== undefined) line.data = f.data;
  return JSON.stringify(line);
}
