/**
 * A log people can read on a terminal (issue 14): one calm line per record
 * through pino-pretty (time, level, message, then the fields in grey), and a
 * short banner for the records a person must not miss — the hub's addresses
 * at start, the sign-in, each urgent alert. Records ask for a banner with a
 * `notice` field (`'urls'`, `'sign-in'`, `'alert'`). Formatting happens after
 * pino has redacted the record, so the pretty form hides what JSON hides.
 * JSON stays the format for pipes, files and log collectors.
 */
import { prettyFactory } from 'pino-pretty';

export type LogFormat = 'pretty' | 'json';

/** What a record may set to stand out on a terminal. */
export type LogNotice = 'urls' | 'sign-in' | 'alert';

/**
 * Pretty on a terminal, JSON otherwise; MIMAMORI_LOG_FORMAT=json|pretty decides
 * when set (anything else is an error, not a guess).
 *
 * @example chooseLogFormat(process.env, process.stdout.isTTY === true)
 */
export function chooseLogFormat(env: NodeJS.ProcessEnv, isTTY: boolean): LogFormat {
  const wanted = env.MIMAMORI_LOG_FORMAT;
  if (wanted === 'json' || wanted === 'pretty') return wanted;
  if (wanted !== undefined && wanted !== '') throw new Error(`MIMAMORI_LOG_FORMAT must be json or pretty, not ${JSON.stringify(wanted)}`);
  return isTTY ? 'pretty' : 'json';
}

const paint = (on: boolean, code: string, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/**
 * A short framed block: a title and aligned `label  value` rows.
 *
 * @example banner('mimamori hub running', [['web', 'http://127.0.0.1:8080/']], false)
 */
export function banner(title: string, rows: ReadonlyArray<readonly [string, string]>, colorize: boolean): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  const rule = paint(colorize, '36', `  ${'─'.repeat(60)}`);
  const lines = [rule, `  ${paint(colorize, '1', title)}`, ...rows.map(([k, v]) => `    ${paint(colorize, '2', k.padEnd(width))}  ${paint(colorize, '1;36', v)}`), rule];
  return `\n${lines.join('\n')}\n\n`;
}

/** Fields pino and the hub add that a banner does not show. */
const quiet = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'notice', 'part']);

const clock = (time: unknown): string => {
  const d = new Date(typeof time === 'number' ? time : Date.now());
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
};

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Formats one pino JSON line for a terminal. Exported for tests; the logger
 * uses it through `prettyDestination`.
 */
export function createPrettyFormatter(opts: { colorize: boolean }): (line: string) => string {
  const pretty = prettyFactory({ colorize: opts.colorize, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name,notice', singleLine: true });
  return (line) => {
    let record: Record<string, unknown>;
    try { record = JSON.parse(line) as Record<string, unknown>; } catch { return line; }
    const rows = Object.entries(record).filter(([k]) => !quiet.has(k)).map(([k, v]) => [k, text(v)] as const);
    switch (record.notice) {
      case 'urls':
      case 'sign-in':
        return banner(`${clock(record.time)}  ${text(record.msg ?? '')}`, rows, opts.colorize);
      case 'alert':
        return `\n${paint(opts.colorize, '1;31', `  ▲ ${clock(record.time)}  ${text(record.msg ?? '')}`)}\n${rows.length ? `    ${paint(opts.colorize, '2', rows.map(([k, v]) => `${k}=${v}`).join('  '))}\n` : ''}\n`;
      default:
        return pretty(record);
    }
  };
}

/** A pino destination that writes pretty lines to `out` (stdout by default), synchronously. */
export function prettyDestination(opts: { colorize: boolean; out?: { write(s: string): unknown } }): { write(line: string): void } {
  const format = createPrettyFormatter(opts);
  const out = opts.out ?? process.stdout;
  return { write: (line) => { out.write(format(line)); } };
}
