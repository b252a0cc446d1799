#!/usr/bin/env node
/**
 * The `mimamori` command line.
 *
 *   mimamori start [--via-bridge] [--cluster] run the hub (and the demo street unless MIMAMORI_DEMO_HOMES=0; through the device bridge with --via-bridge)
 *   mimamori provision home|resident|contact|device|file …
 *   mimamori rules set --home H FILE       validate and store a home's rule set
 *   mimamori rules check FILE              validate a rule set without storing it
 *   mimamori replay FILE [--rules F] [--timezone TZ] [--home-settings H.home.json …] [--until ISO]
 *   mimamori simulate --homes N --days D [--seed S] [--start ISO] --out FILE [--truth FILE]
 *   mimamori bridge check|run --map FILE …      the device bridge of a home (docs/devices.md)

 *   mimamori backup | backup list | restore ARCHIVE --to DIR | audit verify   (cli/backup.ts)
 *   mimamori start --reference BACKUP | contacts-pdf …                       (cli/reference-hub.ts)
 *   mimamori report --home H --month YYYY-MM [--lang en] --out F             (cli/report.ts)
 *   mimamori account create … | facility create|enroll|leave|list …         (cli/accounts.ts, cli/facilities.ts)
 */
import { createWriteStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { banner, chooseLogFormat, type LogFormat } from '../core/log-pretty.js';
import type { Store } from '../core/store.js';
import { openStore } from '../core/store-open.js';
import { toRecordedLine } from '../core/events.js';
import { idSchema } from '../core/events.js';
import { MimamoriError } from '../core/errors.js';
import { invalidPhoneMessage, toE164 } from '../core/phone.js';
import { systemClock } from '../core/clock.js';
import { localTime } from '../core/time.js';
import { provisionDevice } from '../broker/index.js';
import { parseRuleSet } from '../rules/index.js';
import { replayReadings, findingToNdjson } from '../rules/index.js';
import { simulate } from '../edge/index.js';
import { startHub } from './hub.js';
import { startLocalMosquitto, type LocalMosquitto } from '../edge/index.js';
import { DemoClock, demoHubOf, startDemo } from './demo.js';
import { contactPreferences, provisionFromFile } from './provision.js';
import { readRecordedFile } from './recorded-file.js';
import { exitWhenFlushed } from './exit.js';
import { parseHomeSettings, type HomeSettings } from '../edge/index.js';
import { homeRuleSet } from '../rules/index.js';

const usage = `mimamori — 見守り edge hub

  mimamori start [--via-bridge] [--cluster]
  mimamori provision home --id ID --name NAME [--timezone Asia/Tokyo] [--address A] [--entry-notes N]
  mimamori provision resident --home ID --name NAME [--birth-year Y] [--language ja|en]
  mimamori provision contact --home ID --name NAME --role family|caregiver|emergency [--phone +81…] [--email E] [--language ja|en] [--priority N]
                            [--digest 07:30,19:00] [--digest-channel sms|email] [--quiet 22:00-07:00]
  mimamori provision device --home ID --device ID --kind KIND [--label L]     (prints the device secret once)
                            [--adapter zigbee2mqtt|shelly|tasmota|echonet --native ID [--room R] [--door D]]   (and its device-map entry)
  mimamori provision file FILE.json                                          (a whole home: see docs/cli.md)
  mimamori account create --login L --name N --role operator|staff|caregiver|family|resident [--home H] [--facility F] [--guardian] [--language ja|en]
                                                                             (prints the password once; a staff account's facility must exist)
  mimamori facility create --id ID --name NAME | enroll --home H --facility F | leave --home H --facility F | list [--json]
                                                                             (day-care facilities and the homes they see: docs/cli.md)
  mimamori rules check FILE.json
  mimamori rules set --home ID FILE.json
  mimamori replay FILE.ndjson [--rules FILE.json] [--timezone TZ] [--home-settings H.home.json …] [--until ISO]
  mimamori simulate --homes N --days D [--seed S] [--start ISO] --out FILE.ndjson [--truth FILE.json] [--incidents default|none]
  mimamori evaluate FILE.ndjson --truth TRUTH.json [--months] | --corpus [--seed S] [--homes N] [--days D] | --recordings DIR [--json]   (mimamori evaluate --help; docs/evaluate.md)
  mimamori convert DATASET --raw DIR --out DIR [--homes H1,H2]   (public research recordings → replay files; edge/recordings/)
  mimamori bridge check --map FILE.json
  mimamori bridge run --map FILE.json --hub URL [--local mqtt://127.0.0.1:1883] [--state DIR] [--ca FILE] [--web https://hub]   (docs/devices.md)

  mimamori backup [--to DIR]… [--keep N] [--passphrase-file FILE] [--no-verify]   (docs/backup.md)
  mimamori backup list [--json]
  mimamori restore ARCHIVE --to DIR [--passphrase-file FILE]
  mimamori audit verify                                                      (docs/security.md)
  mimamori start --reference BACKUP.mmbk [--passphrase-file FILE] [--access-log DIR]
                                                                             (the web app read-only from a backup: docs/backup.md)
  mimamori contacts-pdf [--home ID] --out FILE.pdf [--from-backup BACKUP.mmbk [--passphrase-file FILE]]
                                                                             (the printable emergency contact list)
  mimamori report --home ID --month YYYY-MM [--lang ja|en] --out FILE.pdf   the monthly report, kept or made (docs/monthly-report.md)
  mimamori connections                                                       every external system the hub reaches (docs/security.md)
`;

import type { CliIo } from './cli-io.js';

export type { CliIo };
const processIo: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/**
 * The usage lines of one command (its `mimamori COMMAND …` lines and their
 * continuation lines), or `undefined` for a command the usage does not name.
 */
export function commandUsage(command: string): string | undefined {
  const lines: string[] = [];
  let mine = false;
  for (const line of usage.split('\n')) {
    const m = /^ {2}mimamori (\S+)/.exec(line);
    if (m) mine = m[1] === command;
    else if (!/^ {3,}\S/.test(line)) mine = false;
    if (mine) lines.push(line);
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** Commands that print help of their own for `--help` (more than their usage lines). */
const ownHelp = new Set(['evaluate', 'convert', 'facility']);

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  // `mimamori COMMAND --help` (or -h) is help, never an error or a run: every command alike.
  if (command !== undefined && !ownHelp.has(command) && (rest.includes('--help') || rest.includes('-h'))) {
    const lines = commandUsage(command);
    if (lines !== undefined) {
      io.out(`mimamori ${command} — usage (see also docs/cli.md):\n\n${lines}`);
      return 0;
    }
  }
  switch (command) {
    case 'start': return rest.includes('--reference') ? (await import('./reference-hub.js')).referenceStartCommand(rest, env, io) : start(rest, env, io);
    case 'provision': return provision(rest, env, io);
    case 'rules': return rules(rest, env, io);
    case 'replay': return replay(rest, io);
    case 'account': return (await import('./accounts.js')).accountCommand(rest, env, io);
    case 'facility': return (await import('./facilities.js')).facilityCommand(rest, env, io);
    case 'simulate': return simulateCmd(rest, io);
    case 'evaluate': return (await import('./evaluate.js')).evaluateCommand(rest, io);
    case 'convert': return (await import('./convert-recordings.js')).convertCommand(rest, io);
    case 'bridge': return (await import('./bridge.js')).bridgeCommand(rest, env, io);

    case 'backup': return (await import('./backup.js')).backupCommand(rest, env, io);
    case 'restore': return (await import('./backup.js')).restoreCommand(rest, env, io);
    case 'audit': return (await import('./backup.js')).auditCommand(rest, env, io);
    case 'contacts-pdf': return (await import('./reference-hub.js')).contactsPdfCommand(rest, env, io);
    case 'report': return (await import('./report.js')).reportCommand(rest, env, io);
    case 'connections': return (await import('./connections.js')).connectionsCommand(rest, env, io);
    case undefined: case 'help': case '--help': case '-h':
      io.out(usage);
      return command === undefined ? 1 : 0;
    default:
      io.err(`unknown command ${JSON.stringify(command)}\n\n${usage}`);
      return 2;
  }
}

async function start(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const unknown = args.filter((a) => a !== '--via-bridge' && a !== '--cluster');
  if (unknown.length > 0) { io.err(`mimamori start: unknown option ${unknown.join(' ')} (only --via-bridge, --cluster)`); return 2; }
  // --cluster says out loud what MIMAMORI_REDIS_URL already means: join the cluster (docs/scale.md).
  if (args.includes('--cluster') && !env.MIMAMORI_REDIS_URL) {
    io.err('mimamori start --cluster: set MIMAMORI_REDIS_URL (redis://host:port/db) and MIMAMORI_DATABASE_URL (postgres://…) / MIMAMORI_REDIS_URL と MIMAMORI_DATABASE_URL を設定してください');
    return 2;
  }
  const config = loadConfig(env, args.includes('--via-bridge') ? { demo: { viaBridge: true } } : {});
  // A calm, readable log on a terminal; JSON when piped or when MIMAMORI_LOG_FORMAT=json (core/log-pretty.ts).
  let format: LogFormat;
  try { format = chooseLogFormat(env, process.stdout.isTTY === true); } catch (err) { io.err(`mimamori start: ${(err as Error).message}`); return 2; }
  const logger = createLogger({ level: config.logLevel, format });
  const demo = config.demo.homes > 0;
  // The demo lives in sped-up time, so it gets its own data folder, fresh each run.
  const hubConfig: Config = demo ? { ...config, dataDir: join(config.dataDir, 'demo') } : config;
  if (demo && env.MIMAMORI_DEMO_KEEP !== '1') rmSync(hubConfig.dataDir, { recursive: true, force: true });
  const startAt = demo ? demoStart(Date.now()) : Date.now();
  // The demo street's simulated time drives the homes and the rules; people's time (TOTP, lockouts,
  // sessions, video calls, check-ins) stays on the wall clock.
  const simClock = demo ? new DemoClock(startAt, logger.child({ part: 'demo-clock' })) : undefined;

  // Through the bridge: a real mosquitto stands in for the homes' own brokers (edge/adapters/local-mosquitto.ts).
  let homeBroker: LocalMosquitto | undefined;
  if (demo && config.demo.viaBridge) {
    try {
      homeBroker = await startLocalMosquitto({ dir: join(hubConfig.dataDir, 'home-broker') });
    } catch (err) {
      io.err(`mimamori start --via-bridge: ${(err as Error).message}`);
      return 1;
    }
  }
  const hub = await startHub({ config: hubConfig, logger, clock: simClock ?? systemClock, wallClock: systemClock }).catch(async (err: unknown) => {
    await homeBroker?.stop();
    throw err;
  });
  const demoStreet = simClock
    ? await startDemo({
      store: hub.store, simClock, wallClock: systemClock, speed: config.demo.speed, hub: demoHubOf(hub),
      logger: logger.child({ part: 'demo' }), mqttUrl: hub.mqttUrl, dataDir: hubConfig.dataDir,
      homes: config.demo.homes, seed: config.demo.seed, start: startAt, notifier: hub.notifier, twilioFrom: config.twilio.from,
      ...(hub.localTwilio ? { localTwilio: hub.localTwilio } : {}), ...(homeBroker ? { viaBridge: { localUrl: homeBroker.url } } : {}),
      ...(hub.localLine ? { localLine: hub.localLine } : {}),
      ...(hub.localPush ? { localPush: hub.localPush } : {}),
    })
    : undefined;
  logger.info({
    notice: 'urls', web: hub.webUrl, hub: hub.statusPage?.url, mqtt: hub.mqttUrl, mqtts: `mqtts://${config.host}:${hub.broker.ports.tls}`, ws: `ws://${config.host}:${hub.broker.ports.ws}/mqtt`,
    influx: hub.influxUrl, twilio: hub.localTwilio?.url ?? 'api.twilio.com', line: hub.localLine ? `${hub.localLine.url} (record: ${join(hubConfig.dataDir, 'line-messages.ndjson')})` : 'api.line.me',
    push: hub.localPush ? `${hub.localPush.url}/messages (record: ${join(hubConfig.dataDir, 'push-messages.ndjson')})` : 'browsers\' push services',
    demo: demo ? `${config.demo.homes} homes at up to ${config.demo.speed}× speed (waits for the hub)${homeBroker ? `, zigbee2mqtt devices on ${homeBroker.url} through the device bridge` : ''}` : 'off',
  }, 'mimamori hub running — Ctrl-C to stop');
  if (demoStreet && hub.webUrl) {
    // Shown once on the terminal, never in the log: a throw-away account of the fresh demo folder.
    process.stderr.write(banner('Sign in / ログイン', [
      ['web app', `${hub.webUrl}/`], ['login', demoStreet.signIn.login], ['password', demoStreet.signIn.password], ['hub status', hub.statusPage?.url ?? ''],
    ], process.stderr.isTTY === true && !env.NO_COLOR));
  }

  let stopping = false;
  return new Promise<number>((resolve) => {
    const stop = async (signal: string) => {
      if (stopping) { logger.warn('second signal: exiting now'); process.exit(130); }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      await demoStreet?.close();
      await hub.close();
      await homeBroker?.stop();
      logger.info('stopped cleanly');
      resolve(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}

/** 05:00 today in Tokyo: the demo day starts as the residents wake up. */
function demoStart(now: number): number {
  const l = localTime(now, 'Asia/Tokyo');
  return Date.parse(`${l.date}T05:00:00+09:00`);
}

async function provision(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [what, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true, strict: true,
    options: {
      id: { type: 'string' }, name: { type: 'string' }, timezone: { type: 'string' }, address: { type: 'string' }, 'entry-notes': { type: 'string' },
      home: { type: 'string' }, 'birth-year': { type: 'string' }, language: { type: 'string' }, role: { type: 'string' }, phone: { type: 'string' },
      email: { type: 'string' }, priority: { type: 'string' }, device: { type: 'string' }, kind: { type: 'string' }, label: { type: 'string' },
      digest: { type: 'string' }, 'digest-channel': { type: 'string' }, quiet: { type: 'string' },
      adapter: { type: 'string' }, native: { type: 'string' }, room: { type: 'string' }, door: { type: 'string' },
    },
  });
  const config = loadConfig(env);
  const store = await openStore(config);
  try {
    const need = (k: keyof typeof values): string => {
      const v = values[k];
      if (typeof v !== 'string' || v === '') throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `--${k} is required`);
      return v;
    };
    const lang = (v: string | undefined) => (v === 'en' ? 'en' : 'ja') as 'ja' | 'en';
    switch (what) {
      case 'home': {
        const id = idSchema.parse(need('id'));
        const timezone = values.timezone ?? 'Asia/Tokyo';
        new Intl.DateTimeFormat('en', { timeZone: timezone }); // throws RangeError on an unknown zone
        const home: Parameters<Store['createHome']>[0] = { id, name: need('name'), timezone };
        if (values.address) home.address = values.address;
        if (values['entry-notes']) home.entryNotes = values['entry-notes'];
        await store.createHome(home);
        io.out(JSON.stringify({ home: id }));
        return 0;
      }
      case 'resident': {
        const r: Parameters<Store['addResident']>[0] = { homeId: await knownHome(store, need('home')), name: need('name'), language: lang(values.language) };
        if (values['birth-year']) r.birthYear = Number(values['birth-year']);
        io.out(JSON.stringify({ resident: (await store.addResident(r)).id }));
        return 0;
      }
      case 'contact': {
        const role = need('role');
        if (!['family', 'caregiver', 'emergency', 'resident'].includes(role)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', '--role must be family, caregiver, emergency or resident');
        const phone = values.phone === undefined ? undefined : toE164(values.phone);
        if (values.phone !== undefined && phone === undefined) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `--phone: ${invalidPhoneMessage.en} / ${invalidPhoneMessage.ja}`);
        const c: Parameters<Store['addContact']>[0] = { homeId: await knownHome(store, need('home')), name: need('name'), role: role as 'family', language: lang(values.language), priority: Number(values.priority ?? 1) };
        if (phone) c.phone = phone;
        if (values.email) c.email = values.email;
        const quiet = values.quiet ? /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(values.quiet) : undefined;
        if (values.quiet && !quiet) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', '--quiet must look like 22:00-07:00');
        const digest = values.digest ? { times: values.digest.split(','), channel: values['digest-channel'] ?? (values.email ? 'email' : 'sms') } : undefined;
        const prefs = quiet || digest ? contactPreferences(quiet ? { from: quiet[1], to: quiet[2] } : undefined, digest) : undefined;
        const added = await store.addContact(c);
        if (prefs) {
          await store.setContactPreferences(added.id, prefs, Date.now());
          io.err('Quiet hours and digest times take effect when the hub next starts.');
        }
        io.out(JSON.stringify({ contact: added.id }));
        return 0;
      }
      case 'device': {
        const homeId = await knownHome(store, need('home'));
        const d: Parameters<typeof provisionDevice>[1] = { homeId, deviceId: idSchema.parse(need('device')), kind: need('kind') };
        if (values.label) d.label = values.label;
        // A real device behind the bridge: its map entry is checked before anything is stored.
        const entry = (await import('./bridge.js')).deviceMapEntry({ ...values, device: d.deviceId, kind: d.kind });
        const creds = await provisionDevice(store, d);
        io.out(JSON.stringify({ home: homeId, device: d.deviceId, username: creds.username, secret: creds.secret, ...(entry ? { mapEntry: { ...entry, secret: creds.secret } } : {}) }));
        io.err('The secret is shown only this once: store it in the device now.');
        return 0;
      }
      case 'file': {
        const file = positionals[0];
        if (!file) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'provision file needs a FILE.json');
        const out = await provisionFromFile(store, JSON.parse(readFileSync(file, 'utf8')) as unknown);
        io.out(JSON.stringify(out, null, 2));
        io.err('Device secrets are shown only this once: store them in the devices now.');
        return 0;
      }
      default:
        io.err(usage);
        return 2;
    }
  } catch (err) {
    io.err(`mimamori provision: ${(err as Error).message}`);
    return 1;
  } finally {
    await store.close();
  }
}

async function knownHome(store: Store, id: string): Promise<string> {
  if (!(await store.getHome(id))) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `home ${id}; create it first with: mimamori provision home --id ${id} --name …`);
  return id;
}

async function rules(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [what, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { home: { type: 'string' } } });
  const file = positionals[0];
  if ((what !== 'check' && what !== 'set') || !file) { io.err(usage); return 2; }
  let input: unknown;
  try { input = JSON.parse(readFileSync(file, 'utf8')); } catch (err) { io.err(`mimamori rules: cannot read ${file}: ${(err as Error).message}`); return 1; }
  const parsed = parseRuleSet(input);
  for (const e of parsed.errors) io.err(`rule ${e.index}${e.id ? ` (${e.id})` : ''}: ${e.message}`);
  io.err(`${parsed.rules.length} valid rule(s), ${parsed.errors.length} skipped`);
  if (what === 'check') return parsed.errors.length === 0 ? 0 : 1;
  if (!values.home) { io.err('mimamori rules set: --home is required'); return 2; }
  const store = await openStore(loadConfig(env));
  try {
    await store.setRuleConfig(await knownHome(store, values.home), input);
    return parsed.errors.length === 0 ? 0 : 1;
  } catch (err) {
    io.err(`mimamori rules: ${(err as Error).message}`);
    return 1;
  } finally {
    await store.close();
  }
}


async function replay(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { rules: { type: 'string' }, timezone: { type: 'string' }, until: { type: 'string' }, 'home-settings': { type: 'string', multiple: true } } });
  const file = positionals[0];
  if (!file) { io.err(usage); return 2; }
  // Per-home settings of a multi-home recording: time zone, front door, waking hours, entered absences.
  const homeSettings = new Map<string, HomeSettings>();
  for (const f of values['home-settings'] ?? []) {
    try {
      const h = parseHomeSettings(JSON.parse(readFileSync(f, 'utf8')) as unknown, f);
      homeSettings.set(h.home, h);
    } catch (err) { io.err(`mimamori replay: ${(err as Error).message}`); return 1; }
  }
  let ruleInput: unknown;
  if (values.rules) {
    try { ruleInput = JSON.parse(readFileSync(values.rules, 'utf8')); } catch (err) { io.err(`mimamori replay: cannot read rules ${values.rules}: ${(err as Error).message}`); return 1; }
    const parsed = parseRuleSet(ruleInput);
    for (const e of parsed.errors) io.err(`rule ${e.index}${e.id ? ` (${e.id})` : ''}: ${e.message} — skipped`);
  }
  const tz = values.timezone ?? 'Asia/Tokyo';
  const tzFor = (home: string) => homeSettings.get(home)?.timezone ?? tz;
  const opts: Parameters<typeof replayReadings>[1] = { timezoneFor: tzFor };
  if (ruleInput !== undefined) opts.rulesFor = () => ruleInput;
  else if (homeSettings.size > 0) opts.rulesFor = (home) => { const h = homeSettings.get(home); return h ? homeRuleSet(h, 'learned') : undefined; };
  // Absences entered at the time and day-care days: the home's context, as the hub would have it.
  opts.contextFor = (home) => {
    const h = homeSettings.get(home);
    return h && (h.away || h.dayCareDays) ? { away: h.away ?? [], dayCareDays: h.dayCareDays ?? [] } : undefined;
  };
  if (values.until) {
    const until = Date.parse(values.until);
    if (!Number.isFinite(until)) { io.err('mimamori replay: --until must be an RFC 3339 time'); return 2; }
    opts.until = until;
  }
  const counts = { bad: 0 };
  let findings = 0;
  try {
    for await (const f of replayReadings(readRecordedFile(file, counts, (l) => io.err(l)), opts)) {
      findings++;
      io.out(findingToNdjson(f, tzFor(f.home)));
    }
  } catch (err) {
    io.err(`mimamori replay: ${(err as Error).message}`);
    return 1;
  }
  io.err(`replay: ${findings} finding(s); ${counts.bad} line(s) skipped`);
  return 0;
}

async function simulateCmd(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { homes: { type: 'string' }, days: { type: 'string' }, seed: { type: 'string' }, start: { type: 'string' }, out: { type: 'string' }, truth: { type: 'string' }, incidents: { type: 'string' } } });
  if (!values.out) { io.err(usage); return 2; }
  const result = simulate({
    seed: Number(values.seed ?? 1), homes: Number(values.homes ?? 3), days: Number(values.days ?? 7),
    start: values.start ?? '2026-01-05T00:00:00+09:00', incidents: values.incidents === 'none' ? 'none' : 'default',
  });
  const out = createWriteStream(values.out);
  for (const r of result.readings) out.write(`${toRecordedLine(r)}\n`);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  if (values.truth) writeFileSync(values.truth, `${JSON.stringify(result.incidents, null, 2)}\n`);
  io.err(`simulate: ${result.readings.length} readings, ${result.incidents.length} incident(s)`);
  return 0;
}

export type { Logger };

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => exitWhenFlushed(code), (err: unknown) => {
    const e = err as MimamoriError;
    processIo.err(`mimamori: ${e.code ? `${e.code} ` : ''}${e.message}`);
    exitWhenFlushed(1);
  });
}
