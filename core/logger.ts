/**
 * Structured logs (pino) that redact personal data by default: phone numbers,
 * names, addresses, e-mail addresses and secrets never reach a log line —
 * in JSON and on a terminal alike (log-pretty.ts formats after redaction).
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import { prettyDestination, type LogFormat } from './log-pretty.js';

export type { Logger };

export const redactedPaths = [
  'phone', '*.phone', 'to', '*.to', 'from', '*.from', 'email', '*.email',
  '*.name', 'residentName', 'contactName', 'address', '*.address', 'password', '*.password',
  'secret', '*.secret', 'authToken', '*.authToken', 'body', '*.body',
  'req.headers.authorization', 'req.headers.cookie',
];

export interface LoggerOptions {
  level?: string; name?: string; destination?: DestinationStream;
  /** `pretty` for a person at a terminal (see chooseLogFormat); JSON by default. */
  format?: LogFormat;
  /** Colours in the pretty format (default: when the destination is stdout on a terminal and NO_COLOR is unset). */
  colorize?: boolean;
}

/** Creates the hub's logger; pass a destination to capture logs in tests. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    name: opts.name ?? 'mimamori',
    level: opts.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
  };
  if (opts.format === 'pretty') {
    const colorize = opts.colorize ?? (!opts.destination && process.stdout.isTTY === true && !process.env.NO_COLOR);
    return pino(options, prettyDestination({ colorize, ...(opts.destination ? { out: opts.destination } : {}) }));
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that discards everything (tests that do not inspect logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
