/**
 * The hub's composition root (the front door of hub/; cli/ starts it): wires broker → ingest → rules → (history,
 * notifier with escalation and channels) and the two HTTP servers — the web
 * app for people, and the hub endpoints (status page, Twilio webhooks,
 * e-mail acknowledgement links) — from one validated configuration.
 *
 * The alert path (rules → notifier) never waits on the history path
 * (InfluxDB). Shutdown runs in reverse order of `onClose` registration, and
 * the order is deliberate: the broker stops first (no more device traffic;
 * what it accepted is flushed to ingest), then ingest, then the reading flow,
 * the rule engine, the notifier, the servers, history, influxd, the store.
 */
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Subject, type Subscription } from 'rxjs';
import { clusterMode, secureCookiesFor, type Config } from '../core/config.js';
import { systemClock, type Clock, type WallClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import type { Finding } from '../core/findings.js';
import type { Reading } from '../core/events.js';
import { newId } from '../core/ids.js';
import { isFenced, MimamoriError } from '../core/errors.js';
import { toLocalIso } from '../core/time.js';
import { createBroker, type Broker } from '../broker/index.js';
import { createInboxReader, createIngest, type Ingest } from '../broker/index.js';
import { provisionService } from '../broker/index.js';
import { createRuleEngine, type RuleEngine } from '../rules/index.js';
import { createHistory, type HistoryWriter, type ManagedInfluxd } from '../history/index.js';
import { hubHealth, hubHome, influxdTroubleFinding, influxdTroubleType, type HubHealth } from './health.js';
import { createClusterParts, nodeServiceName, type HubCluster } from './cluster.js';
import { createNotifier, defaultResolveOnClear, type Notifier } from '../notifier/index.js';
import { remindCaregivers, tellCaregiversCancelled } from './checkin-reminders.js';
import type { LocalLine, LocalPush, LocalSmtp, LocalTwilio } from '../notifier/index.js';
import { answerPushAction, createPushChannel, keptVapidKeys, startLocalPush, subscribePush, unsubscribePush } from '../notifier/index.js';
import { issueLineLinkCode, lineWebhook } from '../notifier/index.js';
import { createLineChannel } from '../notifier/index.js';
import { createSmsChannel } from '../notifier/index.js';
import { createVoiceChannel } from '../notifier/index.js';
import { createEmailChannel } from '../notifier/index.js';
import { createTabletChannel } from '../notifier/index.js';
import { createLiveBus, createLiveChannel, type LiveBus } from '../notifier/index.js';
import { twilioWebhooks, defaultWebhookPaths } from '../notifier/index.js';
import { ackLinkRoutes, auditLedger } from '../notifier/index.js';
import { startStatusPage, statusCallbackPath, type StatusPage } from '../dashboards/index.js';
import { createWebApp, type WebApp } from '../dashboards/index.js';
import { createAuth } from '../dashboards/index.js';
import { createFlows, createFlowsBridge, createOperatorVerifier, type Flows } from '../flows/index.js';
import type { AlertRecord } from '../flows/index.js';
import type { InfluxBackupSource } from '../backup/index.js';
import { scheduleDailyBackups, writeInfluxdRunFile } from './backups.js';
import { iceConfig, lateResponder, startLine, startSmtp, startTwilio } from './notifier.js';
import { keptSecret } from './secrets.js';
import { openStore } from './store.js';
import type { OnClose } from './on-close.js';

export interface HubOptions {
  config: Config;
  logger: Logger;
  /**
   * The hub's clock: the time readings happen in and the rules, the alert
   * path and history count in. In the demo it is the street's sped-up
   * simulated time (cli/demo.ts); otherwise the wall clock.
   */
  clock: Clock;
  /**
   * Wall-clock time for what people and their devices live in: TOTP, sign-in
   * and device lockouts, sessions, video ring timeouts, check-in schedules
   * (default `systemClock`). Never the demo's sped-up clock: the type refuses it.
   */
  wallClock?: WallClock;
  /** Serve the web app and the hub endpoints (default true). */
  http?: boolean;
}

export interface Hub {
  config: Config;
  store: Store;
  broker: Broker;
  ingest: Ingest;
  engine: RuleEngine;
  history: HistoryWriter;
  notifier: Notifier;
  live: LiveBus;
  /** Present when no Twilio credentials are configured. */
  localTwilio?: LocalTwilio;
  /** Present when no SMTP server is configured. */
  localSmtp?: LocalSmtp;
  /** Present when no LINE credentials are configured. */
  localLine?: LocalLine;
  /** The local web push service (config `push.localService`, on by default): pushes to its subscriptions are recorded decrypted. */
  localPush?: LocalPush;
  /** Hub endpoints: status page, Twilio webhooks, acknowledgement links. */
  statusPage?: StatusPage;
  webApp?: WebApp;
  /** The embedded Node-RED, served at `{webUrl}/flows/` (absent without the web app or when disabled). */
  flows?: Flows;
  /** Base URL of the web app. */
  webUrl?: string;
  influxUrl: string;
  /** The supervised influxd, when the hub runs its own. */
  influxd?: ManagedInfluxd;
  mqttUrl: string;
  /** Puts a reading made inside the hub (the tablet page's buttons) on the same path as device events. */
  acceptReading(reading: Reading): void;
  /** Findings seen since start (newest last, bounded). */
  recentFindings(): Finding[];
  /** Health states of every long-lived part (no personal data: served publicly at `/health`). */
  health(): HubHealth;
  /** In cluster mode (docs/scale.md): this node's shared parts and the homes it runs. */
  cluster?: HubCluster;
  close(): Promise<void>;
}

/** Starts every part of the hub; on a failure part-way, closes what had started. */
export async function startHub(opts: HubOptions): Promise<Hub> {
  const { config, logger, clock } = opts;
  const wallClock = opts.wallClock ?? systemClock;
  const serveHttp = opts.http !== false;
  const closers: Array<{ name: string; close: () => Promise<unknown> }> = [];
  const onClose: OnClose = (name, close) => { closers.unshift({ name, close }); };
  const closeAll = async () => {
    for (const c of closers.splice(0)) {
      try { await c.close(); } catch (err) { logger.warn({ err, part: c.name }, 'error while closing'); }
    }
  };

  try {
    const { store, totpSeedKey } = await openStore(config, wallClock, logger, onClose);
    // Cluster mode (docs/scale.md, hub/cluster.ts): shared throttles, live feed, video, broker, home leases.
    const cluster = clusterMode(config) ? await createClusterParts({ config, logger, wallClock }) : undefined;
    if (cluster) {
      onClose('cluster', () => cluster.close());
      onClose('broker cluster', () => cluster.broker.close());
    }

    // History: an external InfluxDB, or influxd as a managed child process (history/index.ts).
    /** Findings about the hub itself (set once the finding path exists). */
    const hubFindings: { emit?: (f: Finding) => void } = {};
    const historyPart = await createHistory({
      dataDir: config.dataDir, influx: config.influx, store,
      // A managed influxd that keeps dying is a finding for the operator.
      onInfluxdTrouble: (trouble) => hubFindings.emit?.(influxdTroubleFinding('raised', clock.now(), trouble.exits)),
      onInfluxdRecovered: () => hubFindings.emit?.(influxdTroubleFinding('cleared', clock.now())),
    }, clock, logger);
    onClose('history', () => historyPart.close());
    const history = historyPart.writer;
    const influxUrl = historyPart.url;
    const managedInfluxd = historyPart.influxd;
    let backupInflux: InfluxBackupSource | undefined = config.backup.influxRpc
      ? { rpcAddress: config.backup.influxRpc, database: config.influx.database, influxdPath: config.influx.influxdPath } : undefined;
    if (managedInfluxd) {
      // `mimamori backup` run beside the hub finds this influxd through its run file (issue 15).
      const removeRunFile = writeInfluxdRunFile(config.dataDir, managedInfluxd);
      onClose('influxd run file', async () => removeRunFile());
      backupInflux = { rpcAddress: managedInfluxd.rpcAddress, database: config.influx.database, influxdPath: config.influx.influxdPath };
    }

    // Alert changes go to history and, live, to every dashboard watching the home.
    const live = createLiveBus({ logger: logger.child({ part: 'live' }) });
    // In a cluster, this node's live events go to every node's open pages through Redis.
    // A relay, not a viewer: the live channel counts only pages open on this node (a page on
    // another node does not make a notification "seen" here, and the person's next channel is tried).
    if (cluster) live.subscribe('*', (e) => { cluster.live.publish(e).catch((err: unknown) => logger.warn({ err, type: e.type }, 'live event not shared')); }, { relay: true });
    /** Alert changes for the flows' `alert in` nodes (flows/bridge.ts). */
    const flowAlerts = new Subject<AlertRecord>();
    const alertSink: Parameters<typeof createNotifier>[0]['history'] = {
      writeAlert(a) {
        history.writeAlert(a);
        flowAlerts.next(a);
        live.publish(a.homeId, { type: `alert.${a.status}`, alertId: a.id, at: a.at });
      },
      writeNotification: (n) => history.writeNotification(n),
    };

    const { localTwilio, twilioClient, twilioToken } = await startTwilio(config, logger, clock, onClose);
    const { localLine, lineCreds, lineClient } = await startLine(config, logger, clock, onClose);

    // Web push: the hub's VAPID keys are made on first start and kept with its secrets; the local push
    // service records (decrypted) what is sent to its own subscriptions — real browsers' endpoints are their vendors'.
    const vapidKeys = keptVapidKeys(join(config.dataDir, 'vapid-keys.json'));
    let localPush: LocalPush | undefined;
    if (config.push.localService) {
      localPush = await startLocalPush({ recordFile: join(config.dataDir, 'push-messages.ndjson'), logger: logger.child({ part: 'local-push' }) });
      const lp = localPush;
      onClose('local-push', () => lp.close());
      logger.info({ url: lp.url, record: join(config.dataDir, 'push-messages.ndjson') }, 'local web push service running (demo and tests; real browsers use their vendor\'s push service)');
    }

    // People act on alerts through the notifier's responder; the HTTP servers start before it exists.
    const started: { hub?: Hub; notifier?: Notifier } = {};
    const responder = lateResponder(() => started.notifier?.responder);
    const ackSecret = config.ackLinkSecret ?? keptSecret(join(config.dataDir, 'ack-link.secret'));

    // Hub endpoints: status page, delivery receipts, SMS replies, keypresses, e-mail links.
    let statusPage: StatusPage | undefined;
    const statusSessions = createAuth({ store, wallClock, totpSeedKey });
    if (serveHttp) {
      const sp: Parameters<typeof startStatusPage>[0] = {
        hub: () => started.hub, notifier: () => started.notifier, host: config.host, port: config.http.hooksPort,
        logger: logger.child({ part: 'hub-endpoints' }), clock,
        // The full status needs the web app's operator session (its cookie reaches this port on the same host).
        isOperatorSession: (token) => statusSessions.isOperatorSession(token),
        routes: async (app) => {
          const webhookOpts: Parameters<typeof twilioWebhooks>[1] = {
            authToken: twilioToken, responder, logger: logger.child({ part: 'twilio-webhooks' }),
            receipts: { handleStatusCallback: (req) => started.notifier?.handleStatusCallback(req) ?? Promise.resolve({ accepted: false }) },
            languageForPhone: async (phone) => (await store.findContactsByPhone(phone))[0]?.language,
          };
          if (config.http.publicUrl) webhookOpts.publicUrl = config.http.publicUrl;
          await app.register(twilioWebhooks, webhookOpts);
          await app.register(ackLinkRoutes, { secret: ackSecret, responder, ledger: auditLedger(store), clock, logger: logger.child({ part: 'ack-links' }) });
          await app.register(lineWebhook, { channelSecret: lineCreds.channelSecret, client: lineClient, store, responder, clock, logger: logger.child({ part: 'line-webhook' }) });
        },
      };
      if (config.http.publicUrl) sp.publicUrl = config.http.publicUrl;
      statusPage = await startStatusPage(sp);
      const page = statusPage;
      onClose('hub-endpoints', () => page.close());
    }
    const hooksUrl = (config.http.publicUrl ?? statusPage?.url ?? '').replace(/\/+$/, '');
    // Real Twilio can only call back a public URL; locally the hub endpoints' own URL works.
    const callbacks = serveHttp && (localTwilio || config.http.publicUrl) ? hooksUrl : undefined;
    if (localTwilio && callbacks) localTwilio.setInboundSmsUrl(`${callbacks}${defaultWebhookPaths.sms}`);
    // The local LINE server learns the webhook through the SDK, as LINE's console would set it (real LINE: set it in the console).
    if (localLine && callbacks) await lineClient.setWebhookEndpoint({ endpoint: `${callbacks}/line/webhook` });

    const { localSmtp, smtp } = await startSmtp(config, logger, onClose);

    // The broker starts now so the tablet channel can connect; devices wait until ingest listens.
    const broker = await createBroker({
      ...config.broker, host: config.host, dataDir: config.dataDir, store, logger: logger.child({ part: 'broker' }), clock: wallClock, securityClock: wallClock,
      ...(cluster ? { cluster: cluster.broker.aedesOptions, loginThrottle: cluster.brokerThrottle } : { persistence: 'level' }), requireIngest: true,
    });
    let brokerClosed = false;
    const closeBroker = async () => { if (!brokerClosed) { brokerClosed = true; await broker.close(); } };
    onClose('broker (early exit)', closeBroker);
    const mqttUrl = `mqtt://${config.host}:${broker.ports.tcp}`;
    // One service account per node: nodes never overwrite each other's secret.
    const tabletService = cluster ? nodeServiceName('notifier', cluster.nodeId) : 'notifier';
    const tabletCreds = await provisionService(store, tabletService);
    const tabletClient = await mqtt.connectAsync(mqttUrl, { username: tabletCreds.username, password: tabletCreds.secret, clientId: `mimamori-${tabletService}`, reconnectPeriod: 1000 });
    onClose('tablet client', () => tabletClient.endAsync());

    const channelLog = (part: string) => logger.child({ part });
    const sms = createSmsChannel({ client: twilioClient, from: config.twilio.from, logger: channelLog('sms'), ...(callbacks ? { statusCallbackUrl: `${callbacks}${statusCallbackPath}` } : {}) });
    const channels = [
      // Voice needs the hub endpoints for its keypresses; without them the policy falls back to the next channel.
      ...(hooksUrl ? [createVoiceChannel({ client: twilioClient, from: config.twilio.from, logger: channelLog('voice'), gatherActionUrl: `${hooksUrl}${defaultWebhookPaths.gather}`, ...(callbacks ? { statusCallbackUrl: `${callbacks}${defaultWebhookPaths.voiceStatus}` } : {}) })] : []),
      createEmailChannel({ smtp, from: config.email.from, logger: channelLog('email'), clock, ...(hooksUrl ? { ackLinks: { secret: ackSecret, baseUrl: `${hooksUrl}/ack` } } : {}) }),
      createTabletChannel({ client: tabletClient, logger: channelLog('tablet'), clock }),
      createLiveChannel({ bus: live, clock }),
      createLineChannel({ client: lineClient, logger: channelLog('line') }),
      createPushChannel({
        vapid: { subject: config.push.subject, ...vapidKeys }, logger: channelLog('push'), clock, actions: { secret: ackSecret },
        ...(localPush ? { ca: localPush.ca } : {}),
        // RFC 8030 §7.3: a subscription the push service no longer has is removed.
        onGone: async (address) => { await store.removeContactAddress({ kind: 'push', address }); },
      }),
    ];
    const notifierOpts: Parameters<typeof createNotifier>[0] = {
      store, logger: logger.child({ part: 'notifier' }), clock, sms, channels, history: alertSink,
      resolveOnClear: [...defaultResolveOnClear, influxdTroubleType],
      summarizeDay: historyPart.queries.summarizeDay,
    };
    if (config.operatorPhone) notifierOpts.operatorPhone = config.operatorPhone;
    // A resolved alert re-arms the rule that raised it (a second help press opens a new alert).
    const rearm: { engine?: RuleEngine } = {};
    notifierOpts.onAlertEnded = (ended) => { rearm.engine?.alertEnded(ended.homeId, ended.rule); };
    // In a cluster, escalation steps, held clears and digests run on the node that runs the home (fenced, jobs/).
    if (cluster) { notifierOpts.nodeId = cluster.jobOwner; notifierOpts.ownership = cluster.ownership; notifierOpts.rateLimiter = cluster.budget; }
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
      // A cluster node takes homes on one by one, with their leases.
      restoreAll: !cluster,
      // …and saves a home's state only while its fence names this node.
      ...(cluster ? { fencedFor: cluster.nodeId } : {}),
      rulesFor: (home) => store.getRuleConfig(home),
      // A home with no saved routine learns it again from what InfluxDB kept.
      routineHistory: historyPart.queries.routineReadings,
      timezoneFor: (home) => {
        const tz = timezones.get(home);
        if (tz === undefined) void store.getHome(home).then((h) => { if (h) timezones.set(home, h.timezone); });
        return tz ?? 'Asia/Tokyo';
      },
    });
    onClose('rules', () => engine.close());
    rearm.engine = engine;

    const recent: Finding[] = [];
    /** Every finding — built-in rules, learned rules, flows, missed check-ins — takes this one path. */
    const onFinding = (finding: Finding) => {
      // In a cluster only the home's owner raises its alerts (a missed check-in is seen by every node).
      if (cluster && finding.home !== hubHome && !cluster.owns(finding.home)) {
        logger.debug({ home: finding.home, rule: finding.rule }, 'finding left to the home\'s owner');
        return Promise.resolve({ created: false });
      }
      recent.push(finding);
      if (recent.length > 200) recent.shift();
      // An urgent alert stands out on a terminal (a banner line, core/log-pretty.ts).
      const urgent = finding.state === 'raised' && finding.severity === 'critical';
      const fields = { home: finding.home, rule: finding.rule, severity: finding.severity, state: finding.state, message: finding.message.en };
      if (urgent) logger.warn({ ...fields, notice: 'alert' }, `finding ${finding.state}: ${finding.message.en}`);
      else logger.info(fields, `finding ${finding.state}: ${finding.message.en}`);
      history.writeFinding(finding);
      live.publish(finding.home, { type: `finding.${finding.state}`, at: finding.at });
      // Alert path; history above is fire-and-forget and buffers itself.
      return notifier.handleFinding(finding);
    };
    let notifierLastFailure: number | undefined;
    const emitFinding = (finding: Finding) => {
      onFinding(finding).catch((err: unknown) => {
        notifierLastFailure = Date.now();
        logger.error({ err, rule: finding.rule, home: finding.home }, 'notifier failed on a finding');
      });
    };
    const findingsSub = engine.findings.subscribe(emitFinding);
    subs.push(findingsSub);
    hubFindings.emit = emitFinding;

    /** Every valid reading, from a device or made inside the hub, takes this one path. */
    const allReadings = new Subject<Reading>();
    onClose('reading stream', async () => allReadings.complete());
    const processReading = (reading: Reading) => {
      allReadings.next(reading);
      engine.ingest(reading);
      history.writeReading(reading);
      notifier.handleReading(reading).catch((err: unknown) => {
        notifierLastFailure = Date.now();
        logger.error({ err, home: reading.home }, 'notifier failed on a reading');
      });
    };
    // The ingest, attached to the broker in-process: a device's PUBACK waits for the batch holding its
    // message to commit (docs/broker.md); devices are let in only while it is attached.
    const ingestLog = logger.child({ part: 'ingest' });
    let ingest: Ingest;
    let acceptReading = processReading;
    if (cluster) {
      // In a cluster (docs/scale.md, "Ingest by ownership") the node a device is connected to commits its message
      // to the inbox; the home's owner reads it from there and runs it. A tablet button takes the same way.
      const inbox = createInboxReader({
        store, node: cluster.nodeId, history, clock, logger: ingestLog,
        run: (r) => { if (!cluster.running(r.home)) return false; processReading(r); return true; },
      });
      onClose('inbox reader', () => inbox.close());
      const ring = (homes: Iterable<string>) => { for (const h of homes) { if (cluster.running(h)) { inbox.wake(); return; } } };
      const offs = [
        cluster.bell.onRing(ring),
        cluster.onRunning(() => inbox.readNow()),
        cluster.ownership.onGained((home) => { inbox.gained(home).catch((err: unknown) => ingestLog.error({ err, home }, 'inbox rows of a former owner not replayed')); }),
      ];
      onClose('inbox bell', async () => { for (const off of offs) off(); });
      const handOff = (homes: ReadonlySet<string>) => { ring(homes); cluster.bell.ring(homes); };
      ingest = await createIngest({ broker, store, logger: ingestLog, clock, history, handOff });
      acceptReading = (reading) => {
        const eventId = reading.kind === 'heartbeat' ? undefined : reading.id;
        store.commitIngestBatch([{ homeId: reading.home, deviceId: reading.device, ...(eventId !== undefined ? { eventId, eventAt: reading.at } : {}), outbox: JSON.stringify(reading) }], clock.now(), { forOwner: true })
          .then(() => handOff(new Set([reading.home])), (err: unknown) => logger.error({ err, home: reading.home }, 'reading not put in the inbox for its home\'s owner'));
      };
    } else {
      ingest = await createIngest({ broker, store, logger: ingestLog, clock, history });
    }
    onClose('ingest', () => ingest.close());
    onClose('broker', closeBroker);

    // The web app for people.
    let webApp: WebApp | undefined;
    let webUrl: string | undefined;
    if (serveHttp) {
      webApp = await createWebApp({
        store, clock, wallClock, logger: logger.child({ part: 'web' }), responder, engine,
        live: cluster ? cluster.live : live,
        ...(cluster ? { loginThrottle: cluster.webThrottle } : {}),
        history: historyPart.queries,
        escalation: {
          get: (homeId) => notifier.getEscalationPolicy(homeId),
          set: async (homeId, policy) => {
            try { await notifier.setEscalationPolicy(homeId, policy); return { errors: [] }; } catch (err) { return { errors: [(err as Error).message] }; }
          },
        },
        // Each person's own settings (/account/notifications): through the notifier, read at each decision.
        notifications: {
          channelNames: () => notifier.channelNames(),
          setPreferences: async (contactId, prefs, actor) => {
            try { await notifier.setContactPreferences(contactId, prefs, actor); return { errors: [] }; } catch (err) { return { errors: [(err as Error).message] }; }
          },
          reach: (contactId) => notifier.reach(contactId),
          sendTest: (contactId, channel, actor) => notifier.sendTest(contactId, channel, actor),
          retryNotification: (alertId, notificationId, actor) => notifier.retryNotification(alertId, notificationId, actor),
          setLanguage: (contactId, language, actor) => notifier.setContactLanguage(contactId, language, actor),
          lineLinkCode: (contactId) => issueLineLinkCode(store, contactId, clock.now()),
          push: {
            publicKey: vapidKeys.publicKey,
            subscribe: async (contactId, subscription, label, actor) => {
              try { await subscribePush(store, { contactId, subscription, actor, now: clock.now(), ...(label ? { label } : {}) }); return { errors: [] }; } catch (err) { return { errors: [(err as Error).message] }; }
            },
            unsubscribe: (contactId, endpoint, actor) => unsubscribePush(store, { contactId, endpoint, actor, now: clock.now() }),
            action: (token, action) => answerPushAction({ secret: ackSecret, responder, clock, logger: logger.child({ part: 'push-action' }) }, token, action),
          },
        },
        publishButton: async (home, press) => {
          const home_ = await store.getHome(home);
          if (!home_) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `home ${home}`);
          const at = clock.now();
          acceptReading({ kind: 'button', press, id: `tablet-${newId(at)}`, ts: toLocalIso(at, home_.timezone), home, device: 'tablet', at });
        },
        photosDir: join(config.dataDir, 'photos'), totpSeedKey, ...(config.flows.enabled ? { flowsEditorPath: '/flows' } : {}),
        secureCookies: secureCookiesFor(config.http),
        video: {
          ice: iceConfig(config, twilioClient),
          // A missed check-in is a finding like any other: same alert lifecycle and escalation.
          raiseFinding: onFinding,
          // A failed SMS is logged, not retried; a fence refused (another node runs the home now) ends the job as the new owner's.
          remindCaregiver: (r) => remindCaregivers({ store, sms, wallClock, logger }, r).catch((err: unknown) => {
            if (isFenced(err)) throw err;
            logger.error({ err, home: r.homeId }, 'check-in reminder failed');
          }),
          // The cancel itself stands whatever happens to these SMS (logged, not retried, like the reminders).
          tellCancelled: (r) => tellCaregiversCancelled({ store, sms, wallClock, logger }, r).catch((err: unknown) => {
            logger.error({ err, home: r.homeId }, 'check-in cancel notice failed');
          }),
          writeCallQuality: (q) => history.writeCallQuality(q),
          ...(cluster ? { exchange: cluster.video, jobs: { owner: `${cluster.jobOwner}:wall`, ownership: cluster.ownership } } : {}),
        },
      });
      const wa = webApp;
      onClose('web app', () => wa.close());
      webUrl = await webApp.listen(config.host, config.http.port).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRINUSE' || config.http.port === 0) throw err;
        throw new MimamoriError('MIMAMORI_ERR_CONFIG', `port ${config.http.port} is in use: set MIMAMORI_HTTP_PORT to a free port`);
      });
    }

    // ── flows (issue 6): Node-RED at /flows on the web app, with the project's nodes ──
    // A flow's finding takes the built-in rules' path; Node-RED failing to start never stops the hub.
    let flows: Flows | undefined;
    if (webApp && config.flows.enabled) {
      const bridge = createFlowsBridge({
        store, clock, logger: logger.child({ part: 'flows' }),
        readings: allReadings, findings: engine.findings, alertChanges: flowAlerts,
        handleFinding: onFinding,
        channels: { sms, ...(channels.find((c) => c.name === 'email') ? { email: channels.find((c) => c.name === 'email')! } : {}) },
      });
      onClose('flows bridge', async () => bridge.close());
      try {
        flows = await createFlows({
          dataDir: config.dataDir, logger: logger.child({ part: 'flows' }), clock, server: webApp.app.server,
          credentialSecret: config.flows.credentialSecret ?? keptSecret(join(config.dataDir, 'node-red-credential.secret')),
          api: bridge, auth: createOperatorVerifier({ store, wallClock, totpSeedKey }), safeMode: config.flows.safeMode,
        });
        const fl = flows;
        onClose('flows', () => fl.close());
      } catch (err) {
        logger.error({ err }, 'flows (Node-RED) not started; the hub runs without them');
      }
    }
    // ── end flows ──

    // Readings start flowing only now, with every listener in place (the rules, the notifier, the flows): until
    // then the ingest holds device messages unacknowledged, so a device's first events after a restart reach
    // the flows too.
    const readings = ingest.readings.subscribe(acceptReading);
    onClose('readings', async () => readings.unsubscribe());
    if (cluster) {
      // Leases last: a home acquired now has its ingest and rules ready. Closed before the rules, which save each home let go.
      const leases = await cluster.startLeases(async () => (await store.listHomes()).map((h) => h.id), engine, store);
      onClose('home leases', async () => { await leases.close(); await cluster.idle(); });
    }

    // ── backups (issue 15): the daily backup, when backup.dailyAt and targets are configured ──
    const backups = scheduleDailyBackups({ config, store, clock, logger: logger.child({ part: 'backup' }), ...(backupInflux ? { influx: backupInflux } : {}) });
    onClose('backups', async () => { backups.stop(); await backups.idle(); });

    const hub: Hub = {
      config, store, broker, ingest, engine, history, notifier, live, influxUrl, mqttUrl,
      acceptReading,
      recentFindings: () => [...recent],
      health: () => hubHealth({
        broker, ingest, history, notifier: true, now: Date.now,
        rules: () => !findingsSub.closed,
        notifierLastFailure: () => notifierLastFailure,
        ...(managedInfluxd ? { influxd: managedInfluxd } : {}),
        ...(webApp ? { web: () => webApp.app.server.listening, video: true } : {}),
        ...(flows ? { flows } : {}),
      }),
      close: closeAll,
    };
    if (localTwilio) hub.localTwilio = localTwilio;
    if (localSmtp) hub.localSmtp = localSmtp;
    if (localLine) hub.localLine = localLine;
    if (localPush) hub.localPush = localPush;
    if (statusPage) hub.statusPage = statusPage;
    if (webApp) hub.webApp = webApp;
    if (flows) hub.flows = flows;
    if (managedInfluxd) hub.influxd = managedInfluxd;
    if (webUrl) hub.webUrl = webUrl;
    if (cluster) hub.cluster = cluster;
    started.hub = hub;
    return hub;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

export { hubHealth, hubParts, influxdTroubleFinding, influxdTroubleType, type HubHealth, type HubPart, type PartHealth, type PartState } from './health.js';
export { influxdRunFile, nextDailyRun, scheduleDailyBackups, storeInPostgresNote, writeInfluxdRunFile, type DailyBackups } from './backups.js';
export { remindCaregivers, tellCaregiversCancelled } from './checkin-reminders.js';
