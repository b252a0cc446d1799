/**
 * Hub configuration: embedded defaults, overridden by an optional JSON file
 * (`MIMAMORI_CONFIG`) and then by environment variables. Validated once.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { MimamoriError } from './errors.js';

const port = z.number().int().min(0).max(65535);

export const configSchema = z.object({
  /** Everything the hub writes (SQLite, InfluxDB data, queues, certificates). */
  dataDir: z.string().default('data'),
  /**
   * The store on PostgreSQL (`postgres://user@host:port/db`); unset: the embedded SQLite file
   * dataDir/mimamori.db. See docs/store.md.
   */
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Several hub processes sharing the homes (docs/scale.md): on when
   * `redisUrl` is set (`MIMAMORI_REDIS_URL`, or `mimamori start --cluster`
   * with it). Needs `databaseUrl` (PostgreSQL): every node reads and writes one store.
   */
  cluster: z.object({
    /** The cluster's Redis (`redis://host:port/db`; a database of its own: the MQTT libraries' keys are unprefixed). */
    redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
    /** This node's name, unique in the cluster (default: host name and process id). */
    nodeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-" only, at most 64').optional(),
    /** Home lease lifetime and heartbeat period (cluster/leases.ts): a dead node's homes move within their sum. */
    leaseMs: z.number().int().min(200).default(15_000),
    heartbeatMs: z.number().int().min(100).default(5_000),
  }).prefault({}),
  /** Address the hub's listeners bind to. */
  host: z.string().default('127.0.0.1'),
  broker: z.object({
    tcpPort: port.default(1883),
    tlsPort: port.default(8883),
    wsPort: port.default(8083),
    /** PEM files; when absent a local CA and server certificate are generated under dataDir/tls. */
    tlsKeyFile: z.string().optional(),
    tlsCertFile: z.string().optional(),
    maxPacketSize: z.number().int().min(256).max(16 * 1024 * 1024).default(64 * 1024),
    /** Login throttle per (client id, source address): see docs/broker.md "Lockout". */
    lockout: z.object({
      maxFailures: z.number().int().min(1).default(5),
      windowMs: z.number().int().min(1000).default(15 * 60_000),
      /** First back-off after maxFailures; doubles per further failure up to maxLockMs. */
      lockMs: z.number().int().min(1000).default(60_000),
      maxLockMs: z.number().int().min(1000).default(15 * 60_000),
      /** Failures from one address (any client id) within windowMs before its logins are delayed, never refused. */
      addressMaxFailures: z.number().int().min(1).default(20),
      addressDelayMs: z.number().int().min(0).default(250),
      maxAddressDelayMs: z.number().int().min(0).max(10_000).default(4000),
    }).prefault({}),
  }).prefault({}),
  http: z.object({
    /** The web app for families, staff, caregivers, operators and the tablet. */
    port: port.default(8080),
    /** Hub endpoints: status page, Twilio webhooks, e-mail acknowledgement links. */
    hooksPort: port.default(8081),
    /** Add `Secure` to cookies (when served over HTTPS, e.g. behind a proxy); always on when `publicUrl` is https. */
    secureCookies: z.boolean().default(false),
    /** The URL Twilio and e-mail readers reach the hub endpoints at (behind a proxy); needed with real Twilio. */
    publicUrl: z.string().url().optional(),
  }).prefault({}),
  email: z.object({
    /** An SMTP server; when absent the hub runs a local SMTP server that keeps the mail (demo, tests). */
    host: z.string().optional(),
    port: port.default(587),
    secure: z.boolean().default(false),
    user: z.string().optional(),
    pass: z.string().optional(),
    from: z.string().default('見守り mimamori <mimamori@localhost>'),
  }).prefault({}),
  video: z.object({
    /** STUN servers for video calls, e.g. `stun:turn.example.jp:3478`. */
    stun: z.array(z.string()).default([]),
    /** TURN servers (coturn with `use-auth-secret`) and their shared secret; credentials are time-limited. */
    turnUrls: z.array(z.string()).default([]),
    turnSecret: z.string().min(16).optional(),
  }).prefault({}),
  /** Embedded Node-RED (flows/): the editor at /flows on the web app, for operator accounts. */
  flows: z.object({
    enabled: z.boolean().default(true),
    /** Encrypts the flows' stored credentials; generated and kept under dataDir when absent. */
    credentialSecret: z.string().min(16).optional(),
    /** Start with flows stopped (Node-RED's safe mode), to repair a flow that misbehaves. */
    safeMode: z.boolean().default(false),
  }).prefault({}),
  /** Signs one-time acknowledgement links in e-mail; generated and kept under dataDir when absent. */
  ackLinkSecret: z.string().min(16).optional(),
  /** Device messages the ingest refused (the dead-letter table, /operator/dead-letters): the newest kept per home. See docs/store.md. */
  deadLetters: z.object({
    keepPerHome: z.number().int().min(1).max(1_000_000).default(1000),
  }).prefault({}),
  /** The operator's phone for device-health alerts (E.164). */
  operatorPhone: z.string().regex(/^\+[1-9]\d{6,14}$/).optional(),
  influx: z.object({
    /** An external InfluxDB 1.x; when absent the hub runs `influxd` itself. */
    url: z.string().url().optional(),
    database: z.string().default('mimamori'),
    username: z.string().optional(),
    password: z.string().optional(),
    influxdPath: z.string().default('influxd'),
    batchSize: z.number().int().min(1).default(5000),
    flushIntervalMs: z.number().int().min(10).default(1000),
  }).prefault({}),
  twilio: z.object({
    /** Real Twilio when both are set; otherwise the local Twilio-compatible server. */
    accountSid: z.string().optional(),
    authToken: z.string().optional(),
    from: z.string().default('+815000000000'),
    localPort: port.default(0),
  }).prefault({}),
  /** LINE Messaging API (docs/channels.md): real LINE when both are set; otherwise the local LINE-compatible server. */
  line: z.object({
    channelAccessToken: z.string().optional(),
    channelSecret: z.string().optional(),
  }).prefault({}),
  /** Web push (docs/channels.md): the VAPID contact push services see, and whether the local push service runs (demo, tests). */
  push: z.object({
    /** `mailto:` or `https:` URI of whoever runs this hub (RFC 8292 `sub`). */
    subject: z.string().regex(/^(mailto:|https:\/\/)\S+$/, 'a mailto: or https: URI').default('mailto:mimamori-hub@example.invalid'),
    /** Start the local push service (records pushes to push-messages.ndjson) beside the real ones. */
    localService: z.boolean().default(true),
  }).prefault({}),
  /** Backups (backup/, docs/backup.md): where, how many, when, and where the passphrase is kept. */
  backup: z.object({
    /** Folders the archive is written to (outside the data folder; one may be a removable disk). */
    targets: z.array(z.string()).default([]),
    /** Generations kept in each target. */
    keep: z.number().int().min(1).max(100).default(3),
    /** The hub's daily backup time, HH:MM in `timezone`; absent: no scheduled backups. */
    dailyAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM').optional(),
    timezone: z.string().default('Asia/Tokyo'),
    /** A file holding the operator's passphrase, outside the data folder (e.g. on a key the operator keeps). */
    passphraseFile: z.string().optional(),
    /** Where snapshots are staged and test-restored; default the OS temp folder. */
    scratchDir: z.string().optional(),
    /** host:port of an external InfluxDB's RPC (backup) service; the managed influxd needs none. */
    influxRpc: z.string().optional(),
  }).prefault({}),
  demo: z.object({
    /** Simulated homes started by `npm start`; 0 turns the demo street off. */
    homes: z.number().int().min(0).max(1000).default(6),
    /** Simulated seconds per real second. */
    speed: z.number().min(1).max(100_000).default(1800),
    seed: z.number().int().default(20261121),
    /** The homes' sensors speak zigbee2mqtt to a local mosquitto and reach the hub through the device bridge (docs/devices.md). */
    viaBridge: z.union([z.boolean(), z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true')]).default(false),
  }).prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variables the hub reads, and where each lands in the config. */
export const envMap: Record<string, { path: string[]; type: 'string' | 'number' }> = {
  MIMAMORI_DATA_DIR: { path: ['dataDir'], type: 'string' },
  MIMAMORI_DATABASE_URL: { path: ['databaseUrl'], type: 'string' },
  MIMAMORI_LOG_LEVEL: { path: ['logLevel'], type: 'string' },
  MIMAMORI_REDIS_URL: { path: ['cluster', 'redisUrl'], type: 'string' },
  MIMAMORI_NODE_ID: { path: ['cluster', 'nodeId'], type: 'string' },
  MIMAMORI_LEASE_MS: { path: ['cluster', 'leaseMs'], type: 'number' },
  MIMAMORI_HEARTBEAT_MS: { path: ['cluster', 'heartbeatMs'], type: 'number' },
  MIMAMORI_HOST: { path: ['host'], type: 'string' },
  MIMAMORI_MQTT_PORT: { path: ['broker', 'tcpPort'], type: 'number' },
  MIMAMORI_MQTTS_PORT: { path: ['broker', 'tlsPort'], type: 'number' },
  MIMAMORI_WS_PORT: { path: ['broker', 'wsPort'], type: 'number' },
  MIMAMORI_TLS_KEY_FILE: { path: ['broker', 'tlsKeyFile'], type: 'string' },
  MIMAMORI_TLS_CERT_FILE: { path: ['broker', 'tlsCertFile'], type: 'string' },
  MIMAMORI_HTTP_PORT: { path: ['http', 'port'], type: 'number' },
  MIMAMORI_PUBLIC_URL: { path: ['http', 'publicUrl'], type: 'string' },
  MIMAMORI_HOOKS_PORT: { path: ['http', 'hooksPort'], type: 'number' },
  MIMAMORI_SMTP_HOST: { path: ['email', 'host'], type: 'string' },
  MIMAMORI_SMTP_PORT: { path: ['email', 'port'], type: 'number' },
  MIMAMORI_SMTP_USER: { path: ['email', 'user'], type: 'string' },
  MIMAMORI_SMTP_PASS: { path: ['email', 'pass'], type: 'string' },
  MIMAMORI_EMAIL_FROM: { path: ['email', 'from'], type: 'string' },
  MIMAMORI_ACK_LINK_SECRET: { path: ['ackLinkSecret'], type: 'string' },
  MIMAMORI_FLOWS_SECRET: { path: ['flows', 'credentialSecret'], type: 'string' },
  MIMAMORI_TURN_SECRET: { path: ['video', 'turnSecret'], type: 'string' },
  MIMAMORI_OPERATOR_PHONE: { path: ['operatorPhone'], type: 'string' },
  MIMAMORI_DEAD_LETTERS_PER_HOME: { path: ['deadLetters', 'keepPerHome'], type: 'number' },
  MIMAMORI_INFLUX_URL: { path: ['influx', 'url'], type: 'string' },
  MIMAMORI_INFLUX_DATABASE: { path: ['influx', 'database'], type: 'string' },
  MIMAMORI_INFLUX_USERNAME: { path: ['influx', 'username'], type: 'string' },
  MIMAMORI_INFLUX_PASSWORD: { path: ['influx', 'password'], type: 'string' },
  MIMAMORI_INFLUXD_PATH: { path: ['influx', 'influxdPath'], type: 'string' },
  TWILIO_ACCOUNT_SID: { path: ['twilio', 'accountSid'], type: 'string' },
  TWILIO_AUTH_TOKEN: { path: ['twilio', 'authToken'], type: 'string' },
  TWILIO_FROM: { path: ['twilio', 'from'], type: 'string' },
  LINE_CHANNEL_ACCESS_TOKEN: { path: ['line', 'channelAccessToken'], type: 'string' },
  LINE_CHANNEL_SECRET: { path: ['line', 'channelSecret'], type: 'string' },
  MIMAMORI_VAPID_SUBJECT: { path: ['push', 'subject'], type: 'string' },
  MIMAMORI_BACKUP_AT: { path: ['backup', 'dailyAt'], type: 'string' },
  MIMAMORI_BACKUP_PASSPHRASE_FILE: { path: ['backup', 'passphraseFile'], type: 'string' },
  MIMAMORI_BACKUP_INFLUX_RPC: { path: ['backup', 'influxRpc'], type: 'string' },
  MIMAMORI_DEMO_HOMES: { path: ['demo', 'homes'], type: 'number' },
  MIMAMORI_DEMO_SPEED: { path: ['demo', 'speed'], type: 'number' },
  MIMAMORI_DEMO_SEED: { path: ['demo', 'seed'], type: 'number' },
  MIMAMORI_DEMO_VIA_BRIDGE: { path: ['demo', 'viaBridge'], type: 'string' },
};

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/**
 * Builds the configuration from (in rising priority) defaults, the file named
 * by `MIMAMORI_CONFIG`, environment variables and `overrides`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput = {}): Config {
  let input: Record<string, unknown> = {};
  if (env.MIMAMORI_CONFIG) {
    try {
      input = JSON.parse(readFileSync(env.MIMAMORI_CONFIG, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new MimamoriError('MIMAMORI_ERR_CONFIG', `cannot read MIMAMORI_CONFIG=${env.MIMAMORI_CONFIG}: ${(err as Error).message}`);
    }
  }
  for (const [name, { path, type }] of Object.entries(envMap)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = type === 'number' ? Number(raw) : raw;
    if (type === 'number' && !Number.isFinite(value)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `${name} must be a number, got ${JSON.stringify(raw)}`);
    setPath(input, path, value);
  }
  const merged = deepMerge(input, overrides as Record<string, unknown>);
  return parseConfig(merged);
}

/**
 * Whether the web app's cookies carry `Secure`: when configured, and always
 * when the hub's public URL is https (a cookie that may travel over plain
 * HTTP to an https site is one a network can read).
 */
export function secureCookiesFor(http: Pick<Config['http'], 'secureCookies' | 'publicUrl'>): boolean {
  return http.secureCookies || (http.publicUrl !== undefined && new URL(http.publicUrl).protocol === 'https:');
}

/** Validates a configuration object, filling in defaults. */
export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const c = result.data.cluster;
  if (c.redisUrl !== undefined) {
    if (result.data.databaseUrl === undefined) {
      throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'cluster mode needs PostgreSQL: set MIMAMORI_DATABASE_URL (every node shares one store; an SQLite file cannot be shared) / クラスタ構成には PostgreSQL が必要です: MIMAMORI_DATABASE_URL を設定してください（SQLite ファイルはノード間で共有できません）');
    }
    if (c.leaseMs < 2 * c.heartbeatMs) {
      throw new MimamoriError('MIMAMORI_ERR_CONFIG', `cluster.leaseMs (${c.leaseMs}) must be at least twice cluster.heartbeatMs (${c.heartbeatMs}) / cluster.leaseMs は heartbeatMs の 2 倍以上にしてください`);
    }
  }
  return { ...result.data, dataDir: resolve(result.data.dataDir) };
}

/** Whether the configuration joins a cluster (docs/scale.md). */
export function clusterMode(config: Pick<Config, 'cluster'>): config is Pick<Config, 'cluster'> & { cluster: { redisUrl: string } } {
  return config.cluster.redisUrl !== undefined;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
      ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}
