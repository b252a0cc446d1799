/**
 * Rate-limited logging for floods (issue 15): 10,000 bad packets must not
 * become 10,000 log lines. Per key (the kind of event, e.g. "login refused"),
 * at most `perMinute` lines are written in a one-minute window; the rest are
 * counted, and one "suppressed K similar" line is written when the key is
 * next logged after its window, or at `flush()` (the hub's shutdown).
 *
 * @example
 * const limited = createLogLimiter({ logger, clock });
 * limited.warn('login refused', { clientId, reason }, 'login refused');
 */
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

export interface LogLimiterOptions {
  logger: Logger;
  clock: Pick<Clock, 'now'>;
  /** Lines per key per minute before the rest are counted instead (default 10). */
  perMinute?: number;
  windowMs?: number;
}

type Level = 'warn' | 'info' | 'error' | 'debug';
interface Window { start: number; written: number; suppressed: number; level: Level; msg: string }

export interface LogLimiter {
  warn(key: string, obj: object, msg: string): void;
  info(key: string, obj: object, msg: string): void;
  debug(key: string, obj: object, msg: string): void;
  /** Writes the pending "suppressed" lines now. */
  flush(): void;
  /** Lines suppressed so far, per key (counters for health pages). */
  suppressed(): Record<string, number>;
}

/** Creates a limiter in front of one logger (keys are kept per limiter, at most 1000 of them). */
export function createLogLimiter(opts: LogLimiterOptions): LogLimiter {
  const perMinute = opts.perMinute ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const windows = new Map<string, Window>();
  const totals: Record<string, number> = {};

  const summarize = (key: string, w: Window) => {
    if (w.suppressed === 0) return;
    opts.logger[w.level]({ key, suppressed: w.suppressed, windowMs }, `suppressed ${w.suppressed} similar: ${w.msg}`);
  };

  const write = (level: Level) => (key: string, obj: object, msg: string) => {
    const now = opts.clock.now();
    let w = windows.get(key);
    if (w && now - w.start >= windowMs) { summarize(key, w); w = undefined; }
    if (!w) {
      if (windows.size >= 1000) { for (const [k, old] of windows) summarize(k, old); windows.clear(); }
      w = { start: now, written: 0, suppressed: 0, level, msg };
      windows.set(key, w);
    }
    if (w.written < perMinute) { w.written++; opts.logger[level](obj, msg); return; }
    w.suppressed++;
    totals[key] = (totals[key] ?? 0) + 1;
  };

  return {
    warn: write('warn'), info: write('info'), debug: write('debug'),
    flush() {
      for (const [k, w] of windows) summarize(k, w);
      windows.clear();
    },
    suppressed: () => ({ ...totals }),
  };
}
