/**
 * The terminal log (issue 14): pretty on a TTY, JSON when piped or asked for;
 * banners for the hub's addresses and urgent alerts; redaction holds in the
 * pretty form exactly as in JSON.
 */
import t from 'tap';
import { join } from 'node:path';
import { createLogger } from '../../core/logger.js';
import { banner, chooseLogFormat } from '../../core/log-pretty.js';
import { main } from '../../cli/main.js';
import { capture } from '../support/cli-io.js';
import { tempDir } from '../support/wait.js';

/** A logger whose output is kept as text. */
function captured(format: 'pretty' | 'json') {
  const out: string[] = [];
  const logger = createLogger({ format, destination: { write: (s: string) => { out.push(s); } } });
  return { logger, out };
}

const secrets = { phone: '+819012345678', contact: { name: '山田 花子' }, password: 'hunter2-secret', home: 'h1' };
const leaked = (s: string) => ['+819012345678', '山田', 'hunter2'].filter((x) => s.includes(x));

t.test('the format: pretty on a terminal, JSON through a pipe, MIMAMORI_LOG_FORMAT decides when set', async (t) => {
  t.equal(chooseLogFormat({}, true), 'pretty', 'a TTY');
  t.equal(chooseLogFormat({}, false), 'json', 'a pipe or a file');
  t.equal(chooseLogFormat({ MIMAMORI_LOG_FORMAT: 'json' }, true), 'json', 'JSON asked for on a TTY');
  t.equal(chooseLogFormat({ MIMAMORI_LOG_FORMAT: 'pretty' }, false), 'pretty', 'pretty asked for through a pipe');
  t.equal(chooseLogFormat({ MIMAMORI_LOG_FORMAT: '' }, false), 'json', 'empty is unset');
  t.throws(() => chooseLogFormat({ MIMAMORI_LOG_FORMAT: 'xml' }, true), /MIMAMORI_LOG_FORMAT must be json or pretty/);
  const io = capture();
  t.equal(await main(['start'], { MIMAMORI_DATA_DIR: join(tempDir(t), 'data'), MIMAMORI_LOG_FORMAT: 'xml' }, io), 2, 'start refuses a wrong format before starting anything');
  t.match(io.stderr.join('\n'), /mimamori start: MIMAMORI_LOG_FORMAT must be json or pretty, not "xml"/);
});

t.test('pretty: one calm line per record, secrets redacted as in JSON', async (t) => {
  const { logger, out } = captured('pretty');
  logger.info(secrets, 'contact added');
  t.equal(out.length, 1);
  const line = out[0]!;
  t.match(line, /^\[\d\d:\d\d:\d\d\] INFO: contact added /, 'time, level, message');
  t.notOk(line.includes('\u001b['), 'no colour codes when not writing to a terminal');
  t.equal(line.trimEnd().split('\n').length, 1, 'one line');
  t.same(leaked(line), [], 'no phone, name or password');
  t.equal(line.split('[redacted]').length - 1, 3, 'phone, name and password each redacted');
  t.match(line, /"home":"h1"/, 'other fields kept');

  const json = captured('json');
  json.logger.info(secrets, 'contact added');
  const record = JSON.parse(json.out[0]!) as Record<string, unknown>;
  t.match(record, { msg: 'contact added', phone: '[redacted]', contact: { name: '[redacted]' }, password: '[redacted]', home: 'h1' }, 'JSON as before');
});

t.test('pretty: the addresses and urgent alerts stand out, still redacted', async (t) => {
  const { logger, out } = captured('pretty');
  logger.info({ notice: 'urls', web: 'http://127.0.0.1:8080', hub: 'http://127.0.0.1:8081/', authToken: 'tok-secret' }, 'mimamori hub running — Ctrl-C to stop');
  const urls = out[0]!;
  t.match(urls, /─{60}\n {2}\d\d:\d\d:\d\d {2}mimamori hub running — Ctrl-C to stop\n/, 'a framed title');
  t.match(urls, /\n {4}web {8}http:\/\/127\.0\.0\.1:8080\n {4}hub {8}http:\/\/127\.0\.0\.1:8081\/\n/, 'one aligned row per address');
  t.match(urls, /authToken {2}\[redacted\]/);
  t.notMatch(urls, /tok-secret/, 'the token never shows');
  t.notMatch(urls, /notice/, 'the marker itself is not shown');

  logger.warn({ notice: 'alert', home: 'h1', rule: 'help', to: '+819012345678' }, 'finding raised: Help button pressed');
  const alert = out[1]!;
  t.match(alert, /\n {2}▲ \d\d:\d\d:\d\d {2}finding raised: Help button pressed\n {4}home=h1 {2}rule=help {2}to=\[redacted\]\n/, 'an alert line with its facts');
  t.same(leaked(alert), []);

  t.equal(banner('Sign in / ログイン', [['login', 'demo'], ['password', 'pw']], false), `\n  ${'─'.repeat(60)}\n  Sign in / ログイン\n    login     demo\n    password  pw\n  ${'─'.repeat(60)}\n\n`, 'the sign-in banner (stderr, never the log)');
  t.ok(banner('x', [['a', 'b']], true).includes('\u001b[1;36mb\u001b[0m'), 'coloured on a terminal');
});
