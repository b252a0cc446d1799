/**
 * The relational store: homes, residents, contacts, devices, rule settings,
 * persisted rule state, event de-duplication, alerts, notifications and the
 * audit log, behind the ports of core/store-ports.ts. The implementation is
 * written once against a small SQL port (core/store-sql.ts): the embedded
 * SQLite default (better-sqlite3) lives here, PostgreSQL in core/store-pg.ts.
 * Both pass the contract suite in test/store/contract.ts (docs/store.md).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { migrations } from './migrations.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { MimamoriError } from './errors.js';
import { eventDay, eventDayOr, eventKey } from './events.js';
import { newId } from './ids.js';
import { genesisHash, trailColumns, trailHash, type TrailHead, type TrailKind } from './trail.js';
import type { Row, SqlDb, SqlQueries, SqlTx } from './store-sql.js';
import { addressKinds } from './store-ports.js';
import type {
  AddressKind, AddressStore, AddressVerification, Alert, AlertLifecycle, AlertStatus, Attendance, AuditRecord, BackupRecord, CheckinStatus, Consent,
  Contact, ContactAddress, ContactRole, Device, EscalationStore, Facility, FacilityStore, FleetHome, HeldReceipt, Home, Language, MissedReason, MonthlyReportRecord, NewsItem, NewsPhoto, NotificationRecord, Question,
  HomeFence, HomeStatePart, InboxRow, LifecycleVersion, IngestBatchItem, Job, JobFinish, JobStore, RejectedMessage, ReportStore, Resident, SendKey, SendOutcome, Severity, Store, TrailStore, UnsettledSendKey, VideoCall, VideoCheckin, VideoNote, VideoPermission, VideoStore,
  WebAccount, WebLink, WebRole, WebSession,
} from './store-ports.js';
export * from './store-ports.js';

/** What every store implementation is given besides its database. */
export interface StoreOptions {
  /** Where the store reads "now" when a caller gives no time (created-at defaults, service rotation). Default: Date.now. */
  now?: () => number;
  /**
   * Refused device messages kept per home, the newest (messages without a
   * home count as one more home). Default `defaultRejectedPerHome`.
   */
  rejectedPerHome?: number;
  /**
   * Refused messages of one home between two prunes of that home: the table
   * holds at most `rejectedPerHome + rejectedPruneEvery - 1` of a home per
   * running store. Default: a tenth of `rejectedPerHome` (at least 1).
   */
  rejectedPruneEvery?: number;
  /**
   * SQLite only: WAL checkpoints in a worker thread (core/sqlite-checkpointer.ts) instead of
   * inside the commit that finds the log full, on the event loop. The hub sets it; a short-lived
   * store (the CLI, a backup) does not need the thread. `onError` hears a failed checkpoint.
   */
  checkpointInWorker?: { onError?: (message: string) => void };
}

/** Refused device messages kept per home unless configured (`deadLetters.keepPerHome`, docs/store.md). */
export const defaultRejectedPerHome = 1000;

/** `?, ?, …`: one placeholder per value of a list (an `IN (…)` or a row of values). */
const marks = (k: number): string => Array.from({ length: k }, () => '?').join(', ');

/**
 * The dead-letter query (listUnreachedNotifications) for `k` statuses: a
 * notification in one of them whose (alert, person) pair has none in any
 * other status. Exported for the query-plan test (test/store/sqlite-plans.test.ts).
 */
export function unreachedNotificationsWhere(k: number): string {
  const list = marks(k);
  return `n.status IN (${list}) AND NOT EXISTS (SELECT 1 FROM notifications o WHERE o.alert_id = n.alert_id
    AND (o.contact_id = n.contact_id OR (o.contact_id IS NULL AND n.contact_id IS NULL)) AND o.status NOT IN (${list}))`;
}

/** A long list cut into parts of at most `size`, so one statement never carries too many values. */
function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
/** Rows per multi-row INSERT of an ingest batch: 4 parameters a row stay far below SQLite's and PostgreSQL's limits. */
const ingestRowsPerStatement = 250;
/** Ids asked of the table from before migration 27 per statement (three parameters each). */
const legacyRowsPerStatement = 250;
/** Inbox rows oldest first (RETURNING keeps no order). */
const inboxRows = (rows: Row[]): InboxRow[] => rows.map((r) => ({ seq: Number(r.seq), homeId: r.home_id as string, text: r.text as string })).sort((a, b) => a.seq - b.seq);

const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));
/** An optional value as SQL wants it: undefined → NULL. */
const n = (v: unknown): unknown => (v === undefined ? null : v);
/**
 * The last of the items with the same key, at the place of the first: what
 * writing them one after another would leave, as rows a batch (`runMany`)
 * may write together.
 */
function lastPerKey<T>(items: readonly T[], key: (item: T) => string): readonly T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(key(item), item);
  return byKey.size === items.length ? items : [...byKey.values()];
}

// ── JSON columns: parsed and checked against a schema in the row mappers, never just cast ──
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
const anyJson: z.ZodType<Json> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(anyJson), z.record(z.string(), anyJson)]));
const backupTargets = z.array(z.object({ dir: z.string(), ok: z.boolean(), error: z.string().optional() }));
const trailHeadSchema = z.object({ seq: z.number().int().nonnegative(), hash: z.string() });
const backupHeads = z.object({ audit: trailHeadSchema, access: trailHeadSchema });

/**
 * Parses a JSON text column and checks it against `schema`. A value that is
 * not JSON or not of the shape the code reads is reported with the column it
 * came from (MIMAMORI_ERR_STORED_DATA) instead of travelling on as a lie.
 */
function jsonColumn<T>(text: unknown, schema: z.ZodType<T>, column: string): T {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : String(text));
  } catch (err) {
    throw new MimamoriError('MIMAMORI_ERR_STORED_DATA', `${column} is not JSON (${(err as Error).message})`);
  }
  const checked = schema.safeParse(value);
  if (!checked.success) throw new MimamoriError('MIMAMORI_ERR_STORED_DATA', `${column}: ${checked.error.issues.map((i) => `${i.path.join('.') || '(value)'} ${i.message}`).join('; ')}`);
  return checked.data;
}
/** A nullable JSON column: undefined when NULL. */
const optJson = <T>(text: unknown, schema: z.ZodType<T>, column: string): T | undefined => (text === null || text === undefined ? undefined : jsonColumn(text, schema, column));



function toHome(r: Row): Home {
  const h: Home = { id: r.id as string, name: r.name as string, timezone: r.timezone as string, createdAt: Number(r.created_at) };
  const address = opt<string>(r.address); if (address !== undefined) h.address = address;
  const notes = opt<string>(r.entry_notes); if (notes !== undefined) h.entryNotes = notes;
  return h;
}
function toResident(r: Row): Resident {
  const out: Resident = { id: r.id as string, homeId: r.home_id as string, name: r.name as string, language: r.language as Language };
  const by = opt<number>(r.birth_year); if (by !== undefined) out.birthYear = Number(by);
  return out;
}
function toContact(r: Row): Contact {
  const c: Contact = { id: r.id as string, homeId: r.home_id as string, name: r.name as string, role: r.role as ContactRole, language: r.language as Language, priority: Number(r.priority) };
  const phone = opt<string>(r.phone); if (phone !== undefined) c.phone = phone;
  const email = opt<string>(r.email); if (email !== undefined) c.email = email;
  const account = opt<string>(r.account_id); if (account !== undefined) c.accountId = account;
  return c;
}
function toDevice(r: Row): Device {
  const d: Device = { homeId: r.home_id as string, deviceId: r.device_id as string, kind: r.kind as string, secretHash: r.secret_hash as string, disabled: Number(r.disabled) === 1, createdAt: Number(r.created_at) };
  const label = opt<string>(r.label); if (label !== undefined) d.label = label;
  return d;
}
function toAlert(r: Row): Alert {
  const a: Alert = {
    id: r.id as string, homeId: r.home_id as string, rule: r.rule as string, severity: r.severity as Severity,
    status: r.status as AlertStatus, message: r.message as string, finding: jsonColumn(r.finding, anyJson, 'alerts.finding'),
    repeats: Number(r.repeats), openedAt: Number(r.opened_at), updatedAt: Number(r.updated_at),
  };
  const closed = opt<number>(r.closed_at); if (closed !== undefined) a.closedAt = Number(closed);
  return a;
}
function toNotification(r: Row): NotificationRecord {
  const n: NotificationRecord = { id: r.id as string, alertId: r.alert_id as string, channel: r.channel as string, status: r.status as string, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) };
  const c = opt<string>(r.contact_id); if (c !== undefined) n.contactId = c;
  const p = opt<string>(r.provider_id); if (p !== undefined) n.providerId = p;
  const e = opt<string>(r.error); if (e !== undefined) n.error = e;
  return n;
}

// ── Web app rows (migration 4) ──
function toAccount(r: Row): WebAccount {
  const a: WebAccount = { id: r.id as string, login: r.login as string, name: r.name as string, role: r.role as WebRole, language: r.language as Language, passwordHash: r.password_hash as string, createdAt: Number(r.created_at) };
  const t = opt<string>(r.totp_secret); if (t !== undefined) a.totpSecret = t;
  const l = opt<number>(r.locked_until); if (l !== undefined) a.lockedUntil = Number(l);
  const d = opt<number>(r.disabled_at); if (d !== undefined) a.disabledAt = Number(d);
  if (Number(r.must_change_password ?? 0) === 1) a.mustChangePassword = true;
  return a;
}
function toSession(r: Row): WebSession {
  const x: WebSession = { id: r.id as string, accountId: r.account_id as string, csrf: r.csrf as string, mfaOk: Number(r.mfa_ok) === 1, createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at) };
  const ua = opt<string>(r.user_agent); if (ua !== undefined) x.userAgent = ua;
  return x;
}
const toLink = (r: Row): WebLink => ({ accountId: r.account_id as string, kind: r.kind as WebLink['kind'], targetId: r.target_id as string });
const toNews = (r: Row): NewsItem => ({ id: r.id as string, homeId: r.home_id as string, authorId: r.author_id as string, body: r.body as string, createdAt: Number(r.created_at) });
const toPhoto = (r: Row): NewsPhoto => ({ id: r.id as string, newsId: r.news_id as string, homeId: r.home_id as string, width: Number(r.width), height: Number(r.height) });
function toQuestion(r: Row): Question {
  const x: Question = { id: r.id as string, homeId: r.home_id as string, askerId: r.asker_id as string, body: r.body as string, askedAt: Number(r.asked_at) };
  const a = opt<string>(r.answer); if (a !== undefined) x.answer = a;
  const b = opt<string>(r.answerer_id); if (b !== undefined) x.answererId = b;
  const c = opt<number>(r.answered_at); if (c !== undefined) x.answeredAt = Number(c);
  return x;
}

/**
 * The store over any SQL port: the one implementation of every port method.
 * `db` is SQLite or PostgreSQL; `now` is read only where a caller gives no time.
 */
export function createSqlStore(db: SqlDb, opts: StoreOptions = {}): Store {
  const now = opts.now ?? Date.now;
  const { get, all, run } = db;
  const keepRejected = opts.rejectedPerHome ?? defaultRejectedPerHome;
  const pruneRejectedEvery = opts.rejectedPruneEvery ?? Math.max(1, Math.ceil(keepRejected / 10));
  if (!Number.isInteger(keepRejected) || keepRejected < 1 || !Number.isInteger(pruneRejectedEvery) || pruneRejectedEvery < 1) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `rejectedPerHome and rejectedPruneEvery must be whole numbers from 1 (got ${keepRejected}, ${pruneRejectedEvery})`);
  }
  /**
   * Whether the table of event ids from before migration 27 (`seen_events`, by arrival) still
   * holds any: looked up once, and again after each prune of it, so once its last id is past
   * the window a commit no longer asks it.
   */
  let legacyHeld: boolean | undefined;
  async function legacyIdsHeld(q: SqlQueries): Promise<boolean> {
    legacyHeld ??= (await q.get('SELECT 1 AS held FROM seen_events LIMIT 1')) !== undefined;
    return legacyHeld;
  }
  /** The rule engine's save: every home's changed parts in one transaction (one commit), as one batch. */
  async function saveParts(parts: HomeStatePart[], at: number, dropWhole: string[], fencedFor: string | undefined): Promise<string[]> {
    const upsert = 'INSERT INTO home_state_parts (home_id, part, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (home_id, part) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at';
    const rowsOf = (list: HomeStatePart[]) => lastPerKey(list, (p) => `${p.homeId}\0${p.part}`).map((p) => [p.homeId, p.part, p.data, at]);
    if (fencedFor === undefined && dropWhole.length === 0) { await db.runMany(upsert, rowsOf(parts)); return []; }
    return db.tx(async (t) => {
      // The homes whose fence names another node or nobody: nothing of theirs is written.
      const refused = new Set<string>();
      if (fencedFor !== undefined) {
        // Each home's lock orders this save against a new owner's fenceHome (see mustHoldFence).
        const homeIds = [...new Set(parts.map((p) => p.homeId))].sort();
        for (const h of homeIds) await t.lock(`fence:${h}`);
        for (const part of chunks(homeIds)) {
          const rows = await t.all(`SELECT home_id FROM home_fences WHERE home_id IN (${marks(part.length)}) AND (owner IS NULL OR owner <> ?)`, ...part, fencedFor);
          for (const r of rows) refused.add(r.home_id as string);
        }
      }
      const kept = refused.size === 0 ? parts : parts.filter((p) => !refused.has(p.homeId));
      await t.runMany(upsert, rowsOf(kept));
      const drop = dropWhole.filter((id) => !refused.has(id));
      if (drop.length > 0) await t.runMany('DELETE FROM home_states WHERE home_id = ?', drop.map((id) => [id]));
      return [...refused].sort();
    });
  }
  /**
   * The ingest's batch commit (`commitIngestBatch`): one transaction (one WAL commit) per batch instead of
   * one per event, and a few multi-row statements instead of two per event — on a PostgreSQL pool each
   * statement is a round trip, and a node's inbox batches of one home commit in turn (`commitInboxBatch`),
   * so a batch's time is the cluster's pace.
   */
  async function commitBatch(items: ReadonlyArray<IngestBatchItem>, at: number, opts: { forOwner?: boolean } | undefined): Promise<{ fresh: boolean[]; outboxHead: number }> {
    // A single hub took its rows as it wrote them (''); in a cluster they wait for the home's owner (NULL).
    const takenBy = opts?.forOwner ? null : '';
    return db.tx(async (t) => {
      const keyed = items.filter((i) => i.eventId !== undefined);
      const days = keyed.map((i) => eventDayOr(i.eventAt, at));
      const rows = keyed.map((i, k) => [days[k], i.homeId, i.deviceId, i.eventId]);
      // Whether each keyed event is new. SQLite: a prepared one-row statement per event says whether it
      // inserted. PostgreSQL: the rows a multi-row insert returns are the ones it inserted. Either way a
      // repeat, in the table or earlier in this batch, is skipped by the key.
      let isNew: boolean[];
      if (t.tryInsertEach !== undefined) {
        isNew = await t.tryInsertEach('INSERT INTO seen_ids (day, home_id, device_id, event_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', rows);
      } else {
        const inserted = new Set<string>();
        for (const part of chunks(rows, ingestRowsPerStatement)) {
          const got = await t.all(`INSERT INTO seen_ids (day, home_id, device_id, event_id) VALUES ${part.map(() => '(?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING RETURNING day, home_id, device_id, event_id`,
            ...part.flat());
          for (const r of got) inserted.add(eventKey(r.home_id as string, r.device_id as string, r.event_id as string, Number(r.day)));
        }
        // The same event twice in one batch: the first is new, the repeat is not (the key is taken from the set).
        isNew = keyed.map((i, k) => inserted.delete(eventKey(i.homeId, i.deviceId, i.eventId!, days[k]!)));
      }
      // Ids recorded before migration 27 (by arrival, without the day): a repeat of one is not new either.
      if (await legacyIdsHeld(t)) {
        const maybe = keyed.filter((_i, k) => isNew[k]);
        const old = new Set<string>();
        for (const part of chunks(maybe, legacyRowsPerStatement)) {
          const rows = await t.all(`SELECT home_id, device_id, event_id FROM seen_events WHERE ${part.map(() => '(home_id = ? AND device_id = ? AND event_id = ?)').join(' OR ')}`,
            ...part.flatMap((i) => [i.homeId, i.deviceId, i.eventId]));
          for (const r of rows) old.add(eventKey(r.home_id as string, r.device_id as string, r.event_id as string, 0));
        }
        if (old.size > 0) keyed.forEach((i, k) => { if (old.has(eventKey(i.homeId, i.deviceId, i.eventId!, 0))) isNew[k] = false; });
      }
      let k = 0;
      const fresh = items.map((i) => i.eventId === undefined || isNew[k++]!);
      // Outbox rows in the batch's order: their seqs are drawn row by row as they are inserted.
      const out = items.filter((i, j) => fresh[j] && i.outbox !== undefined);
      let outboxHead = 0;
      if (t.insertEach !== undefined) {
        for (const seq of await t.insertEach('INSERT INTO ingest_outbox (text, home_id, taken_by) VALUES (?, ?, ?)', out.map((i) => [i.outbox, i.homeId, takenBy]))) outboxHead = Math.max(outboxHead, seq);
      } else {
        for (const part of chunks(out, ingestRowsPerStatement)) {
          const rows = await t.all(`INSERT INTO ingest_outbox (text, home_id, taken_by) VALUES ${part.map(() => '(?, ?, ?)').join(', ')} RETURNING seq`,
            ...part.flatMap((i) => [i.outbox, i.homeId, takenBy]));
          for (const r of rows) outboxHead = Math.max(outboxHead, Number(r.seq));
        }
      }
      return { fresh, outboxHead };
    });
  }
  /** The last outbox batch commit made, until it has ended (pools only: see `SqlDb.commitsInOrder`). */
  let outboxCommits: Promise<unknown> = Promise.resolve();
  /** Per home, the last cluster inbox batch commit holding one of its rows, until it has ended (pools only). */
  const inboxCommits = new Map<string, Promise<unknown>>();
  /**
   * A cluster inbox batch (`forOwner`) on a pool: after the earlier batches that hold a row of one of its
   * homes have ended. The owner reads a home's rows by `seq`, drawn at the INSERT, and takes what has
   * committed: two batches of one home on two connections could commit, or draw their seqs, the other way
   * round, and the owner would run a device's "water off" before its "water on" (a bath left running, to the
   * rules). In turn per home, a later batch draws higher seqs and commits after, so the owner runs one
   * node's readings of a home in the order they arrived. Batches of other homes still commit side by side.
   */
  function commitInboxBatch(items: ReadonlyArray<IngestBatchItem>, at: number): Promise<{ fresh: boolean[]; outboxHead: number }> {
    const homes = new Set(items.map((i) => i.homeId));
    const earlier: Array<Promise<unknown>> = [];
    for (const h of homes) { const p = inboxCommits.get(h); if (p !== undefined) earlier.push(p); }
    const run = (earlier.length === 0 ? commitBatch(items, at, { forOwner: true }) : Promise.all(earlier).then(() => commitBatch(items, at, { forOwner: true })));
    // Ended either way: a failed batch (not acknowledged, resent by its device) does not stop the next.
    const ended = run.catch(() => {});
    for (const h of homes) inboxCommits.set(h, ended);
    void ended.then(() => { for (const h of homes) if (inboxCommits.get(h) === ended) inboxCommits.delete(h); });
    return run;
  }
  /** The state save before this one, until it has ended (pools only: see `SqlDb.commitsInOrder`). */
  let stateSaves: Promise<unknown> = Promise.resolve();
  /** Refused messages recorded per home ('' = no home) since that home was last pruned. */
  const rejectedSincePrune = new Map<string, number>();
  /** Drops a home's refused messages older than its newest `keepRejected`: one indexed look-up of the cut, one delete. */
  const pruneRejected = async (homeId: string | undefined): Promise<number> => {
    const where = homeId === undefined ? 'home_id IS NULL' : 'home_id = ?';
    const home = homeId === undefined ? [] : [homeId];
    const cut = await get(`SELECT at, id FROM rejected_messages WHERE ${where} ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?`, ...home, keepRejected - 1);
    if (!cut) return 0;
    return run(`DELETE FROM rejected_messages WHERE ${where} AND (at < ? OR (at = ? AND id < ?))`, ...home, cut.at, cut.at, cut.id);
  };
  const conflict = async <T>(work: Promise<T>, what: string): Promise<T> => {
    try { return await work; } catch (err) {
      if (db.isConflict(err)) throw new MimamoriError('MIMAMORI_ERR_CONFLICT', what);
      throw err;
    }
  };

  const store: Store = {
    ...escalationStore(db),
    ...facilityStore(db, now), // day-care facilities (migration 17)
    ...jobStore(db), // the durable schedule with leases (migration 18)
    ...videoStore(db), // video check-ins (migration 6)
    ...trailStore(db), // backups and the trail (migration 8)
    ...addressStore(db), // contact addresses and link codes (migration 11)
    ...reportStore(db), // monthly reports (migration 13)
    async createHome(h) {
      const home: Home = { ...h, createdAt: h.createdAt ?? now() };
      await conflict(run('INSERT INTO homes (id, name, timezone, address, entry_notes, created_at) VALUES (?, ?, ?, ?, ?, ?)', home.id, home.name, home.timezone, n(home.address), n(home.entryNotes), home.createdAt), `home ${h.id} exists`);
      return home;
    },
    async getHome(id) { const r = await get('SELECT * FROM homes WHERE id = ?', id); return r && toHome(r); },
    async listHomes() { return (await all('SELECT * FROM homes ORDER BY id')).map(toHome); },
    async listFleet() {
      const byHome = new Map<string, FleetHome>((await all('SELECT * FROM homes ORDER BY id')).map(toHome).map((home) => [home.id, { home, residents: [], devices: 0, alerts: [] }]));
      for (const r of await all('SELECT home_id, name FROM residents ORDER BY home_id, name, id')) byHome.get(r.home_id as string)?.residents.push(r.name as string);
      for (const r of await all('SELECT home_id, COUNT(*) AS n FROM devices GROUP BY home_id')) { const f = byHome.get(r.home_id as string); if (f) f.devices = Number(r.n); }
      for (const a of (await all("SELECT * FROM alerts WHERE status <> 'resolved' ORDER BY opened_at, id")).map(toAlert)) byHome.get(a.homeId)?.alerts.push(a);
      return [...byHome.values()];
    },
    async addResident(r) {
      const res: Resident = { ...r, id: r.id ?? newId(now()) };
      await run('INSERT INTO residents (id, home_id, name, birth_year, language) VALUES (?, ?, ?, ?, ?)', res.id, res.homeId, res.name, n(res.birthYear), res.language);
      return res;
    },
    async listResidents(homeId) { return (await all('SELECT * FROM residents WHERE home_id = ? ORDER BY name, id', homeId)).map(toResident); },
    async addContact(c) {
      const con: Contact = { ...c, id: c.id ?? newId(now()) };
      await conflict(db.tx(async (t) => {
        await t.run('INSERT INTO contacts (id, home_id, name, role, phone, email, language, priority, account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', con.id, con.homeId, con.name, con.role, n(con.phone), n(con.email), con.language, con.priority, n(con.accountId));
        // The phone and e-mail are the contact's first addresses (migration 11), as the operator gave them.
        const at = now();
        if (con.phone) await t.run("INSERT INTO contact_addresses (id, contact_id, kind, address, verification, created_at) VALUES (?, ?, 'phone', ?, 'operator', ?)", newId(at), con.id, con.phone, at);
        if (con.email) await t.run("INSERT INTO contact_addresses (id, contact_id, kind, address, verification, created_at) VALUES (?, ?, 'email', ?, 'operator', ?)", newId(at), con.id, con.email, at);
      }), `contact ${con.id} exists`);
      return con;
    },
    async listContacts(homeId) { return (await all('SELECT * FROM contacts WHERE home_id = ? ORDER BY priority, name, id', homeId)).map(toContact); },
    async addDevice(d) {
      const dev: Device = { ...d, disabled: false, createdAt: d.createdAt ?? now() };
      await conflict(run('INSERT INTO devices (home_id, device_id, kind, label, secret_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)', dev.homeId, dev.deviceId, dev.kind, n(dev.label), dev.secretHash, dev.createdAt), `device ${d.homeId}/${d.deviceId} exists`);
      return dev;
    },
    async getDevice(homeId, deviceId) { const r = await get('SELECT * FROM devices WHERE home_id = ? AND device_id = ?', homeId, deviceId); return r && toDevice(r); },
    async listDevices(homeId) {
      return (homeId ? await all('SELECT * FROM devices WHERE home_id = ? ORDER BY device_id', homeId) : await all('SELECT * FROM devices ORDER BY home_id, device_id')).map(toDevice);
    },
    async setDeviceSecretHash(homeId, deviceId, secretHash) {
      const changed = await run('UPDATE devices SET secret_hash = ? WHERE home_id = ? AND device_id = ?', secretHash, homeId, deviceId);
      if (changed === 0) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `device ${homeId}/${deviceId}`);
    },
    async setService(name, secretHash) {
      await run('INSERT INTO services (name, secret_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET secret_hash = excluded.secret_hash', name, secretHash, now());
    },
    async getServiceSecretHash(name) { return opt<string>((await get('SELECT secret_hash FROM services WHERE name = ?', name))?.secret_hash); },
    async getRuleConfig(homeId) {
      const r = await get('SELECT rules FROM rule_configs WHERE home_id = ?', homeId);
      return r ? jsonColumn(r.rules, anyJson, `rule_configs.rules of ${homeId}`) : undefined;
    },
    async setRuleConfig(homeId, rules, at = now()) {
      await run('INSERT INTO rule_configs (home_id, rules, updated_at) VALUES (?, ?, ?) ON CONFLICT (home_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at', homeId, JSON.stringify(rules), at);
    },
    async saveHomeStates(states, at) {
      await db.runMany('INSERT INTO home_states (home_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (home_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
        lastPerKey(states, (s) => s.homeId).map((s) => [s.homeId, JSON.stringify(s.state), at]));
    },
    async loadHomeStates(homeId) {
      const out = new Map<string, unknown>();
      const rows = homeId === undefined ? await all('SELECT home_id, state FROM home_states ORDER BY home_id') : await all('SELECT home_id, state FROM home_states WHERE home_id = ?', homeId);
      for (const r of rows) out.set(r.home_id as string, jsonColumn(r.state, anyJson, `home_states.state of ${String(r.home_id)}`));
      return out;
    },
    saveHomeStateParts(parts, at, dropWhole = [], fencedFor) {
      // Saves commit in the order they were made (the engine leaves a home's names out when an
      // earlier save wrote them): in turn on a pool, as they are on SQLite's one connection.
      if (db.commitsInOrder === true) return saveParts(parts, at, dropWhole, fencedFor);
      const run = stateSaves.then(() => saveParts(parts, at, dropWhole, fencedFor));
      stateSaves = run.catch(() => {});
      return run;
    },
    async loadHomeStateParts(homeId) {
      const rows = homeId === undefined
        ? await all('SELECT home_id, part, data FROM home_state_parts ORDER BY home_id, part')
        : await all('SELECT home_id, part, data FROM home_state_parts WHERE home_id = ? ORDER BY part', homeId);
      return rows.map((r) => ({ homeId: r.home_id as string, part: r.part as string, data: r.data as string }));
    },
    async markEventSeen(homeId, deviceId, eventId, at) {
      return (await commitBatch([{ homeId, deviceId, eventId, eventAt: at }], at, undefined)).fresh[0]!;
    },
    async pruneSeenEvents(olderThan, limit) {
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `pruneSeenEvents: limit must be a whole number from 1 (got ${limit})`);
      const cut = eventDay(olderThan);
      // The oldest days first, in key order: a chunk's ids lie together in the index however large the backlog.
      let n = limit === undefined
        ? await run('DELETE FROM seen_ids WHERE day < ?', cut)
        : await run('DELETE FROM seen_ids WHERE (day, home_id, device_id, event_id) IN (SELECT day, home_id, device_id, event_id FROM seen_ids WHERE day < ? ORDER BY day, home_id, device_id, event_id LIMIT ?)', cut, limit);
      if ((limit === undefined || n < limit) && await legacyIdsHeld(db)) {
        n += limit === undefined
          ? await run('DELETE FROM seen_events WHERE seen_at < ?', olderThan)
          : await run('DELETE FROM seen_events WHERE (home_id, device_id, event_id) IN (SELECT home_id, device_id, event_id FROM seen_events WHERE seen_at < ? ORDER BY seen_at LIMIT ?)', olderThan, limit - n);
        legacyHeld = undefined; // asked again: the last of them may have gone
      }
      return n;
    },
    commitIngestBatch(items, at, opts) {
      // The outbox is confirmed by position (`clearIngestOutbox(upTo)`): its batches commit, and answer, in the
      // order they were made — in turn on a pool, as they do on SQLite's one connection.
      if (db.commitsInOrder === true) return commitBatch(items, at, opts);
      if (opts?.forOwner === true) return commitInboxBatch(items, at);
      const run = outboxCommits.then(() => commitBatch(items, at, opts));
      outboxCommits = run.catch(() => {});
      return run;
    },
    async listIngestOutbox() {
      return (await all("SELECT seq, text FROM ingest_outbox WHERE taken_by = '' ORDER BY seq")).map((r) => ({ seq: Number(r.seq), text: r.text as string }));
    },
    async clearIngestOutbox(upTo) { return run("DELETE FROM ingest_outbox WHERE seq <= ? AND taken_by = ''", upTo); },
    async takeInbox(node, limit) {
      // `taken_by IS NULL` twice: PostgreSQL re-checks the outer condition on a row another node changed meanwhile.
      const rows = await all(`UPDATE ingest_outbox SET taken_by = ? WHERE taken_by IS NULL AND seq IN (
          SELECT seq FROM ingest_outbox WHERE taken_by IS NULL AND home_id IN (SELECT home_id FROM home_fences WHERE owner = ?) ORDER BY seq LIMIT ?)
        RETURNING seq, home_id, text`, node, node, limit);
      return inboxRows(rows);
    },
    async retakeInbox(node, home) {
      const rows = await all(`UPDATE ingest_outbox SET taken_by = ? WHERE home_id = ? AND taken_by IS NOT NULL AND taken_by <> '' AND taken_by <> ?
          AND EXISTS (SELECT 1 FROM home_fences WHERE home_id = ? AND owner = ?)
        RETURNING seq, home_id, text`, node, home, node, home, node);
      return inboxRows(rows);
    },
    async returnInbox(node, seqs) {
      let count = 0;
      for (const part of chunks(seqs)) count += await run(`UPDATE ingest_outbox SET taken_by = NULL WHERE taken_by = ? AND seq IN (${marks(part.length)})`, node, ...part);
      return count;
    },
    async clearInbox(seqs) {
      let count = 0;
      for (const part of chunks(seqs)) count += await run(`DELETE FROM ingest_outbox WHERE seq IN (${marks(part.length)})`, ...part);
      return count;
    },
    async openAlert(a) {
      return db.tx(async (t): Promise<{ alert: Alert; created: boolean }> => {
        await t.lock(`alert:${a.homeId}:${a.rule}`);
        const existing = await t.get("SELECT * FROM alerts WHERE home_id = ? AND rule = ? AND status <> 'resolved'", a.homeId, a.rule);
        if (existing) {
          // A repeat of the same finding updates the open alert instead of paging again.
          const severity = rank(a.severity) > rank(existing.severity as Severity) ? a.severity : (existing.severity as Severity);
          await t.run('UPDATE alerts SET repeats = repeats + 1, updated_at = ?, severity = ?, message = ?, finding = ? WHERE id = ?', a.openedAt, severity, a.message, JSON.stringify(a.finding), existing.id);
          return { alert: toAlert((await t.get('SELECT * FROM alerts WHERE id = ?', existing.id))!), created: false };
        }
        const id = newId(a.openedAt);
        await t.run("INSERT INTO alerts (id, home_id, rule, severity, status, message, finding, repeats, opened_at, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?, 0, ?, ?)", id, a.homeId, a.rule, a.severity, a.message, JSON.stringify(a.finding), a.openedAt, a.openedAt);
        return { alert: toAlert((await t.get('SELECT * FROM alerts WHERE id = ?', id))!), created: true };
      });
    },
    async getAlert(id) { const r = await get('SELECT * FROM alerts WHERE id = ?', id); return r && toAlert(r); },
    async findOpenAlert(homeId, rule) { const r = await get("SELECT * FROM alerts WHERE home_id = ? AND rule = ? AND status <> 'resolved'", homeId, rule); return r && toAlert(r); },
    async listAlerts(filter = {}) {
      const where: string[] = []; const p: unknown[] = [];
      if (filter.homeId) { where.push('home_id = ?'); p.push(filter.homeId); }
      if (filter.status) { where.push('status = ?'); p.push(filter.status); }
      if (filter.unresolved) where.push("status <> 'resolved'");
      return (await all(`SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC`, ...p)).map(toAlert);
    },
    async updateAlertStatus(id, status, at, expect) {
      const write = async (q: SqlQueries) => {
        if (expect) await mustBeAtVersion(q, expect);
        const changed = await q.run('UPDATE alerts SET status = ?, updated_at = ?, closed_at = ? WHERE id = ?', status, at, status === 'resolved' ? at : null, id);
        if (changed === 0) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `alert ${id}`);
        return toAlert((await q.get('SELECT * FROM alerts WHERE id = ?', id))!);
      };
      return expect ? db.tx(write) : write(db);
    },
    async recordNotification(rec) {
      const out: NotificationRecord = { ...rec, id: rec.id ?? newId(rec.createdAt), updatedAt: rec.createdAt };
      await run('INSERT INTO notifications (id, alert_id, contact_id, channel, status, provider_id, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', out.id, out.alertId, n(out.contactId), out.channel, out.status, n(out.providerId), n(out.error), out.createdAt, out.updatedAt);
      return out;
    },
    async updateNotification(id, patch, at, expect) {
      const set = 'UPDATE notifications SET status = ?, provider_id = COALESCE(?, provider_id), error = COALESCE(?, error), updated_at = ? WHERE id = ?';
      // With `expect`, a compare-and-set on the status the caller read: one statement, so two writers can never both pass.
      const changed = expect === undefined
        ? await run(set, patch.status, n(patch.providerId), n(patch.error), at, id)
        : expect.updatedAt === undefined
          ? await run(`${set} AND status = ?`, patch.status, n(patch.providerId), n(patch.error), at, id, expect.status)
          : await run(`${set} AND status = ? AND updated_at = ?`, patch.status, n(patch.providerId), n(patch.error), at, id, expect.status, expect.updatedAt);
      return changed > 0;
    },
    async findNotificationByProviderId(providerId) { const r = await get('SELECT * FROM notifications WHERE provider_id = ? ORDER BY created_at, id LIMIT 1', providerId); return r && toNotification(r); },
    async holdReceipt(r) {
      await run('INSERT INTO held_receipts (provider_id, status, error, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', r.providerId, r.status, n(r.error), r.receivedAt);
    },
    async listHeldReceipts(filter) {
      const one = filter.providerId === undefined ? [] : [filter.providerId];
      const rows = await all(`SELECT * FROM held_receipts${one.length ? ' WHERE provider_id = ?' : ''} ORDER BY received_at, provider_id, status LIMIT ?`, ...one, filter.limit);
      return rows.map((r) => {
        const h: HeldReceipt = { providerId: r.provider_id as string, status: r.status as string, receivedAt: Number(r.received_at) };
        const e = opt<string>(r.error); if (e !== undefined) h.error = e;
        return h;
      });
    },
    async dropHeldReceipt(providerId, status) {
      return (await run('DELETE FROM held_receipts WHERE provider_id = ? AND status = ?', providerId, status)) > 0;
    },
    async listNotifications(alertId) {
      return (alertId ? await all('SELECT * FROM notifications WHERE alert_id = ? ORDER BY created_at, id', alertId) : await all('SELECT * FROM notifications ORDER BY created_at, id')).map(toNotification);
    },
    async findNotifications(filter) {
      if (filter.statuses.length === 0) return [];
      const person = filter.contactId === undefined ? [] : [filter.contactId];
      return (await all(`SELECT * FROM notifications WHERE status IN (${marks(filter.statuses.length)})${person.length ? ' AND contact_id = ?' : ''} ORDER BY created_at, id`,
        ...filter.statuses, ...person)).map(toNotification);
    },
    async listUnreachedNotifications(notReached, page) {
      if (notReached.length === 0) return { total: 0, notifications: [] };
      const where = unreachedNotificationsWhere(notReached.length);
      const total = Number((await get(`SELECT COUNT(*) AS c FROM notifications n WHERE ${where}`, ...notReached, ...notReached))?.c ?? 0);
      const rows = await all(`SELECT n.* FROM notifications n WHERE ${where} ORDER BY n.updated_at DESC, n.id DESC LIMIT ? OFFSET ?`, ...notReached, ...notReached, page.limit, page.offset);
      return { total, notifications: rows.map(toNotification) };
    },
    async audit(e) {
      await appendToTrail(db, 'audit', { id: newId(e.at), at: e.at, actor: e.actor, action: e.action, subject: e.subject, detail: e.detail === undefined ? null : JSON.stringify(e.detail) });
    },
    async listAudit(subject, opts = {}) {
      // Written order: by time, and among records of the same time by their place in the chain.
      const where = subject ? 'WHERE subject = ?' : '';
      const p: unknown[] = subject ? [subject] : [];
      const last = opts.last;
      if (last !== undefined && (!Number.isInteger(last) || last < 0)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `audit: last must be a whole number ≥ 0, got ${String(last)}`);
      const rows = last === undefined
        ? await all(`SELECT * FROM audit_log ${where} ORDER BY at, seq, id`, ...p)
        // The newest `last` (index audit_log_at / audit_log_subject, walked backwards), then put back in written order.
        : (await all(`SELECT * FROM audit_log ${where} ORDER BY at DESC, seq DESC, id DESC LIMIT ?`, ...p, last)).reverse();
      return rows.map((r) => {
        const rec: AuditRecord = { id: r.id as string, at: Number(r.at), actor: r.actor as string, action: r.action as string, subject: r.subject as string };
        const detail = optJson(r.detail, anyJson, `audit_log.detail of ${String(r.id)}`); if (detail !== undefined) rec.detail = detail;
        return rec;
      });
    },
    async schemaVersion() { return Number((await get('SELECT MAX(version) AS v FROM schema_migrations'))?.v ?? 0); },
    async close() { await db.close(); },
    async recordRejected(r) {
      const rec: RejectedMessage = { ...r, id: newId(r.at) };
      await run('INSERT INTO rejected_messages (id, at, topic, home_id, device_id, reason, detail, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', rec.id, rec.at, rec.topic, n(rec.homeId), n(rec.deviceId), rec.reason, n(rec.detail), n(rec.payload));
      // Bounded per home, pruned in batches: a flood costs one delete per `pruneRejectedEvery` messages, not a scan per message.
      // A home's first refusal since the store opened prunes at once: the count lives in memory, and a
      // hub restarted more often than every `pruneRejectedEvery` refusals must not grow the table without end.
      const bucket = rec.homeId ?? '';
      const seen = rejectedSincePrune.get(bucket);
      const due = seen === undefined || seen + 1 >= pruneRejectedEvery;
      if (seen === undefined && rejectedSincePrune.size >= 100_000) rejectedSincePrune.clear(); // made-up home ids in refused topics must not grow it without end
      rejectedSincePrune.set(bucket, due ? 0 : seen + 1);
      if (due) await pruneRejected(rec.homeId);
      return rec;
    },
    async listRejected(limit = 100) {
      return (await all('SELECT * FROM rejected_messages ORDER BY at DESC, id DESC LIMIT ?', limit)).map((row) => {
        const rec: RejectedMessage = { id: row.id as string, at: Number(row.at), topic: row.topic as string, reason: row.reason as string };
        const h = opt<string>(row.home_id); if (h !== undefined) rec.homeId = h;
        const d = opt<string>(row.device_id); if (d !== undefined) rec.deviceId = d;
        const detail = opt<string>(row.detail); if (detail !== undefined) rec.detail = detail;
        const payload = opt<string>(row.payload); if (payload !== undefined) rec.payload = payload;
        return rec;
      });
    },
    // ── Web app (dashboards/, migration 4) ──
    async createAccount(a) {
      const acc: WebAccount = { ...a, id: a.id ?? newId(a.createdAt) };
      await conflict(run('INSERT INTO web_accounts (id, login, name, role, language, password_hash, totp_secret, locked_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', acc.id, acc.login, acc.name, acc.role, acc.language, acc.passwordHash, n(acc.totpSecret), n(acc.lockedUntil), acc.createdAt), `account ${a.login} exists`);
      return acc;
    },
    async getAccount(id) { const r = await get('SELECT * FROM web_accounts WHERE id = ?', id); return r && toAccount(r); },
    async findAccountByLogin(login) { const r = await get('SELECT * FROM web_accounts WHERE login = ?', login); return r && toAccount(r); },
    async listAccounts() { return (await all('SELECT * FROM web_accounts ORDER BY role, login')).map(toAccount); },
    async setAccountTotp(id, secret) { await run('UPDATE web_accounts SET totp_secret = ? WHERE id = ?', secret, id); },
    async acceptTotpStep(id, step) {
      // One statement: two sign-ins racing with one code cannot both pass (migration 10).
      return (await run('UPDATE web_accounts SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)', step, id, step)) === 1;
    },
    async setAccountLockedUntil(id, until) { await run('UPDATE web_accounts SET locked_until = ? WHERE id = ?', until, id); },
    async setAccountLanguage(id, language) { await run('UPDATE web_accounts SET language = ? WHERE id = ?', language, id); },
    async recordLoginFailure(accountId, at) { await run('INSERT INTO web_login_failures (account_id, at) VALUES (?, ?)', accountId, at); },
    async countLoginFailures(accountId, since) { return Number((await get('SELECT COUNT(*) AS c FROM web_login_failures WHERE account_id = ? AND at >= ?', accountId, since))?.c ?? 0); },
    async clearLoginFailures(accountId) { await run('DELETE FROM web_login_failures WHERE account_id = ?', accountId); },
    async setAccountDisabled(id, at) { await run('UPDATE web_accounts SET disabled_at = ? WHERE id = ?', at, id); },
    async setAccountPassword(id, passwordHash, mustChange) { await run('UPDATE web_accounts SET password_hash = ?, must_change_password = ? WHERE id = ?', passwordHash, mustChange ? 1 : 0, id); },
    async createSession(x) {
      await run('INSERT INTO web_sessions (id, account_id, csrf, mfa_ok, created_at, last_seen_at, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)', x.id, x.accountId, x.csrf, x.mfaOk ? 1 : 0, x.createdAt, x.lastSeenAt, n(x.userAgent));
    },
    async getSession(id) { const r = await get('SELECT * FROM web_sessions WHERE id = ?', id); return r && toSession(r); },
    async updateSession(id, patch) {
      if (patch.lastSeenAt !== undefined) await run('UPDATE web_sessions SET last_seen_at = ? WHERE id = ?', patch.lastSeenAt, id);
      if (patch.mfaOk !== undefined) await run('UPDATE web_sessions SET mfa_ok = ? WHERE id = ?', patch.mfaOk ? 1 : 0, id);
    },
    async listSessions(accountId) { return (await all('SELECT * FROM web_sessions WHERE account_id = ? ORDER BY created_at, id', accountId)).map(toSession); },
    async deleteSession(id) { await run('DELETE FROM web_sessions WHERE id = ?', id); },
    async linkAccount(l) { await run('INSERT INTO web_links (account_id, kind, target_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', l.accountId, l.kind, l.targetId); },
    async listLinks(accountId) { return (await all('SELECT * FROM web_links WHERE account_id = ? ORDER BY kind, target_id', accountId)).map(toLink); },
    async listLinked(kind, targetId) { return (await all('SELECT * FROM web_links WHERE kind = ? AND target_id = ? ORDER BY account_id', kind, targetId)).map(toLink); },
    async enrollHome(facilityId, homeId) { await run('INSERT INTO facility_homes (facility_id, home_id) VALUES (?, ?) ON CONFLICT DO NOTHING', facilityId, homeId); },
    async listEnrolledHomes(facilityId) { return (await all('SELECT home_id FROM facility_homes WHERE facility_id = ? ORDER BY home_id', facilityId)).map((r) => r.home_id as string); },
    async setConsent(c) {
      await run('INSERT INTO consents (home_id, viewer_id, level, photos, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (home_id, viewer_id) DO UPDATE SET level = excluded.level, photos = excluded.photos, updated_at = excluded.updated_at, updated_by = excluded.updated_by', c.homeId, c.viewerId, c.level, c.photos ? 1 : 0, c.updatedAt, c.updatedBy);
    },
    async getConsent(homeId, viewerId) {
      const r = await get('SELECT * FROM consents WHERE home_id = ? AND viewer_id = ?', homeId, viewerId);
      return r && { homeId: r.home_id as string, viewerId: r.viewer_id as string, level: r.level as Consent['level'], photos: Number(r.photos) === 1, updatedAt: Number(r.updated_at), updatedBy: r.updated_by as string };
    },
    async recordAccess(r) { await appendToTrail(db, 'access', { id: newId(r.at), at: r.at, viewer_id: r.viewerId, home_id: r.homeId, what: r.what }); },
    async listAccess(homeId, limit = 200) {
      return (await all('SELECT * FROM access_log WHERE home_id = ? ORDER BY at DESC, seq DESC, id DESC LIMIT ?', homeId, limit))
        .map((r) => ({ id: r.id as string, at: Number(r.at), viewerId: r.viewer_id as string, homeId: r.home_id as string, what: r.what as string }));
    },
    async addNews(x) {
      const item: NewsItem = { ...x, id: x.id ?? newId(x.createdAt) };
      await conflict(run('INSERT INTO news (id, home_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?)', item.id, item.homeId, item.authorId, item.body, item.createdAt), `news ${item.id} exists`);
      return item;
    },
    async getNews(id) { const r = await get('SELECT * FROM news WHERE id = ?', id); return r && toNews(r); },
    async listNews(homeId, since = 0) { return (await all('SELECT * FROM news WHERE home_id = ? AND created_at >= ? ORDER BY created_at DESC, id DESC', homeId, since)).map(toNews); },
    async addNewsPhoto(x) { await conflict(run('INSERT INTO news_photos (id, news_id, home_id, width, height) VALUES (?, ?, ?, ?, ?)', x.id, x.newsId, x.homeId, x.width, x.height), `photo ${x.id} exists`); },
    async getNewsPhoto(id) { const r = await get('SELECT * FROM news_photos WHERE id = ?', id); return r && toPhoto(r); },
    async listNewsPhotos(newsId) { return (await all('SELECT * FROM news_photos WHERE news_id = ? ORDER BY id', newsId)).map(toPhoto); },
    async addQuestion(x) {
      const q2: Question = { ...x, id: newId(x.askedAt) };
      await run('INSERT INTO questions (id, home_id, asker_id, body, asked_at) VALUES (?, ?, ?, ?, ?)', q2.id, q2.homeId, q2.askerId, q2.body, q2.askedAt);
      return q2;
    },
    async getQuestion(id) { const r = await get('SELECT * FROM questions WHERE id = ?', id); return r && toQuestion(r); },
    async answerQuestion(id, answer, answererId, at) { await run('UPDATE questions SET answer = ?, answerer_id = ?, answered_at = ? WHERE id = ?', answer, answererId, at, id); },
    async listQuestions(homeId) { return (await all('SELECT * FROM questions WHERE home_id = ? ORDER BY asked_at DESC, id DESC', homeId)).map(toQuestion); },
    async setAttendance(a) {
      await run('INSERT INTO attendance (home_id, date, status, marked_by, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (home_id, date) DO UPDATE SET status = excluded.status, marked_by = excluded.marked_by, at = excluded.at', a.homeId, a.date, a.status, a.markedBy, a.at);
    },
    async listAttendance(homeId, limit = 14) {
      return (await all('SELECT * FROM attendance WHERE home_id = ? ORDER BY date DESC LIMIT ?', homeId, limit))
        .map((r) => ({ homeId: r.home_id as string, date: r.date as string, status: r.status as Attendance['status'], markedBy: r.marked_by as string, at: Number(r.at) }));
    },
    async recordAlertResponse(x) {
      const rec = { ...x, id: newId(x.at) };
      await run('INSERT INTO alert_responses (id, alert_id, home_id, account_id, action, at) VALUES (?, ?, ?, ?, ?, ?)', rec.id, rec.alertId, rec.homeId, rec.accountId, rec.action, rec.at);
      return rec;
    },
    async listAlertResponses(alertId) {
      return (await all('SELECT * FROM alert_responses WHERE alert_id = ? ORDER BY at, id', alertId))
        .map((r) => ({ id: r.id as string, alertId: r.alert_id as string, homeId: r.home_id as string, accountId: r.account_id as string, action: r.action as string, at: Number(r.at) }));
    },
    // ── end of the web app block ──
  };
  return store;
}

const rank = (s: Severity): number => (s === 'critical' ? 2 : s === 'warning' ? 1 : 0);

/**
 * Writes an alert's lifecycle row (on `q`: the store, or a transaction), one more version. With `expect`, only
 * while the row is at that version (one conditional statement: of two writers that read it, one wins); returns
 * whether it wrote.
 */
async function saveLifecycle(q: SqlQueries, l: AlertLifecycle, expect?: { version: number }): Promise<boolean> {
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  const cols = [n(l.acknowledgedBy), n(l.acknowledgedVia), n(l.acknowledgedAt), n(l.resolvedBy), n(l.resolvedVia), n(l.resolutionNote), json(l.policy), JSON.stringify(l.state ?? null), l.updatedAt];
  if (expect) {
    return (await q.run(`UPDATE alert_lifecycle SET acknowledged_by = ?, acknowledged_via = ?, acknowledged_at = ?, resolved_by = ?, resolved_via = ?,
        resolution_note = ?, policy = ?, state = ?, updated_at = ?, version = version + 1 WHERE alert_id = ? AND version = ?`, ...cols, l.alertId, expect.version)) > 0;
  }
  await q.run(`INSERT INTO alert_lifecycle (alert_id, home_id, acknowledged_by, acknowledged_via, acknowledged_at, resolved_by, resolved_via, resolution_note, policy, state, updated_at, version)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (alert_id) DO UPDATE SET
        acknowledged_by = excluded.acknowledged_by, acknowledged_via = excluded.acknowledged_via, acknowledged_at = excluded.acknowledged_at,
        resolved_by = excluded.resolved_by, resolved_via = excluded.resolved_via, resolution_note = excluded.resolution_note,
        policy = excluded.policy, state = excluded.state, updated_at = excluded.updated_at, version = alert_lifecycle.version + 1`,
      l.alertId, l.homeId, ...cols);
  return true;
}

/**
 * Inside a write: goes on only while the alert's lifecycle row is still at the version the caller read, and holds
 * the row until the write commits. The check is an UPDATE that changes nothing, so it takes the row's lock: on
 * PostgreSQL an answer's write of the row that committed first makes it match no row (refused), and one that comes
 * later waits for this write to commit. SQLite has one writer.
 */
async function mustBeAtVersion(q: SqlQueries, expect: LifecycleVersion): Promise<void> {
  const held = await q.run('UPDATE alert_lifecycle SET version = version WHERE alert_id = ? AND version = ?', expect.alertId, expect.version);
  if (held === 0) throw new MimamoriError('MIMAMORI_ERR_STALE', `alert ${expect.alertId}: its lifecycle changed after version ${expect.version}`);
}

/**
 * Inside a write: goes on only while `fence` still holds — the home's highest token is the fence's and names
 * its node. The home's lock (PostgreSQL: advisory) orders this against `fenceHome`: a write that passed the
 * check commits before the new owner's fence does, and the new owner then sees what it wrote (a send key:
 * never sent twice).
 */
async function mustHoldFence(t: SqlTx, fence: HomeFence): Promise<void> {
  await t.lock(`fence:${fence.home}`);
  const r = await t.get('SELECT token, owner FROM home_fences WHERE home_id = ?', fence.home);
  if (!r || Number(r.token) !== fence.token || r.owner !== fence.owner) {
    const has = r ? `token ${String(r.token)} of ${String(r.owner ?? 'nobody')}` : 'no fence';
    throw new MimamoriError('MIMAMORI_ERR_FENCED', `home ${fence.home}: ${fence.owner} with token ${fence.token}, the store has ${has}`);
  }
}

// ── Escalation (migration 3): EscalationStore ──
function escalationStore(db: SqlDb): EscalationStore {
  const { get, all, run } = db;
  const toLifecycle = (r: Row): AlertLifecycle => {
    const l: AlertLifecycle = { alertId: r.alert_id as string, homeId: r.home_id as string, state: jsonColumn(r.state, anyJson, `alert_lifecycle.state of ${String(r.alert_id)}`), updatedAt: Number(r.updated_at) };
    const s = (k: string) => opt<string>(r[k]);
    if (s('acknowledged_by') !== undefined) l.acknowledgedBy = s('acknowledged_by')!;
    if (s('acknowledged_via') !== undefined) l.acknowledgedVia = s('acknowledged_via')!;
    if (opt(r.acknowledged_at) !== undefined) l.acknowledgedAt = Number(r.acknowledged_at);
    if (s('resolved_by') !== undefined) l.resolvedBy = s('resolved_by')!;
    if (s('resolved_via') !== undefined) l.resolvedVia = s('resolved_via')!;
    if (s('resolution_note') !== undefined) l.resolutionNote = s('resolution_note')!;
    const policy = optJson(r.policy, anyJson, `alert_lifecycle.policy of ${String(r.alert_id)}`); if (policy !== undefined) l.policy = policy;
    if (opt(r.version) !== undefined) l.version = Number(r.version);
    return l;
  };
  const toKey = (r: Row): SendKey => {
    const k: SendKey = { key: r.key as string, alertId: r.alert_id as string, channel: r.channel as string, createdAt: Number(r.created_at) };
    const c = opt<string>(r.contact_id); if (c !== undefined) k.contactId = c;
    const nid = opt<string>(r.notification_id); if (nid !== undefined) k.notificationId = nid;
    const to = opt<string>(r.recipient); if (to !== undefined) k.recipient = to;
    const body = opt<string>(r.body); if (body !== undefined) k.body = body;
    return k;
  };
  return {
    async getEscalationPolicy(homeId) { return optJson((await get('SELECT policy FROM escalation_policies WHERE home_id = ?', homeId))?.policy, anyJson, `escalation_policies.policy of ${homeId}`); },
    async setEscalationPolicy(homeId, policy, at) {
      await run('INSERT INTO escalation_policies (home_id, policy, updated_at) VALUES (?, ?, ?) ON CONFLICT (home_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at', homeId, JSON.stringify(policy), at);
    },
    async getContactPreferences(contactId) { return optJson((await get('SELECT prefs FROM contact_preferences WHERE contact_id = ?', contactId))?.prefs, anyJson, `contact_preferences.prefs of ${contactId}`); },
    async setContactPreferences(contactId, prefs, at) {
      await run('INSERT INTO contact_preferences (contact_id, prefs, updated_at) VALUES (?, ?, ?) ON CONFLICT (contact_id) DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at', contactId, JSON.stringify(prefs), at);
    },
    async listContactPreferences() {
      const out = new Map<string, unknown>();
      for (const r of await all('SELECT contact_id, prefs FROM contact_preferences ORDER BY contact_id')) out.set(r.contact_id as string, jsonColumn(r.prefs, anyJson, `contact_preferences.prefs of ${String(r.contact_id)}`));
      return out;
    },
    async findContactsByPhone(phone) { return (await all('SELECT * FROM contacts WHERE phone = ? ORDER BY priority, name, id', phone)).map(toContact); },
    async getAlertLifecycle(alertId) { const r = await get('SELECT * FROM alert_lifecycle WHERE alert_id = ?', alertId); return r && toLifecycle(r); },
    async listOpenAlertLifecycles() {
      // The open alerts through the partial index alerts_one_open (its WHERE is this one), then their rows.
      return (await all(`SELECT l.* FROM alerts a JOIN alert_lifecycle l ON l.alert_id = a.id WHERE a.status <> 'resolved'
        ORDER BY a.opened_at, a.id`)).map(toLifecycle);
    },
    async saveAlertLifecycle(l, fence, expect) {
      if (fence) return db.tx(async (t) => { await mustHoldFence(t, fence); return saveLifecycle(t, l, expect); });
      return saveLifecycle(db, l, expect);
    },
    async claimSendKeys(keys, fence, expect) {
      return db.tx(async (t) => {
        if (fence) await mustHoldFence(t, fence);
        if (expect) await mustBeAtVersion(t, expect);
        const claimed: string[] = [];
        for (const k of keys) {
          const inserted = await t.run('INSERT INTO send_keys (key, alert_id, contact_id, channel, created_at, recipient, body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING', k.key, k.alertId, n(k.contactId), k.channel, k.createdAt, n(k.recipient), n(k.body));
          if (inserted === 1) claimed.push(k.key);
        }
        return claimed;
      });
    },
    async attachSendKeys(keys, notificationId) {
      await db.tx(async (t) => { for (const k of keys) await t.run('UPDATE send_keys SET notification_id = ? WHERE key = ?', notificationId, k); });
    },
    async listSendKeys(alertId) { return (await all('SELECT * FROM send_keys WHERE alert_id = ? ORDER BY created_at, key', alertId)).map(toKey); },
    async findSendKeysByNotification(notificationId) { return (await all('SELECT * FROM send_keys WHERE notification_id = ? ORDER BY created_at, key', notificationId)).map(toKey); },
    async listSendOutcomes(alertId) {
      return (await all(`SELECT k.*, x.status AS notification_status FROM send_keys k LEFT JOIN notifications x ON x.id = k.notification_id
        WHERE k.alert_id = ? ORDER BY k.created_at, k.key`, alertId)).map((r) => {
        const o: SendOutcome = toKey(r);
        const st = opt<string>(r.notification_status); if (st !== undefined) o.notificationStatus = st;
        return o;
      });
    },
    async listUnsettledSendKeys(since, homeId) {
      // One home's: from its alerts (index alerts_home, migration 23) to their keys (send_keys_alert).
      return (await all(`SELECT k.*, x.updated_at AS attempt_at, a.home_id AS alert_home FROM send_keys k
        LEFT JOIN notifications x ON x.id = k.notification_id ${homeId === undefined ? 'LEFT JOIN' : 'JOIN'} alerts a ON a.id = k.alert_id
        WHERE k.body IS NOT NULL AND k.recipient IS NOT NULL AND k.created_at >= ?
        AND (k.notification_id IS NULL OR x.id IS NULL OR (x.status = 'pending' AND x.provider_id IS NULL))${homeId === undefined ? '' : ' AND a.home_id = ?'}
        ORDER BY k.created_at, k.key`, ...(homeId === undefined ? [since] : [since, homeId]))).map((r) => {
        const k: UnsettledSendKey = { ...toKey(r), attemptAt: Number(r.attempt_at ?? r.created_at) };
        const home = opt<string>(r.alert_home); if (home !== undefined) k.homeId = home;
        return k;
      });
    },
    async takeUnsettledSend(send, at, fence) {
      if (!(at > send.attemptAt)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'a send is taken over only after its attempt began');
      const lost = new Error('taken by another writer');
      try {
        return await db.tx(async (t) => {
          if (fence) await mustHoldFence(t, fence);
          const existing = send.notificationId === undefined ? undefined : await t.get('SELECT id FROM notifications WHERE id = ?', send.notificationId);
          if (existing) {
            // One conditional statement: of two reconcilers that read this attempt, the second changes nothing.
            const taken = await t.run(`UPDATE notifications SET updated_at = ? WHERE id = ? AND status = 'pending' AND provider_id IS NULL AND updated_at = ?`,
              at, send.notificationId, send.attemptAt);
            return taken === 1 ? send.notificationId : undefined;
          }
          const r = send.record;
          const id = newId(r.createdAt);
          await t.run('INSERT INTO notifications (id, alert_id, contact_id, channel, status, provider_id, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            id, r.alertId, n(r.contactId), r.channel, r.status, n(r.providerId), n(r.error), r.createdAt, at);
          const where = send.notificationId === undefined ? 'notification_id IS NULL' : 'notification_id = ?';
          let attached = 0;
          for (const k of send.keys) attached += await t.run(`UPDATE send_keys SET notification_id = ? WHERE key = ? AND ${where}`, id, k, ...(send.notificationId === undefined ? [] : [send.notificationId]));
          // Another writer attached a key since it was read: roll the record back, take nothing.
          if (attached !== send.keys.length) throw lost;
          return id;
        });
      } catch (err) {
        if (err === lost) return undefined;
        throw err;
      }
    },
  };
}

// ── Video check-ins (migration 6): VideoStore ──
// ── Jobs (migration 18): the one durable schedule with leases (jobs/) ──
function toJob(r: Row): Job {
  const j: Job = {
    key: r.key as string, kind: r.kind as string, homeId: r.home_id as string, dueAt: Number(r.due_at), version: Number(r.version),
    attempts: Number(r.attempts), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  };
  const payload = optJson(r.payload, anyJson, `jobs.payload of ${String(r.key)}`); if (payload !== undefined) j.payload = payload;
  const owner = opt<string>(r.owner); if (owner !== undefined) j.owner = owner;
  const lease = opt<number>(r.lease_until); if (lease !== undefined) j.leaseUntil = Number(lease);
  const error = opt<string>(r.last_error); if (error !== undefined) j.lastError = error;
  return j;
}

function jobStore(db: SqlDb): JobStore {
  const { get, all, run } = db;
  /** `kind IN (?, ?, …)` for a non-empty list (callers return early on an empty one). */
  const kindIn = (kinds: readonly string[]) => `kind IN (${marks(kinds.length)})`;
  /** The run is over: the job goes (or, for `fail`, waits for its retry) if it is still that version and ours; else only our lease goes. */
  const finish = async (changed: number, key: string, owner: string, at: number): Promise<JobFinish> => {
    if (changed > 0) return 'done';
    const released = await run('UPDATE jobs SET owner = NULL, lease_until = NULL, updated_at = ? WHERE key = ? AND owner = ?', at, key, owner);
    return released > 0 ? 'rescheduled' : 'lost';
  };
  return {
    async scheduleJob(j, at, hold) {
      // The lease changes hands only when asked (`hold`) and no other node's lease is live; SET reads the old row.
      const take = 'excluded.owner IS NOT NULL AND (jobs.lease_until IS NULL OR jobs.lease_until <= excluded.updated_at OR jobs.owner = excluded.owner)';
      await run(`INSERT INTO jobs (key, kind, home_id, due_at, payload, version, owner, lease_until, attempts, last_error, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, 1, ?, ?, 0, NULL, ?, ?) ON CONFLICT (key) DO UPDATE SET
        kind = excluded.kind, home_id = excluded.home_id, due_at = excluded.due_at, payload = excluded.payload,
        version = jobs.version + 1, attempts = 0, last_error = NULL, updated_at = excluded.updated_at,
        owner = CASE WHEN ${take} THEN excluded.owner ELSE jobs.owner END,
        lease_until = CASE WHEN ${take} THEN excluded.lease_until ELSE jobs.lease_until END`,
      j.key, j.kind, j.homeId, j.dueAt, j.payload === undefined ? null : JSON.stringify(j.payload), n(hold?.owner), n(hold?.leaseUntil), at, at);
      return toJob((await get('SELECT * FROM jobs WHERE key = ?', j.key))!);
    },
    async ensureJob(j, at) {
      await run(`INSERT INTO jobs (key, kind, home_id, due_at, payload, version, owner, lease_until, attempts, last_error, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, 1, NULL, NULL, 0, NULL, ?, ?) ON CONFLICT (key) DO UPDATE SET version = jobs.version + 1, updated_at = excluded.updated_at`,
      j.key, j.kind, j.homeId, j.dueAt, j.payload === undefined ? null : JSON.stringify(j.payload), at, at);
      return toJob((await get('SELECT * FROM jobs WHERE key = ?', j.key))!);
    },
    async cancelJob(key, version) {
      return (version === undefined ? await run('DELETE FROM jobs WHERE key = ?', key) : await run('DELETE FROM jobs WHERE key = ? AND version = ?', key, version)) > 0;
    },
    async getJob(key) { const r = await get('SELECT * FROM jobs WHERE key = ?', key); return r && toJob(r); },
    async listJobs(kinds) {
      if (kinds && kinds.length === 0) return [];
      const rows = kinds ? await all(`SELECT * FROM jobs WHERE ${kindIn(kinds)} ORDER BY due_at, key`, ...kinds) : await all('SELECT * FROM jobs ORDER BY due_at, key');
      return rows.map(toJob);
    },
    async nextJobAt(kinds, fencedFor) {
      if (kinds.length === 0) return undefined;
      const fenced = fencedFor === undefined ? '' : ' AND home_id IN (SELECT home_id FROM home_fences WHERE owner = ?)';
      const r = await get(`SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > due_at THEN lease_until ELSE due_at END) AS at FROM jobs WHERE ${kindIn(kinds)}${fenced}`, ...kinds, ...(fencedFor === undefined ? [] : [fencedFor]));
      return opt<number>(r?.at) === undefined ? undefined : Number(r!.at);
    },
    async claimJobs({ kinds, owner, now, leaseUntil, limit, fencedFor }) {
      if (kinds.length === 0 || limit <= 0) return [];
      // Cluster mode: only the homes whose fence names this node (the predicate is in SQL, so it is as fresh as the claim).
      const fenced = fencedFor === undefined ? '' : ' AND home_id IN (SELECT home_id FROM home_fences WHERE owner = ?)';
      const fenceArgs = fencedFor === undefined ? [] : [fencedFor];
      return db.tx(async (t) => {
        // On PostgreSQL the rows picked are locked and skipped by a concurrent claim, which takes the next due ones.
        const due = await t.all(`SELECT key FROM jobs WHERE ${kindIn(kinds)} AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)${fenced} ORDER BY due_at, key LIMIT ?${db.skipLocked}`, ...kinds, now, now, ...fenceArgs, limit);
        const out: Job[] = [];
        for (const { key } of due) {
          // Conditional as well: whatever the isolation, a job whose lease is live (or whose home moved on) is never taken.
          const took = await t.run(`UPDATE jobs SET owner = ?, lease_until = ?, updated_at = ? WHERE key = ? AND (lease_until IS NULL OR lease_until <= ?)${fenced}`, owner, leaseUntil, now, key, now, ...fenceArgs);
          if (took > 0) out.push(toJob((await t.get('SELECT * FROM jobs WHERE key = ?', key))!));
        }
        return out;
      });
    },
    async completeJob(key, owner, version, at) {
      return finish(await run('DELETE FROM jobs WHERE key = ? AND owner = ? AND version = ?', key, owner, version), key, owner, at);
    },
    async failJob(key, owner, version, error, retryAt, at) {
      const changed = await run('UPDATE jobs SET due_at = ?, attempts = attempts + 1, last_error = ?, owner = NULL, lease_until = NULL, updated_at = ? WHERE key = ? AND owner = ? AND version = ?',
        retryAt, error, at, key, owner, version);
      return finish(changed, key, owner, at);
    },
    async extendJobLease(key, owner, leaseUntil) { return (await run('UPDATE jobs SET lease_until = ? WHERE key = ? AND owner = ?', leaseUntil, key, owner)) > 0; },
    async releaseJobLeases(owner) { return run('UPDATE jobs SET owner = NULL, lease_until = NULL WHERE owner = ?', owner); },
    async fenceHome(f, at) {
      return db.tx(async (t) => {
        // The same lock as a fenced write (mustHoldFence): a send key the old owner is recording commits first.
        await t.lock(`fence:${f.home}`);
        const r = await t.get('SELECT token, owner FROM home_fences WHERE home_id = ?', f.home);
        if (r && (Number(r.token) > f.token || (Number(r.token) === f.token && r.owner !== f.owner))) return false;
        await t.run(`INSERT INTO home_fences (home_id, token, owner, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (home_id) DO UPDATE SET token = excluded.token, owner = excluded.owner, updated_at = excluded.updated_at`, f.home, f.token, f.owner, at);
        // The former owner's claims end here: its runs finish as 'lost', and the due jobs are free for the new owner now.
        await t.run('UPDATE jobs SET owner = NULL, lease_until = NULL, updated_at = ? WHERE home_id = ? AND owner IS NOT NULL', at, f.home);
        return true;
      });
    },
    async unfenceHome(f, at) {
      return (await run('UPDATE home_fences SET owner = NULL, updated_at = ? WHERE home_id = ? AND owner = ? AND token = ?', at, f.home, f.owner, f.token)) > 0;
    },
    async getHomeFence(home) {
      const r = await get('SELECT token, owner FROM home_fences WHERE home_id = ?', home);
      if (!r) return undefined;
      const owner = opt<string>(r.owner);
      return owner === undefined ? { token: Number(r.token) } : { token: Number(r.token), owner };
    },
  };
}

function videoStore(db: SqlDb): VideoStore {
  const { get, all, run } = db;
  const toCheckin = (r: Row): VideoCheckin => {
    const c: VideoCheckin = { id: r.id as string, homeId: r.home_id as string, dueAt: Number(r.due_at), callerId: r.caller_id as string, createdBy: r.created_by as string, createdAt: Number(r.created_at), status: r.status as CheckinStatus, declines: Number(r.declines) };
    const m = opt<MissedReason>(r.missed_reason); if (m !== undefined) c.missedReason = m;
    const call = opt<string>(r.call_id); if (call !== undefined) c.callId = call;
    return c;
  };
  const toPermission = (r: Row): VideoPermission => ({ homeId: r.home_id as string, accountId: r.account_id as string, trusted: Number(r.trusted) === 1, maySchedule: Number(r.may_schedule) === 1, lookIn: Number(r.look_in) === 1, updatedAt: Number(r.updated_at), updatedBy: r.updated_by as string });
  const toCall = (r: Row): VideoCall => {
    const c: VideoCall = { id: r.id as string, homeId: r.home_id as string, callerId: r.caller_id as string, kind: r.kind as VideoCall['kind'], startedAt: Number(r.started_at) };
    const s = (k: string) => opt<string>(r[k]);
    if (s('checkin_id') !== undefined) c.checkinId = s('checkin_id')!;
    if (s('alert_id') !== undefined) c.alertId = s('alert_id')!;
    if (opt(r.answered_at) !== undefined) c.answeredAt = Number(r.answered_at);
    if (s('answered_by') !== undefined) c.answeredBy = s('answered_by') as VideoCall['answeredBy'];
    if (opt(r.ended_at) !== undefined) c.endedAt = Number(r.ended_at);
    if (s('outcome') !== undefined) c.outcome = s('outcome') as VideoCall['outcome'];
    return c;
  };
  const toNote = (r: Row): VideoNote => {
    const x: VideoNote = { id: r.id as string, homeId: r.home_id as string, authorId: r.author_id as string, mood: r.mood as string, eating: r.eating as string, followUp: r.follow_up as string, at: Number(r.at) };
    const c = opt<string>(r.call_id); if (c !== undefined) x.callId = c;
    return x;
  };
  return {
    async addCheckin(x) {
      const c: VideoCheckin = { ...x, id: newId(x.createdAt), status: 'scheduled', declines: 0 };
      await run('INSERT INTO video_checkins (id, home_id, due_at, caller_id, created_by, created_at, status, declines) VALUES (?, ?, ?, ?, ?, ?, ?, 0)', c.id, c.homeId, c.dueAt, c.callerId, c.createdBy, c.createdAt, c.status);
      return c;
    },
    async getCheckin(id) { const r = await get('SELECT * FROM video_checkins WHERE id = ?', id); return r && toCheckin(r); },
    async listCheckins(homeId, from = 0) { return (await all('SELECT * FROM video_checkins WHERE home_id = ? AND due_at >= ? ORDER BY due_at, id', homeId, from)).map(toCheckin); },
    async listScheduledCheckins() { return (await all("SELECT * FROM video_checkins WHERE status = 'scheduled' ORDER BY due_at, id")).map(toCheckin); },
    async updateCheckin(id, p, expect) {
      // One statement: the patch and the state it was decided on (`expect`) are checked and written together.
      const set: Array<[string, unknown]> = [];
      if (p.status !== undefined) set.push(['status', p.status]);
      if (p.declines !== undefined) set.push(['declines', p.declines]);
      if (p.missedReason !== undefined) set.push(['missed_reason', p.missedReason]);
      if (p.callId !== undefined) set.push(['call_id', p.callId]);
      const where: Array<[string, unknown]> = [['id', id]];
      if (expect) where.push(['status', expect.status]);
      if (expect?.declines !== undefined) where.push(['declines', expect.declines]);
      const cond = where.map(([c]) => `${c} = ?`).join(' AND ');
      if (set.length === 0) return (await get(`SELECT id FROM video_checkins WHERE ${cond}`, ...where.map(([, v]) => v))) !== undefined;
      return (await run(`UPDATE video_checkins SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE ${cond}`, ...set.map(([, v]) => v), ...where.map(([, v]) => v))) > 0;
    },
    async setVideoPermission(p) {
      await run('INSERT INTO video_permissions (home_id, account_id, trusted, may_schedule, look_in, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (home_id, account_id) DO UPDATE SET trusted = excluded.trusted, may_schedule = excluded.may_schedule, look_in = excluded.look_in, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
        p.homeId, p.accountId, p.trusted ? 1 : 0, p.maySchedule ? 1 : 0, p.lookIn ? 1 : 0, p.updatedAt, p.updatedBy);
    },
    async getVideoPermission(homeId, accountId) { const r = await get('SELECT * FROM video_permissions WHERE home_id = ? AND account_id = ?', homeId, accountId); return r && toPermission(r); },
    async listVideoPermissions(homeId) { return (await all('SELECT * FROM video_permissions WHERE home_id = ? ORDER BY account_id', homeId)).map(toPermission); },
    async saveCall(c) {
      // A call is answered once and ends once: what a save wrote stays, so a save that commits late (a pool) undoes nothing.
      await run(`INSERT INTO video_calls (id, home_id, caller_id, kind, checkin_id, alert_id, started_at, answered_at, answered_by, ended_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET answered_at = COALESCE(video_calls.answered_at, excluded.answered_at), answered_by = COALESCE(video_calls.answered_by, excluded.answered_by),
          ended_at = COALESCE(video_calls.ended_at, excluded.ended_at), outcome = COALESCE(video_calls.outcome, excluded.outcome)`,
      c.id, c.homeId, c.callerId, c.kind, n(c.checkinId), n(c.alertId), c.startedAt, n(c.answeredAt), n(c.answeredBy), n(c.endedAt), n(c.outcome));
    },
    async getCall(id) { const r = await get('SELECT * FROM video_calls WHERE id = ?', id); return r && toCall(r); },
    async listCalls(homeId, limit = 50) { return (await all('SELECT * FROM video_calls WHERE home_id = ? ORDER BY started_at DESC, id DESC LIMIT ?', homeId, limit)).map(toCall); },
    async addVideoNote(x) {
      const note: VideoNote = { ...x, id: newId(x.at) };
      await run('INSERT INTO video_notes (id, home_id, call_id, author_id, mood, eating, follow_up, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', note.id, note.homeId, n(note.callId), note.authorId, note.mood, note.eating, note.followUp, note.at);
      return note;
    },
    async getVideoNote(id) { const r = await get('SELECT * FROM video_notes WHERE id = ?', id); return r && toNote(r); },
    async listVideoNotes(homeId, limit = 50) { return (await all('SELECT * FROM video_notes WHERE home_id = ? ORDER BY at DESC, id DESC LIMIT ?', homeId, limit)).map(toNote); },
  };
}
// ── end of the video check-ins block ──

// ── Backups and the trail (migration 8): TrailStore ──
/** The newest sealed record of a trail (seq 0 and the genesis hash when there is none). */
async function trailHead(q: SqlQueries, kind: TrailKind): Promise<TrailHead> {
  const r = await q.get(`SELECT seq, hash FROM ${trailColumns[kind].table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`);
  return r ? { seq: Number(r.seq), hash: r.hash as string } : { seq: 0, hash: genesisHash };
}

/**
 * Appends a record to a trail's hash chain: reads the head and inserts the
 * next record in one transaction holding the trail's lock, so two processes
 * writing the same database (the hub and a CLI command) cannot both take the
 * same seq.
 */
async function appendToTrail(db: SqlDb, kind: TrailKind, fields: Record<string, string | number | null>): Promise<void> {
  const { table, columns } = trailColumns[kind];
  await db.tx(async (t: SqlTx) => {
    await t.lock(`trail:${kind}`);
    const head = await trailHead(t, kind);
    const seq = head.seq + 1;
    const hash = trailHash(kind, seq, head.hash, fields);
    await t.run(`INSERT INTO ${table} (${columns.join(', ')}, seq, prev_hash, hash) VALUES (${marks(columns.length)}, ?, ?, ?)`,
      ...columns.map((c) => fields[c] ?? null), seq, head.hash, hash);
  });
}

function trailStore(db: SqlDb): TrailStore {
  const { all, run } = db;
  const toBackup = (r: Row): BackupRecord => {
    const b: BackupRecord = { id: r.id as string, startedAt: Number(r.started_at), status: r.status as BackupRecord['status'], targets: jsonColumn(r.targets, backupTargets, `backups.targets of ${String(r.id)}`) as BackupRecord['targets'], verified: Number(r.verified) === 1 };
    if (opt(r.finished_at) !== undefined) b.finishedAt = Number(r.finished_at);
    const s = (k: string) => opt<string>(r[k]);
    if (s('file') !== undefined) b.file = s('file')!;
    if (opt(r.size) !== undefined) b.size = Number(r.size);
    if (s('sha256') !== undefined) b.sha256 = s('sha256')!;
    const contents = optJson(r.contents, anyJson, `backups.contents of ${String(r.id)}`); if (contents !== undefined) b.contents = contents;
    if (s('verify_note') !== undefined) b.verifyNote = s('verify_note')!;
    const heads = optJson(r.heads, backupHeads, `backups.heads of ${String(r.id)}`); if (heads !== undefined) b.heads = heads;
    if (s('error') !== undefined) b.error = s('error')!;
    return b;
  };
  return {
    async saveBackup(b) {
      await run(`INSERT INTO backups (id, started_at, finished_at, status, file, size, sha256, targets, contents, verified, verify_note, heads, error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at, status = excluded.status,
        file = excluded.file, size = excluded.size, sha256 = excluded.sha256, targets = excluded.targets, contents = excluded.contents,
        verified = excluded.verified, verify_note = excluded.verify_note, heads = excluded.heads, error = excluded.error`,
      b.id, b.startedAt, n(b.finishedAt), b.status, n(b.file), n(b.size), n(b.sha256), JSON.stringify(b.targets),
      b.contents === undefined ? null : JSON.stringify(b.contents), b.verified ? 1 : 0, n(b.verifyNote), b.heads ? JSON.stringify(b.heads) : null, n(b.error));
    },
    async listBackups(limit = 50) { return (await all('SELECT * FROM backups ORDER BY started_at DESC, id DESC LIMIT ?', limit)).map(toBackup); },
    async trailHeads() { return { audit: await trailHead(db, 'audit'), access: await trailHead(db, 'access') }; },
    async readTrail(kind) {
      const { table, columns } = trailColumns[kind];
      // Sealed records by seq, then any without one (by time, then id).
      return (await all(`SELECT ${columns.join(', ')}, seq, prev_hash, hash FROM ${table} ORDER BY seq IS NULL, seq, at, id`)).map((r) => ({
        seq: opt<number>(r.seq) === undefined ? null : Number(r.seq),
        prevHash: opt<string>(r.prev_hash) ?? null,
        hash: opt<string>(r.hash) ?? null,
        fields: Object.fromEntries(columns.map((c) => [c, r[c] ?? null])),
      }));
    },
  };
}
// ── end of the backups and trail block ──

// ── Contact addresses and link codes (migration 11, issue 17) ──
/** Addresses list by kind in the order of `addressKinds` (phone, e-mail, LINE, push, tablet), then as added. */
const kindOrder = `CASE kind ${addressKinds.map((k, i) => `WHEN '${k}' THEN ${i}`).join(' ')} ELSE ${addressKinds.length} END`;

function addressStore(db: SqlDb): AddressStore {
  const { get, all, run } = db;
  const toAddress = (r: Row): ContactAddress => {
    const a: ContactAddress = { id: r.id as string, contactId: r.contact_id as string, kind: r.kind as AddressKind, address: r.address as string, verification: r.verification as AddressVerification, createdAt: Number(r.created_at) };
    const label = opt<string>(r.label); if (label !== undefined) a.label = label;
    if (opt(r.verified_at) !== undefined) a.verifiedAt = Number(r.verified_at);
    return a;
  };
  return {
    async saveContactAddress(a) {
      const id = a.id ?? newId(a.createdAt);
      await run(`INSERT INTO contact_addresses (id, contact_id, kind, address, label, verification, verified_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (contact_id, kind, address) DO UPDATE SET label = excluded.label, verification = excluded.verification, verified_at = excluded.verified_at`,
      id, a.contactId, a.kind, a.address, n(a.label), a.verification, n(a.verifiedAt), a.createdAt);
      return toAddress((await get('SELECT * FROM contact_addresses WHERE contact_id = ? AND kind = ? AND address = ?', a.contactId, a.kind, a.address))!);
    },
    async listContactAddresses(contactId) { return (await all(`SELECT * FROM contact_addresses WHERE contact_id = ? ORDER BY ${kindOrder}, created_at, id`, contactId)).map(toAddress); },
    async findContactsByAddress(kind, address) {
      return (await all('SELECT c.* FROM contacts c JOIN contact_addresses a ON a.contact_id = c.id WHERE a.kind = ? AND a.address = ? ORDER BY c.priority, c.name, c.id', kind, address)).map(toContact);
    },
    async removeContactAddress(sel) {
      return 'id' in sel ? run('DELETE FROM contact_addresses WHERE id = ?', sel.id) : run('DELETE FROM contact_addresses WHERE kind = ? AND address = ?', sel.kind, sel.address);
    },
    async createLinkCode(c) {
      await db.tx(async (t) => {
        await t.run('DELETE FROM address_link_codes WHERE contact_id = ? AND kind = ?', c.contactId, c.kind);
        await t.run('INSERT INTO address_link_codes (code, kind, contact_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)', c.code, c.kind, c.contactId, c.expiresAt, c.createdAt);
      });
    },
    async takeLinkCode(kind, code, at) {
      // One statement takes the code: two uses racing cannot both get it.
      const r = await get('DELETE FROM address_link_codes WHERE kind = ? AND code = ? RETURNING contact_id, expires_at', kind, code);
      return r && Number(r.expires_at) > at ? (r.contact_id as string) : undefined;
    },
    async setContactAccount(contactId, accountId) { await run('UPDATE contacts SET account_id = ? WHERE id = ?', accountId, contactId); },
    async listContactsOfAccount(accountId) { return (await all('SELECT * FROM contacts WHERE account_id = ? ORDER BY home_id, priority, id', accountId)).map(toContact); },
    async getContact(id) { const r = await get('SELECT * FROM contacts WHERE id = ?', id); return r && toContact(r); },
    async setContactLanguage(id, language) { await run('UPDATE contacts SET language = ? WHERE id = ?', language, id); },
  };
}
// ── end of the contact addresses block ──

// ── Day-care facilities (migration 17, issue 14): FacilityStore ──
function facilityStore(db: SqlDb, now: () => number): FacilityStore {
  const { get, all, run } = db;
  const toFacility = (r: Row): Facility => ({ id: r.id as string, name: r.name as string, createdAt: Number(r.created_at) });
  return {
    async createFacility(f) {
      const facility: Facility = { id: f.id, name: f.name, createdAt: f.createdAt ?? now() };
      try {
        await run('INSERT INTO facilities (id, name, created_at) VALUES (?, ?, ?)', facility.id, facility.name, facility.createdAt);
      } catch (err) {
        if (db.isConflict(err)) throw new MimamoriError('MIMAMORI_ERR_CONFLICT', `facility ${f.id} exists`);
        throw err;
      }
      return facility;
    },
    async getFacility(id) { const r = await get('SELECT * FROM facilities WHERE id = ?', id); return r && toFacility(r); },
    async listFacilities() { return (await all('SELECT * FROM facilities ORDER BY id')).map(toFacility); },
    async listEnrollments(filter = {}) {
      const rows = filter.homeId === undefined
        ? await all('SELECT facility_id, home_id FROM facility_homes ORDER BY facility_id, home_id')
        : await all('SELECT facility_id, home_id FROM facility_homes WHERE home_id = ? ORDER BY facility_id, home_id', filter.homeId);
      return rows.map((r) => ({ facilityId: r.facility_id as string, homeId: r.home_id as string }));
    },
    async leaveFacility(facilityId, homeId) { return (await run('DELETE FROM facility_homes WHERE facility_id = ? AND home_id = ?', facilityId, homeId)) === 1; },
  };
}
// ── end of the facilities block ──

// ── Monthly reports (migration 13, issue 14) ──
function toReport(r: Row): MonthlyReportRecord {
  return {
    id: r.id as string, homeId: r.home_id as string, month: r.month as string, language: r.language as Language,
    createdAt: Number(r.created_at), createdBy: r.created_by as string, complete: Number(r.complete) === 1,
    file: r.file as string, size: Number(r.size), sha256: r.sha256 as string, pages: Number(r.pages),
  };
}
function reportStore(db: SqlDb): ReportStore {
  const { get, all, run } = db;
  return {
    async saveReport(r) {
      await run(`INSERT INTO reports (id, home_id, month, language, created_at, created_by, complete, file, size, sha256, pages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (home_id, month, language) DO UPDATE SET id = excluded.id, created_at = excluded.created_at, created_by = excluded.created_by,
        complete = excluded.complete, file = excluded.file, size = excluded.size, sha256 = excluded.sha256, pages = excluded.pages`,
      r.id, r.homeId, r.month, r.language, r.createdAt, r.createdBy, r.complete ? 1 : 0, r.file, r.size, r.sha256, r.pages);
    },
    async getReport(id) { const r = await get('SELECT * FROM reports WHERE id = ?', id); return r && toReport(r); },
    async findReport(homeId, month, language) { const r = await get('SELECT * FROM reports WHERE home_id = ? AND month = ? AND language = ?', homeId, month, language); return r && toReport(r); },
    async listReports(filter = {}) {
      const where: string[] = []; const params: unknown[] = [];
      if (filter.homeIds) { where.push(`home_id IN (${marks(filter.homeIds.length) || 'NULL'})`); params.push(...filter.homeIds); }
      if (filter.month !== undefined) { where.push('month = ?'); params.push(filter.month); }
      const sql = `SELECT * FROM reports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY month DESC, home_id, language LIMIT ?`;
      return (await all(sql, ...params, filter.limit ?? 200)).map(toReport);
    },
  };
}
// ── end of the monthly reports block ──

// ── SQLite (better-sqlite3): the embedded default ──

/**
 * Opens (creating if needed) the SQLite database at `path` and brings its
 * schema up to date. Use `':memory:'` for a throw-away store.
 *
 * `readonly: true` (the reference hub, backup/reference.ts) opens an existing
 * file with SQLite's read-only flag and `query_only`, changes no pragma that
 * writes, and refuses a schema older than this code reads: every write method
 * then fails inside SQLite ("attempt to write a readonly database").
 */
export function createSqliteStore(path: string, opts: StoreOptions & { readonly?: boolean } = {}): Store {
  let db: Database.Database;
  if (opts.readonly) {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('query_only = ON');
    db.pragma('busy_timeout = 5000');
    const version = Number((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0);
    const latest = Math.max(...migrations.map((m) => m.version));
    if (version !== latest) { db.close(); throw new MimamoriError('MIMAMORI_ERR_CONFIG', `${path} has schema version ${version}; this mimamori reads ${latest} read-only`); }
  } else {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, opts.now ?? Date.now);
    if (opts.checkpointInWorker !== undefined && path !== ':memory:') {
      const cp = startCheckpointer(path, opts.checkpointInWorker);
      db.pragma(`wal_autocheckpoint = ${cp.backstopPages}`);
      return createSqlStore(sqliteDb(db, () => cp.stop()), opts);
    }
  }
  return createSqlStore(sqliteDb(db), opts);
}

function migrate(db: Database.Database, now: () => number): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      for (const sql of m.sql) db.exec(sql);
      m.after?.({ all: (sql, ...p) => db.prepare(sql).all(...p) as Row[], run: (sql, ...p) => { db.prepare(sql).run(...p); } });
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now());
    })();
  }
}

/**
 * The SQL port over one better-sqlite3 connection. Statements run
 * synchronously; a transaction (`BEGIN IMMEDIATE` … `COMMIT`) may await
 * between its statements, so while one is open every other call waits its
 * turn in a queue instead of landing inside it.
 */
export function sqliteDb(db: Database.Database, beforeClose?: () => Promise<void>): SqlDb {
  const stmt = new Map<string, Database.Statement>();
  const q = (sql: string): Database.Statement => {
    let s = stmt.get(sql);
    if (!s) { s = db.prepare(sql); stmt.set(sql, s); }
    return s;
  };
  /** Every row through one prepared statement, synchronously (inside the caller's transaction). */
  const runRows = (sql: string, rows: ReadonlyArray<readonly unknown[]>): number => {
    if (rows.length === 0) return 0;
    const s = q(sql);
    let changes = 0;
    for (const row of rows) changes += s.run(...row).changes;
    return changes;
  };
  /** The same in a transaction of its own (a savepoint when one is open). */
  const runRowsInTx = db.transaction(runRows);
  const direct: SqlTx = {
    get: async (sql, ...p) => q(sql).get(...p) as Row | undefined,
    all: async (sql, ...p) => q(sql).all(...p) as Row[],
    run: async (sql, ...p) => q(sql).run(...p).changes,
    runMany: async (sql, rows) => runRows(sql, rows),
    lock: async () => {}, // BEGIN IMMEDIATE already made this the one writer
    tryInsertEach: async (sql, rows) => {
      const s = q(sql);
      const inserted: boolean[] = new Array<boolean>(rows.length);
      for (let i = 0; i < rows.length; i++) inserted[i] = s.run(...rows[i]!).changes !== 0;
      return inserted;
    },
    insertEach: async (sql, rows) => {
      const s = q(sql);
      const ids: number[] = new Array<number>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = s.run(...rows[i]!);
        ids[i] = r.changes === 0 ? 0 : Number(r.lastInsertRowid);
      }
      return ids;
    },
  };
  // Transactions in flight or waiting; while any is, plain calls queue behind them.
  let queued = 0;
  let tail: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    queued++;
    const result = tail.then(work);
    tail = result.then(() => { queued--; }, () => { queued--; });
    return result;
  };
  return {
    get: (sql, ...p) => (queued === 0 ? direct.get(sql, ...p) : inTurn(() => direct.get(sql, ...p))),
    all: (sql, ...p) => (queued === 0 ? direct.all(sql, ...p) : inTurn(() => direct.all(sql, ...p))),
    run: (sql, ...p) => (queued === 0 ? direct.run(sql, ...p) : inTurn(() => direct.run(sql, ...p))),
    runMany: async (sql, rows) => (queued === 0 ? runRowsInTx(sql, rows) : inTurn(async () => runRowsInTx(sql, rows))),
    tx: (work) => inTurn(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const out = await work(direct);
        db.exec('COMMIT');
        return out;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    }),
    isConflict: (err) => String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_CONSTRAINT'),
    skipLocked: '',
    commitsInOrder: true,
    close: async () => { await tail.catch(() => {}); await beforeClose?.(); db.close(); },
  };
}
