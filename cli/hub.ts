/**
 * The hub's composition root: wires broker → ingest → rules → (history,
 * notifier) and the status page, from one validated configuration. The alert
 * path (rules → notifier) never waits on the history path (InfluxDB).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import type { Config } from '../core/config.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createSqliteStore, type Store } from '../core/store.js';
import type { Finding } from '../core/findings.js';
import { createBroker, type Broker } from '../broker/index.js';
import { createIngest, type Ingest } from '../broker/ingest.js';
import { provisionService } from '../broker/device-credentials.js';
import { createRuleEngine, type RuleEngine } from '../rules/index.js';
import { createHistoryWriter, type HistoryWriter } from '../rules/history-writer.js';
import { startManagedInfluxd } from '../rules/managed-influxd.js';
import { ensureSchema } from '../rules/influx-schema.js';
import { createNotifier, type Notifier } from '../notifier/index.js';
import { startLocalTwilio, type LocalTwilio } from '../notifier/local-twilio-server.js';
import { createTwilioClient } from '../notifier/twilio-client.js';
import { createSmsChannel } from '../notifier/channels/sms.js';
import { startStatusPage, statusCallbackPath, type StatusPage } from '../dashboards/status-page.js';
import { InfluxDB } from 'influx';

export interface HubOptions {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** Serve the status page (default true); it also receives Twilio's delivery receipts. */
  statusPage?: boolean;
}

export interface Hub {
  config: Config;
  store: Store;
  broker: Broker;
  ingest: Ingest;
  engine: RuleEngine;
  history: HistoryWriter;
  notifier: Notifier;
  /** Present when no Twilio credentials are configured. */
  localTwilio?: LocalTwilio;
  statusPage?: StatusPage;
  influxUrl: string;
  mqttUrl: string;
  /** Findings seen since start (newest last, bounded). */
  recentFindings(): Finding[];
  close(): Promise<void>;
}

/** Starts every part of the hub; on a failure part-way, closes what had started. */
export async function startHub(opts: HubOptions): Promise<Hub> {
  const { config, logger, clock } = opts;
  const closers: Array<{ name: string; close: () => Promise<unknown> }> = [];
  const onClose = (name: string, close: () => Promise<unknown>) => closers.unshift({ name, close });
  const closeAll = async () => {
    for (const c of closers) {
      try { await c.close(); } catch (err) { logger.warn({ err, part: c.name }, 'error while closing'); }
    }
  };

  try {
    mkdirSync(config.dataDir, { recursive: true });
    const store = createSqliteStore(join(config.dataDir, 'mimamori.db'));
    onClose('store', () => store.close());

    // History: an external InfluxDB, or influxd as a managed child process.
    let influxUrl = config.influx.url;
    if (!influxUrl) {
      const influxd = await startManagedInfluxd({ dataDir: config.dataDir, influxdPath: config.influx.influxdPath, logger: logger.child({ part: 'influxd' }) });
      onClose('influxd', () => influxd.close());
      influxUrl = influxd.url;
    }
    const influxOpts = influxClientOptions(influxUrl, config);
    try {
      await ensureSchema(new InfluxDB(influxOpts), config.influx.database);
    } catch (err) {
      // The hub still runs: history is buffered on disk until InfluxDB answers.
      logger.warn({ err: (err as Error).message }, 'InfluxDB schema not ready; history will be buffered');
    }
    const historyOpts: Parameters<typeof createHistoryWriter>[0] = {
      url: influxUrl, database: config.influx.database, bufferDir: join(config.dataDir, 'history-buffer'),
      logger: logger.child({ part: 'history' }), batchSize: config.influx.batchSize, flushIntervalMs: config.influx.flushIntervalMs,
    };
    if (config.influx.username) historyOpts.username = config.influx.username;
    if (config.influx.password) historyOpts.password = config.influx.password;
    const history = await createHistoryWriter(historyOpts);
    onClose('history', () => history.close());

    // The HTTP server starts early: its URL is where Twilio sends delivery receipts.
    // Filled in as the parts start; the HTTP routes answer 503 until then.
    const started: { hub?: Hub; notifier?: Notifier } = {};
    let statusPage: StatusPage | undefined;
    if (opts.statusPage !== false) {
      const spOpts: Parameters<typeof startStatusPage>[0] = { hub: () => started.hub, notifier: () => started.notifier, host: config.host, port: config.http.port, logger: logger.child({ part: 'status-page' }), clock };
      if (config.http.publicUrl) spOpts.publicUrl = config.http.publicUrl;
      statusPage = await startStatusPage(spOpts);
      const sp = statusPage;
      onClose('status-page', () => sp.close());
    }
    const receiptsUrl = statusPage ? new URL(statusCallbackPath, config.http.publicUrl ?? statusPage.url).href : undefined;

    // SMS: real Twilio with credentials, otherwise the local Twilio-compatible server.
    let localTwilio: LocalTwilio | undefined;
    let twilioClient;
    if (config.twilio.accountSid && config.twilio.authToken) {
      twilioClient = createTwilioClient({ accountSid: config.twilio.accountSid, authToken: config.twilio.authToken });
    } else {
      localTwilio = await startLocalTwilio({ port: config.twilio.localPort, recordFile: join(config.dataDir, 'twilio-messages.ndjson'), logger: logger.child({ part: 'local-twilio' }), clock });
      const lt = localTwilio;
      onClose('local-twilio', () => lt.close());
      twilioClient = createTwilioClient({ accountSid: lt.accountSid, authToken: lt.authToken, baseUrl: lt.url });
      logger.info({ url: lt.url }, 'no Twilio credentials: SMS goes to the local Twilio-compatible server');
    }
    // Real Twilio can only call back a public URL; locally the status page's own URL works.
    const callbackUrl = localTwilio || config.http.publicUrl ? receiptsUrl : undefined;
    const sms = createSmsChannel({ client: twilioClient, from: config.twilio.from, logger: logger.child({ part: 'sms' }), ...(callbackUrl ? { statusCallbackUrl: callbackUrl } : {}) });
    const notifierOpts: Parameters<typeof createNotifier>[0] = { store, logger: logger.child({ part: 'notifier' }), clock, sms, history };
    if (config.operatorPhone) notifierOpts.operatorPhone = config.operatorPhone;
    const notifier = await createNotifier(notifierOpts);
    started.notifier = notifier;
    onClose('notifier', () => notifier.close());

    // Findings are unsubscribed last, after the rule engine has closed.
    const subs: Subscription[] = [];
    onClose('findings', async () => { for (const s of subs) s.unsubscribe(); });

    // Rules: per-home rule sets and time zones from the store.
    const timezones = new Map((await store.listHomes()).map((h) => [h.id, h.timezone] as const));
    const engine = await createRuleEngine({
      clock, logger: logger.child({ part: 'rules' }), store,
      rulesFor: (home) => store.getRuleConfig(home),
      timezoneFor: (home) => {
        const tz = timezones.get(home);
        if (tz === undefined) void store.getHome(home).then((h) => { if (h) timezones.set(home, h.timezone); });
        return tz ?? 'Asia/Tokyo';
      },
    });
    onClose('rules', () => engine.close());

    const recent: Finding[] = [];
    subs.push(engine.findings.subscribe((finding) => {
      recent.push(finding);
      if (recent.length > 200) recent.shift();
      const log = finding.state === 'raised' ? (finding.severity === 'critical' ? logger.warn.bind(logger) : logger.info.bind(logger)) : logger.info.bind(logger);
      log({ home: finding.home, rule: finding.rule, severity: finding.severity, state: finding.state, message: finding.message.en }, `finding ${finding.state}: ${finding.message.en}`);
      // Alert path first; history is fire-and-forget and buffers itself.
      notifier.handleFinding(finding).catch((err: unknown) => logger.error({ err, rule: finding.rule, home: finding.home }, 'notifier failed on a finding'));
      history.writeFinding(finding);
    }));

    // MQTT broker and the hub's own authenticated ingest client. Devices are let in only
    // while ingest is subscribed, so no event is acknowledged that the hub cannot receive.
    const broker = await createBroker({ ...config.broker, host: config.host, dataDir: config.dataDir, store, logger: logger.child({ part: 'broker' }), clock, persistence: 'level', requireService: 'ingest' });
    const mqttUrl = `mqtt://${config.host}:${broker.ports.tcp}`;
    let ingest: Ingest;
    try {
      const ingestCreds = await provisionService(store, 'ingest');
      ingest = await createIngest({ url: mqttUrl, username: ingestCreds.username, password: ingestCreds.secret, store, logger: logger.child({ part: 'ingest' }), clock });
    } catch (err) {
      await broker.close();
      throw err;
    }
    const readings = ingest.readings.subscribe((reading) => {
      engine.ingest(reading);
      history.writeReading(reading);
    });
    // Shutdown runs in reverse: the broker first (no more device traffic; what it accepted is
    // flushed to ingest), then ingest (finishes what it received), then the readings flow.
    onClose('readings', async () => readings.unsubscribe());
    const ingestRef = ingest;
    onClose('ingest', () => ingestRef.close());
    onClose('broker', () => broker.close());

    const hub: Hub = {
      config, store, broker, ingest, engine, history, notifier, influxUrl, mqttUrl,
      recentFindings: () => [...recent],
      close: closeAll,
    };
    if (localTwilio) hub.localTwilio = localTwilio;
    if (statusPage) hub.statusPage = statusPage;
    started.hub = hub;
    return hub;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function influxClientOptions(url: string, config: Config) {
  const u = new URL(url);
  const out: { host: string; port: number; protocol: 'http' | 'https'; database: string; username?: string; password?: string } = {
    host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 8086)), protocol: u.protocol === 'https:' ? 'https' : 'http', database: config.influx.database,
  };
  if (config.influx.username) out.username = config.influx.username;
  if (config.influx.password) out.password = config.influx.password;
  return out;
}
