/**
 * Structured logs (pino) that redact personal data by default: phone numbers,
 * names, addresses, e-mail addresses and secrets never reach a log line.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export const redactedPaths = [
  'phone', '*.phone', 'to', '*.to', 'from', '*.from', 'email', '*.email',
  '*.name', 'residentName', 'contactName', 'address', '*.address', 'password', '*.password',
  'secret', '*.secret', 'authToken', '*.authToken', 'body', '*.body',
  'req.headers.authorization', 'req.headers.cookie',
];

export interface LoggerOptions { level?: string; name?: string; destination?: DestinationStream }

/** Creates the hub's logger; pass a destination to capture logs in tests. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    name: opts.name ?? 'mimamori',
    level: opts.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that discards everything (tests that do not inspect logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
