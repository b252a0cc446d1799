/**
 * The relational store: homes, residents, contacts, devices, rule settings,
 * persisted rule state, event de-duplication, alerts, notifications and the
 * audit log. The interface is asynchronous so that PostgreSQL can serve it as
 * well as the embedded SQLite default (better-sqlite3) implemented here.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from './migrations.js';
import { MimamoriError } from './errors.js';
import { newId } from './ids.js';
import { genesisHash, trailColumns, trailHash, type TrailHead, type TrailKind, type TrailRow } from './trail.js';

export type Language = 'ja' | 'en';
export type ContactRole = 'resident' | 'family' | 'caregiver' | 'emergency';
export type Severity = 'info' | 'warning' | 'critical';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

export interface Home { id: string; name: string; timezone: string; address?: string; entryNotes?: string; createdAt: number }
export interface Resident { id: string; homeId: string; name: string; birthYear?: number; language: Language }
/** One message of an ingest batch (see `Store.commitIngestBatch`). */
export interface IngestBatchItem { homeId: string; deviceId: string; eventId?: string; outbox?: string }
export interface Contact {
  id: string; homeId: string; name: string; role: ContactRole; phone?: string; email?: string; language: Language; priority: number;
  /** The web account this person logs in with (migration 11): their /account page edits this contact's settings. */
  accountId?: string;
}
export interface Device { homeId: string; deviceId: string; kind: string; label?: string; secretHash: string; disabled: boolean; createdAt: number }
export interface Alert {
  id: string; homeId: string; rule: string; severity: Severity; status: AlertStatus; message: string;
  finding: unknown; repeats: number; openedAt: number; updatedAt: number; closedAt?: number;
}
export interface NotificationRecord {
  id: string; alertId: string; contactId?: string; channel: string; status: string;
  providerId?: string; error?: string; createdAt: number; updatedAt: number;
}
export interface AuditRecord { id: string; at: number; actor: string; action: string; subject: string; detail?: unknown }
/** A device message the ingest refused (dead-letter table, migration 2). */
export interface RejectedMessage { id: string; at: number; topic: string; homeId?: string; deviceId?: string; reason: string; detail?: string; payload?: string }

// ── Web app (dashboards/, migration 4): accounts, sessions, relationships, consent, access log, news, questions, attendance ──
export type WebRole = 'resident' | 'family' | 'staff' | 'caregiver' | 'operator';
export interface WebAccount { id: string; login: string; name: string; role: WebRole; language: Language; passwordHash: string; totpSecret?: string; lockedUntil?: number; createdAt: number }
export interface WebSession { id: string; accountId: string; csrf: string; mfaOk: boolean; createdAt: number; lastSeenAt: number; userAgent?: string }
/** `home`: family, resident or caregiver of a home; `guardian`: family who may set the home's consent; `facility`: staff of a day-care facility. */
export interface WebLink { accountId: string; kind: 'home' | 'facility' | 'guardian'; targetId: string }
export interface Consent { homeId: string; viewerId: string; level: 'coarse' | 'detailed'; photos: boolean; updatedAt: number; updatedBy: string }
export interface AccessRecord { id: string; at: number; viewerId: string; homeId: string; what: string }
export interface NewsItem { id: string; homeId: string; authorId: string; body: string; createdAt: number }
export interface NewsPhoto { id: string; newsId: string; homeId: string; width: number; height: number }
export interface Question { id: string; homeId: string; askerId: string; body: string; askedAt: number; answer?: string; answererId?: string; answeredAt?: number }
export interface Attendance { homeId: string; date: string; status: 'present' | 'absent'; markedBy: string; at: number }
export interface AlertResponse { id: string; alertId: string; homeId: string; accountId: string; action: string; at: number }

/** The web app's part of the store (dashboards/). */
export interface WebStore {
  createAccount(a: Omit<WebAccount, 'id' | 'createdAt'> & { id?: string; createdAt: number }): Promise<WebAccount>;
  getAccount(id: string): Promise<WebAccount | undefined>;
  findAccountByLogin(login: string): Promise<WebAccount | undefined>;
  listAccounts(): Promise<WebAccount[]>;
  setAccountTotp(id: string, secret: string | null): Promise<void>;
  /** Records `step` as the account's last accepted TOTP step unless it is not newer than the last one (false: a replay). */
  acceptTotpStep(id: string, step: number): Promise<boolean>;
  setAccountLockedUntil(id: string, until: number | null): Promise<void>;
  setAccountLanguage(id: string, language: Language): Promise<void>;
  recordLoginFailure(accountId: string, at: number): Promise<void>;
  countLoginFailures(accountId: string, since: number): Promise<number>;
  clearLoginFailures(accountId: string): Promise<void>;
  createSession(s: WebSession): Promise<void>;
  getSession(id: string): Promise<WebSession | undefined>;
  updateSession(id: string, patch: { lastSeenAt?: number; mfaOk?: boolean }): Promise<void>;
  listSessions(accountId: string): Promise<WebSession[]>;
  deleteSession(id: string): Promise<void>;
  linkAccount(l: WebLink): Promise<void>;
  listLinks(accountId: string): Promise<WebLink[]>;
  /** Accounts linked to a home or facility. */
  listLinked(kind: WebLink['kind'], targetId: string): Promise<WebLink[]>;
  enrollHome(facilityId: string, homeId: string): Promise<void>;
  listEnrolledHomes(facilityId: string): Promise<string[]>;
  setConsent(c: Consent): Promise<void>;
  getConsent(homeId: string, viewerId: string): Promise<Consent | undefined>;
  recordAccess(r: Omit<AccessRecord, 'id'>): Promise<void>;
  listAccess(homeId: string, limit?: number): Promise<AccessRecord[]>;
  addNews(n: Omit<NewsItem, 'id'> & { id?: string }): Promise<NewsItem>;
  getNews(id: string): Promise<NewsItem | undefined>;
  listNews(homeId: string, since?: number): Promise<NewsItem[]>;
  addNewsPhoto(p: NewsPhoto): Promise<void>;
  getNewsPhoto(id: string): Promise<NewsPhoto | undefined>;
  listNewsPhotos(newsId: string): Promise<NewsPhoto[]>;
  addQuestion(q: Omit<Question, 'id'>): Promise<Question>;
  getQuestion(id: string): Promise<Question | undefined>;
  answerQuestion(id: string, answer: string, answererId: string, at: number): Promise<void>;
  listQuestions(homeId: string): Promise<Question[]>;
  setAttendance(a: Attendance): Promise<void>;
  listAttendance(homeId: string, limit?: number): Promise<Attendance[]>;
  recordAlertResponse(r: Omit<AlertResponse, 'id'>): Promise<AlertResponse>;
  listAlertResponses(alertId: string): Promise<AlertResponse[]>;
}

// ── Escalation (notifier/, migration 3): alert lifecycle, policies, contact preferences, schedule, send keys ──
/** Who acknowledged / resolved an alert, and its escalation state with the policy snapshot. */
export interface AlertLifecycle {
  alertId: string; homeId: string;
  acknowledgedBy?: string; acknowledgedVia?: string; acknowledgedAt?: number;
  resolvedBy?: string; resolvedVia?: string; resolutionNote?: string;
  /** The escalation policy as it was when escalation started (later edits don't change a running escalation). */
  policy?: unknown;
  /** The escalation engine's state (JSON). */
  state: unknown;
  updatedAt: number;
}
/** One timed piece of notifier work (an escalation step, a digest); the one durable schedule. */
export interface ScheduledJob { id: string; kind: string; subject: string; dueAt: number; payload?: unknown }
/** Recorded before a message is sent, so a resumed escalation never sends it twice. */
export interface SendKey {
  key: string; alertId: string; contactId?: string; channel: string; notificationId?: string; createdAt: number;
  /** Migration 7, for channels the provider can be asked about (SMS, voice): the address and text handed over. */
  recipient?: string; body?: string;
}

/** The escalation engine's part of the store (notifier/). */
export interface EscalationStore {
  getEscalationPolicy(homeId: string): Promise<unknown>;
  setEscalationPolicy(homeId: string, policy: unknown, at: number): Promise<void>;
  getContactPreferences(contactId: string): Promise<unknown>;
  setContactPreferences(contactId: string, prefs: unknown, at: number): Promise<void>;
  /** Every contact's stored preferences, by contact id. */
  listContactPreferences(): Promise<Map<string, unknown>>;
  /** Contacts (of any home) with this phone number. */
  findContactsByPhone(phone: string): Promise<Contact[]>;
  getAlertLifecycle(alertId: string): Promise<AlertLifecycle | undefined>;
  saveAlertLifecycle(l: AlertLifecycle): Promise<void>;
  scheduleJob(job: ScheduledJob): Promise<void>;
  cancelJob(id: string): Promise<void>;
  getJob(id: string): Promise<ScheduledJob | undefined>;
  listJobs(): Promise<ScheduledJob[]>;
  /** Inserts the keys that don't exist yet, in one transaction; returns those it inserted. */
  claimSendKeys(keys: Array<Omit<SendKey, 'notificationId'>>): Promise<string[]>;
  attachSendKeys(keys: string[], notificationId: string): Promise<void>;
  listSendKeys(alertId: string): Promise<SendKey[]>;
  findSendKeysByNotification(notificationId: string): Promise<SendKey[]>;
  /**
   * Keys written at or after `since` that carry a recipient and body but whose
   * send has no outcome yet: no notification, or a `pending` one without a
   * provider id (the process died inside the send window). Migration 7.
   */
  listUnsettledSendKeys(since: number): Promise<SendKey[]>;
}

// ── Video check-ins (dashboards/video*, migration 6): schedule, permissions, calls, notes ──
export type CheckinStatus = 'scheduled' | 'done' | 'missed' | 'cancelled';
export type MissedReason = 'no-answer' | 'declined' | 'not-called';
export interface VideoCheckin {
  id: string; homeId: string; dueAt: number; callerId: string; createdBy: string; createdAt: number;
  status: CheckinStatus; declines: number; missedReason?: MissedReason; callId?: string;
}
/** What the resident (or guardian) allows one person for video: auto-answer (trusted), scheduling, emergency look-in. */
export interface VideoPermission { homeId: string; accountId: string; trusted: boolean; maySchedule: boolean; lookIn: boolean; updatedAt: number; updatedBy: string }
export interface VideoCall {
  id: string; homeId: string; callerId: string; kind: 'call' | 'look-in'; checkinId?: string; alertId?: string;
  startedAt: number; answeredAt?: number; answeredBy?: 'auto' | 'resident'; endedAt?: number;
  outcome?: 'connected' | 'declined' | 'no-answer' | 'cancelled' | 'ended';
}
export interface VideoNote { id: string; homeId: string; callId?: string; authorId: string; mood: string; eating: string; followUp: string; at: number }

/** The video check-ins' part of the store (dashboards/video*). */
export interface VideoStore {
  addCheckin(c: Omit<VideoCheckin, 'id' | 'status' | 'declines'>): Promise<VideoCheckin>;
  getCheckin(id: string): Promise<VideoCheckin | undefined>;
  /** A home's check-ins due at or after `from`, earliest first. */
  listCheckins(homeId: string, from?: number): Promise<VideoCheckin[]>;
  /** Every still-scheduled check-in of every home (re-armed on start). */
  listScheduledCheckins(): Promise<VideoCheckin[]>;
  updateCheckin(id: string, patch: { status?: CheckinStatus; declines?: number; missedReason?: MissedReason; callId?: string }): Promise<void>;
  setVideoPermission(p: VideoPermission): Promise<void>;
  getVideoPermission(homeId: string, accountId: string): Promise<VideoPermission | undefined>;
  listVideoPermissions(homeId: string): Promise<VideoPermission[]>;
  /** Inserts or replaces a call record. */
  saveCall(c: VideoCall): Promise<void>;
  getCall(id: string): Promise<VideoCall | undefined>;
  listCalls(homeId: string, limit?: number): Promise<VideoCall[]>;
  addVideoNote(n: Omit<VideoNote, 'id'>): Promise<VideoNote>;
  getVideoNote(id: string): Promise<VideoNote | undefined>;
  listVideoNotes(homeId: string, limit?: number): Promise<VideoNote[]>;
}

// ── Backups and the trail (backup/, core/trail.ts, migration 8) ──
/** One backup run as operators see it in `mimamori backup list`. */
export interface BackupRecord {
  id: string; startedAt: number; finishedAt?: number;
  status: 'running' | 'ok' | 'failed';
  /** The archive's file name (the same in every target). */
  file?: string; size?: number; sha256?: string;
  /** Each target directory and whether the archive reached it. */
  targets: Array<{ dir: string; ok: boolean; error?: string }>;
  /** What the archive holds (row counts, file counts, InfluxDB databases). */
  contents?: unknown;
  /** True once a test restore into a scratch folder matched the manifest. */
  verified: boolean; verifyNote?: string;
  /** The trail's chain heads at the moment of the snapshot. */
  heads?: Record<TrailKind, TrailHead>;
  error?: string;
}

/** The backup history and the trail's chains. */
export interface TrailStore {
  saveBackup(b: BackupRecord): Promise<void>;
  /** Newest first. */
  listBackups(limit?: number): Promise<BackupRecord[]>;
  /** The newest record of each chain. */
  trailHeads(): Promise<Record<TrailKind, TrailHead>>;
  /** Every record of a chain in stored order (sealed ones by seq, then any unsealed). */
  readTrail(kind: TrailKind): Promise<TrailRow[]>;
}

/**
 * How a contact can be reached (migration 11): any number of addresses per channel kind.
 * `phone` serves SMS and voice; `push` holds a browser's subscription JSON; `line` a LINE user id.
 */
export type AddressKind = 'phone' | 'email' | 'line' | 'push' | 'tablet';
export const addressKinds: readonly AddressKind[] = ['phone', 'email', 'line', 'push', 'tablet'];
/** `operator`: entered by the operator and taken as given; `pending`: not proved yet; `verified`: proved by the person. */
export type AddressVerification = 'operator' | 'pending' | 'verified';
export interface ContactAddress {
  id: string; contactId: string; kind: AddressKind; address: string; label?: string;
  verification: AddressVerification; verifiedAt?: number; createdAt: number;
}

/** Contact addresses and the one-time codes that link them (notifier/, issue 17). */
export interface AddressStore {
  /** Adds an address, or updates label and verification of the same (contact, kind, address). */
  saveContactAddress(a: Omit<ContactAddress, 'id'> & { id?: string }): Promise<ContactAddress>;
  listContactAddresses(contactId: string): Promise<ContactAddress[]>;
  /** Contacts (of any home) that have this address, best first. */
  findContactsByAddress(kind: AddressKind, address: string): Promise<Contact[]>;
  /** Removes one address (by id, or every contact's copy of kind + address); returns how many went. */
  removeContactAddress(sel: { id: string } | { kind: AddressKind; address: string }): Promise<number>;
  /** Stores a one-time code that will bind an address of `kind` to the contact (replaces the contact's earlier code). */
  createLinkCode(c: { code: string; kind: AddressKind; contactId: string; expiresAt: number; createdAt: number }): Promise<void>;
  /** Uses a code once: the contact it was made for, or undefined when unknown, used or expired. */
  takeLinkCode(kind: AddressKind, code: string, now: number): Promise<string | undefined>;
  /** Which web account logs in as this contact (null: none). */
  setContactAccount(contactId: string, accountId: string | null): Promise<void>;
  /** The contacts a web account is (one per home it belongs to). */
  listContactsOfAccount(accountId: string): Promise<Contact[]>;
  getContact(id: string): Promise<Contact | undefined>;
  /** The language of everything sent to this contact (their own setting on /account/notifications). */
  setContactLanguage(id: string, language: Language): Promise<void>;
}

// ── Monthly reports (migration 13, issue 14) ──
/** One kept monthly report: a PDF in the reports folder, found by home, month and language. */
export interface MonthlyReportRecord {
  id: string; homeId: string;
  /** `YYYY-MM` in the home's time zone. */
  month: string;
  language: Language; createdAt: number;
  /** `account:<id>` or `cli:<user>`. */
  createdBy: string;
  /** Whether the month had ended when it was made (a partial month is made again on request). */
  complete: boolean;
  /** The PDF's path relative to the reports folder. */
  file: string; size: number; sha256: string; pages: number;
}
export interface ReportStore {
  /** Keeps a report, replacing the one of the same home, month and language. */
  saveReport(r: MonthlyReportRecord): Promise<void>;
  getReport(id: string): Promise<MonthlyReportRecord | undefined>;
  findReport(homeId: string, month: string, language: Language): Promise<MonthlyReportRecord | undefined>;
  /** Kept reports, newest month first; by home (any of `homeIds`) and/or month. */
  listReports(filter?: { homeIds?: readonly string[]; month?: string; limit?: number }): Promise<MonthlyReportRecord[]>;
}

/** One home in the operator's fleet view (Store.listFleet). */
/** One saved part of a home's rule state (`part`: e.g. 'home', 'routine'; `data`: the part's encoded text). */
export interface HomeStatePart { homeId: string; part: string; data: string }
export interface FleetHome { home: Home; residents: string[]; devices: number; alerts: Alert[] }

export interface Store extends WebStore, EscalationStore, VideoStore, TrailStore, AddressStore, ReportStore {
  createHome(home: Omit<Home, 'createdAt'> & { createdAt?: number }): Promise<Home>;
  getHome(id: string): Promise<Home | undefined>;
  listHomes(): Promise<Home[]>;
  /**
   * Every home with what the operator's fleet view needs, in a few queries
   * (never one per home): residents' names, number of devices, and the alerts
   * not yet resolved (open and acknowledged), oldest first.
   */
  listFleet(): Promise<FleetHome[]>;
  addResident(r: Omit<Resident, 'id'> & { id?: string }): Promise<Resident>;
  listResidents(homeId: string): Promise<Resident[]>;
  addContact(c: Omit<Contact, 'id'> & { id?: string }): Promise<Contact>;
  listContacts(homeId: string): Promise<Contact[]>;
  addDevice(d: Omit<Device, 'createdAt' | 'disabled'> & { createdAt?: number }): Promise<Device>;
  getDevice(homeId: string, deviceId: string): Promise<Device | undefined>;
  listDevices(homeId?: string): Promise<Device[]>;
  setDeviceSecretHash(homeId: string, deviceId: string, secretHash: string): Promise<void>;
  setService(name: string, secretHash: string): Promise<void>;
  getServiceSecretHash(name: string): Promise<string | undefined>;
  getRuleConfig(homeId: string): Promise<unknown>;
  setRuleConfig(homeId: string, rules: unknown, at?: number): Promise<void>;
  /** The rule engine's state as one JSON row per home (the format before migration 15; still read). */
  saveHomeStates(states: Array<{ homeId: string; state: unknown }>, at: number): Promise<void>;
  loadHomeStates(): Promise<Map<string, unknown>>;
  /**
   * The rule engine's state in parts (migration 15): writes each listed part
   * of each home (text the engine encoded) and drops the old whole-state row
   * (`home_states`) of every home in `dropWhole`, all in one transaction.
   */
  saveHomeStateParts(parts: HomeStatePart[], at: number, dropWhole?: string[]): Promise<void>;
  loadHomeStateParts(): Promise<HomeStatePart[]>;
  /** Records an event id; false when the same device already sent it. */
  markEventSeen(homeId: string, deviceId: string, eventId: string, at: number): Promise<boolean>;
  pruneSeenEvents(olderThan: number): Promise<number>;
  /**
   * The ingest's batch commit, in one transaction: records each item's event
   * id (items without one, heartbeats, are always fresh) and, for every fresh
   * item with an `outbox` text, keeps that text in the ingest outbox until
   * `clearIngestOutbox` confirms history has it. Returns per item whether it
   * was fresh, and the outbox position of the last row written (0 if none).
   */
  commitIngestBatch(items: ReadonlyArray<IngestBatchItem>, at: number): Promise<{ fresh: boolean[]; outboxHead: number }>;
  /** Outbox rows not yet confirmed, oldest first (read at start to replay them into history). */
  listIngestOutbox(): Promise<Array<{ seq: number; text: string }>>;
  /** Removes outbox rows up to and including `upTo`; returns how many. */
  clearIngestOutbox(upTo: number): Promise<number>;
  openAlert(a: Omit<Alert, 'id' | 'status' | 'repeats' | 'updatedAt' | 'closedAt'>): Promise<{ alert: Alert; created: boolean }>;
  getAlert(id: string): Promise<Alert | undefined>;
  findOpenAlert(homeId: string, rule: string): Promise<Alert | undefined>;
  listAlerts(filter?: { homeId?: string; status?: AlertStatus }): Promise<Alert[]>;
  updateAlertStatus(id: string, status: AlertStatus, at: number): Promise<Alert>;
  recordNotification(n: Omit<NotificationRecord, 'id' | 'updatedAt'> & { id?: string }): Promise<NotificationRecord>;
  updateNotification(id: string, patch: { status: string; providerId?: string; error?: string }, at: number): Promise<void>;
  findNotificationByProviderId(providerId: string): Promise<NotificationRecord | undefined>;
  listNotifications(alertId?: string): Promise<NotificationRecord[]>;
  audit(entry: Omit<AuditRecord, 'id'>): Promise<void>;
  listAudit(subject?: string): Promise<AuditRecord[]>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
  /** Keeps a refused device message in the dead-letter table. */
  recordRejected(r: Omit<RejectedMessage, 'id'>): Promise<RejectedMessage>;
  /** The most recent refused messages, newest first. */
  listRejected(limit?: number): Promise<RejectedMessage[]>;
}

type Row = Record<string, unknown>;

const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));
/** An optional value as SQL wants it: undefined → NULL. */
const n = (v: unknown): unknown => (v === undefined ? null : v);

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
    status: r.status as AlertStatus, message: r.message as string, finding: JSON.parse(r.finding as string) as unknown,
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
 * Opens (creating if needed) the SQLite database at `path` and brings its
 * schema up to date. Use `':memory:'` for a throw-away store.
 *
 * `readonly: true` (the reference hub, backup/reference.ts) opens an existing
 * file with SQLite's read-only flag and `query_only`, changes no pragma that
 * writes, and refuses a schema older than this code reads: every write method
 * then fails inside SQLite ("attempt to write a readonly database").
 */
export function createSqliteStore(path: string, opts: { readonly?: boolean } = {}): Store {
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
    migrate(db);
  }

  const stmt = new Map<string, Database.Statement>();
  const q = (sql: string): Database.Statement => {
    let s = stmt.get(sql);
    if (!s) { s = db.prepare(sql); stmt.set(sql, s); }
    return s;
  };
  const get = (sql: string, ...p: unknown[]) => q(sql).get(...p) as Row | undefined;
  const all = (sql: string, ...p: unknown[]) => q(sql).all(...p) as Row[];
  const run = (sql: string, ...p: unknown[]) => q(sql).run(...p);
  // The rule engine's save: every home's changed parts in one transaction (one WAL commit).
  const saveParts = db.transaction((parts: ReadonlyArray<HomeStatePart>, at: number, dropWhole: ReadonlyArray<string>) => {
    const upsert = q('INSERT INTO home_state_parts (home_id, part, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (home_id, part) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at');
    for (const p of parts) upsert.run(p.homeId, p.part, p.data, at);
    for (const id of dropWhole) run('DELETE FROM home_states WHERE home_id = ?', id);
  });
  // One transaction (one WAL commit) per ingest batch instead of one per event.
  const commitBatch = db.transaction((items: ReadonlyArray<IngestBatchItem>, at: number) => {
    const fresh: boolean[] = [];
    let outboxHead = 0;
    for (const item of items) {
      const isFresh = item.eventId === undefined
        || run('INSERT INTO seen_events (home_id, device_id, event_id, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', item.homeId, item.deviceId, item.eventId, at).changes === 1;
      fresh.push(isFresh);
      if (isFresh && item.outbox !== undefined) outboxHead = Number(run('INSERT INTO ingest_outbox (text) VALUES (?)', item.outbox).lastInsertRowid);
    }
    return { fresh, outboxHead };
  });
  const wrap = (err: unknown, what: string): never => {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_CONSTRAINT')) throw new MimamoriError('MIMAMORI_ERR_CONFLICT', what);
    throw err;
  };

  const store: Store = {
    ...escalationStore(db, get, all, run),
    ...videoStore(get, all, run), // video check-ins (migration 6)
    ...trailStore(db, get, all, run), // backups and the trail (migration 8)
    ...addressStore(db, get, all, run), // contact addresses and link codes (migration 11)
    ...reportStore(get, all, run), // monthly reports (migration 13)
    async createHome(h) {
      const home: Home = { ...h, createdAt: h.createdAt ?? Date.now() };
      try {
        run('INSERT INTO homes (id, name, timezone, address, entry_notes, created_at) VALUES (?, ?, ?, ?, ?, ?)', home.id, home.name, home.timezone, n(home.address), n(home.entryNotes), home.createdAt);
      } catch (err) { wrap(err, `home ${h.id} exists`); }
      return home;
    },
    async getHome(id) { const r = get('SELECT * FROM homes WHERE id = ?', id); return r && toHome(r); },
    async listHomes() { return all('SELECT * FROM homes ORDER BY id').map(toHome); },
    async listFleet() {
      const byHome = new Map<string, FleetHome>(all('SELECT * FROM homes ORDER BY id').map(toHome).map((home) => [home.id, { home, residents: [], devices: 0, alerts: [] }]));
      for (const r of all('SELECT home_id, name FROM residents ORDER BY home_id, name')) byHome.get(r.home_id as string)?.residents.push(r.name as string);
      for (const r of all('SELECT home_id, COUNT(*) AS n FROM devices GROUP BY home_id')) { const f = byHome.get(r.home_id as string); if (f) f.devices = Number(r.n); }
      for (const a of all("SELECT * FROM alerts WHERE status <> 'resolved' ORDER BY opened_at, id").map(toAlert)) byHome.get(a.homeId)?.alerts.push(a);
      return [...byHome.values()];
    },
    async addResident(r) {
      const res: Resident = { ...r, id: r.id ?? newId() };
      run('INSERT INTO residents (id, home_id, name, birth_year, language) VALUES (?, ?, ?, ?, ?)', res.id, res.homeId, res.name, n(res.birthYear), res.language);
      return res;
    },
    async listResidents(homeId) { return all('SELECT * FROM residents WHERE home_id = ? ORDER BY name', homeId).map(toResident); },
    async addContact(c) {
      const con: Contact = { ...c, id: c.id ?? newId() };
      db.transaction(() => {
        run('INSERT INTO contacts (id, home_id, name, role, phone, email, language, priority, account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', con.id, con.homeId, con.name, con.role, n(con.phone), n(con.email), con.language, con.priority, n(con.accountId));
        // The phone and e-mail are the contact's first addresses (migration 11), as the operator gave them.
        const at = Date.now();
        if (con.phone) run("INSERT INTO contact_addresses (id, contact_id, kind, address, verification, created_at) VALUES (?, ?, 'phone', ?, 'operator', ?)", newId(), con.id, con.phone, at);
        if (con.email) run("INSERT INTO contact_addresses (id, contact_id, kind, address, verification, created_at) VALUES (?, ?, 'email', ?, 'operator', ?)", newId(), con.id, con.email, at);
      })();
      return con;
    },
    async listContacts(homeId) { return all('SELECT * FROM contacts WHERE home_id = ? ORDER BY priority, name', homeId).map(toContact); },
    async addDevice(d) {
      const dev: Device = { ...d, disabled: false, createdAt: d.createdAt ?? Date.now() };
      try {
        run('INSERT INTO devices (home_id, device_id, kind, label, secret_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)', dev.homeId, dev.deviceId, dev.kind, n(dev.label), dev.secretHash, dev.createdAt);
      } catch (err) { wrap(err, `device ${d.homeId}/${d.deviceId} exists`); }
      return dev;
    },
    async getDevice(homeId, deviceId) { const r = get('SELECT * FROM devices WHERE home_id = ? AND device_id = ?', homeId, deviceId); return r && toDevice(r); },
    async listDevices(homeId) {
      return (homeId ? all('SELECT * FROM devices WHERE home_id = ? ORDER BY device_id', homeId) : all('SELECT * FROM devices ORDER BY home_id, device_id')).map(toDevice);
    },
    async setDeviceSecretHash(homeId, deviceId, secretHash) {
      const r = run('UPDATE devices SET secret_hash = ? WHERE home_id = ? AND device_id = ?', secretHash, homeId, deviceId);
      if (r.changes === 0) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `device ${homeId}/${deviceId}`);
    },
    async setService(name, secretHash) {
      run('INSERT INTO services (name, secret_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET secret_hash = excluded.secret_hash', name, secretHash, Date.now());
    },
    async getServiceSecretHash(name) { return get('SELECT secret_hash FROM services WHERE name = ?', name)?.secret_hash as string | undefined; },
    async getRuleConfig(homeId) {
      const r = get('SELECT rules FROM rule_configs WHERE home_id = ?', homeId);
      return r ? (JSON.parse(r.rules as string) as unknown) : undefined;
    },
    async setRuleConfig(homeId, rules, at = Date.now()) {
      run('INSERT INTO rule_configs (home_id, rules, updated_at) VALUES (?, ?, ?) ON CONFLICT (home_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at', homeId, JSON.stringify(rules), at);
    },
    async saveHomeStates(states, at) {
      const save = db.transaction(() => {
        for (const s of states) run('INSERT INTO home_states (home_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (home_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at', s.homeId, JSON.stringify(s.state), at);
      });
      save();
    },
    async loadHomeStates() {
      const out = new Map<string, unknown>();
      for (const r of all('SELECT home_id, state FROM home_states')) out.set(r.home_id as string, JSON.parse(r.state as string) as unknown);
      return out;
    },
    async saveHomeStateParts(parts, at, dropWhole = []) {
      saveParts(parts, at, dropWhole);
    },
    async loadHomeStateParts() {
      return all('SELECT home_id, part, data FROM home_state_parts ORDER BY home_id, part').map((r) => ({ homeId: r.home_id as string, part: r.part as string, data: r.data as string }));
    },
    async markEventSeen(homeId, deviceId, eventId, at) {
      return run('INSERT INTO seen_events (home_id, device_id, event_id, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', homeId, deviceId, eventId, at).changes === 1;
    },
    async pruneSeenEvents(olderThan) { return run('DELETE FROM seen_events WHERE seen_at < ?', olderThan).changes; },
    async commitIngestBatch(items, at) {
      return commitBatch(items, at);
    },
    async listIngestOutbox() {
      return all('SELECT seq, text FROM ingest_outbox ORDER BY seq').map((r) => ({ seq: Number(r.seq), text: r.text as string }));
    },
    async clearIngestOutbox(upTo) { return run('DELETE FROM ingest_outbox WHERE seq <= ?', upTo).changes; },
    async openAlert(a) {
      const tx = db.transaction((): { alert: Alert; created: boolean } => {
        const existing = get("SELECT * FROM alerts WHERE home_id = ? AND rule = ? AND status <> 'resolved'", a.homeId, a.rule);
        if (existing) {
          // A repeat of the same finding updates the open alert instead of paging again.
          const severity = rank(a.severity) > rank(existing.severity as Severity) ? a.severity : (existing.severity as Severity);
          run('UPDATE alerts SET repeats = repeats + 1, updated_at = ?, severity = ?, message = ?, finding = ? WHERE id = ?', a.openedAt, severity, a.message, JSON.stringify(a.finding), existing.id);
          return { alert: toAlert(get('SELECT * FROM alerts WHERE id = ?', existing.id)!), created: false };
        }
        const id = newId(a.openedAt);
        run("INSERT INTO alerts (id, home_id, rule, severity, status, message, finding, repeats, opened_at, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?, 0, ?, ?)", id, a.homeId, a.rule, a.severity, a.message, JSON.stringify(a.finding), a.openedAt, a.openedAt);
        return { alert: toAlert(get('SELECT * FROM alerts WHERE id = ?', id)!), created: true };
      });
      return tx.immediate();
    },
    async getAlert(id) { const r = get('SELECT * FROM alerts WHERE id = ?', id); return r && toAlert(r); },
    async findOpenAlert(homeId, rule) { const r = get("SELECT * FROM alerts WHERE home_id = ? AND rule = ? AND status <> 'resolved'", homeId, rule); return r && toAlert(r); },
    async listAlerts(filter = {}) {
      const where: string[] = []; const p: unknown[] = [];
      if (filter.homeId) { where.push('home_id = ?'); p.push(filter.homeId); }
      if (filter.status) { where.push('status = ?'); p.push(filter.status); }
      return all(`SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, rowid DESC`, ...p).map(toAlert);
    },
    async updateAlertStatus(id, status, at) {
      const r = run('UPDATE alerts SET status = ?, updated_at = ?, closed_at = ? WHERE id = ?', status, at, status === 'resolved' ? at : null, id);
      if (r.changes === 0) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `alert ${id}`);
      return toAlert(get('SELECT * FROM alerts WHERE id = ?', id)!);
    },
    async recordNotification(rec) {
      const out: NotificationRecord = { ...rec, id: rec.id ?? newId(rec.createdAt), updatedAt: rec.createdAt };
      run('INSERT INTO notifications (id, alert_id, contact_id, channel, status, provider_id, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', out.id, out.alertId, n(out.contactId), out.channel, out.status, n(out.providerId), n(out.error), out.createdAt, out.updatedAt);
      return out;
    },
    async updateNotification(id, patch, at) {
      run('UPDATE notifications SET status = ?, provider_id = COALESCE(?, provider_id), error = COALESCE(?, error), updated_at = ? WHERE id = ?', patch.status, n(patch.providerId), n(patch.error), at, id);
    },
    async findNotificationByProviderId(providerId) { const r = get('SELECT * FROM notifications WHERE provider_id = ?', providerId); return r && toNotification(r); },
    async listNotifications(alertId) {
      return (alertId ? all('SELECT * FROM notifications WHERE alert_id = ? ORDER BY created_at, rowid', alertId) : all('SELECT * FROM notifications ORDER BY created_at, rowid')).map(toNotification);
    },
    async audit(e) {
      appendToTrail(db, get, run, 'audit', { id: newId(e.at), at: e.at, actor: e.actor, action: e.action, subject: e.subject, detail: e.detail === undefined ? null : JSON.stringify(e.detail) });
    },
    async listAudit(subject) {
      const rows = subject ? all('SELECT * FROM audit_log WHERE subject = ? ORDER BY at, rowid', subject) : all('SELECT * FROM audit_log ORDER BY at, rowid');
      return rows.map((r) => {
        const rec: AuditRecord = { id: r.id as string, at: Number(r.at), actor: r.actor as string, action: r.action as string, subject: r.subject as string };
        if (r.detail !== null) rec.detail = JSON.parse(r.detail as string) as unknown;
        return rec;
      });
    },
    async schemaVersion() { return Number(get('SELECT MAX(version) AS v FROM schema_migrations')?.v ?? 0); },
    async close() { db.close(); },
    async recordRejected(r) {
      const rec: RejectedMessage = { ...r, id: newId(r.at) };
      run('INSERT INTO rejected_messages (id, at, topic, home_id, device_id, reason, detail, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', rec.id, rec.at, rec.topic, n(rec.homeId), n(rec.deviceId), rec.reason, n(rec.detail), n(rec.payload));
      return rec;
    },
    async listRejected(limit = 100) {
      return all('SELECT * FROM rejected_messages ORDER BY at DESC, rowid DESC LIMIT ?', limit).map((row) => {
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
      try {
        run('INSERT INTO web_accounts (id, login, name, role, language, password_hash, totp_secret, locked_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', acc.id, acc.login, acc.name, acc.role, acc.language, acc.passwordHash, n(acc.totpSecret), n(acc.lockedUntil), acc.createdAt);
      } catch (err) { wrap(err, `account ${a.login} exists`); }
      return acc;
    },
    async getAccount(id) { const r = get('SELECT * FROM web_accounts WHERE id = ?', id); return r && toAccount(r); },
    async findAccountByLogin(login) { const r = get('SELECT * FROM web_accounts WHERE login = ?', login); return r && toAccount(r); },
    async listAccounts() { return all('SELECT * FROM web_accounts ORDER BY role, login').map(toAccount); },
    async setAccountTotp(id, secret) { run('UPDATE web_accounts SET totp_secret = ? WHERE id = ?', secret, id); },
    async acceptTotpStep(id, step) {
      // One statement: two sign-ins racing with one code cannot both pass (migration 10).
      return run('UPDATE web_accounts SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)', step, id, step).changes === 1;
    },
    async setAccountLockedUntil(id, until) { run('UPDATE web_accounts SET locked_until = ? WHERE id = ?', until, id); },
    async setAccountLanguage(id, language) { run('UPDATE web_accounts SET language = ? WHERE id = ?', language, id); },
    async recordLoginFailure(accountId, at) { run('INSERT INTO web_login_failures (account_id, at) VALUES (?, ?)', accountId, at); },
    async countLoginFailures(accountId, since) { return Number(get('SELECT COUNT(*) AS c FROM web_login_failures WHERE account_id = ? AND at >= ?', accountId, since)?.c ?? 0); },
    async clearLoginFailures(accountId) { run('DELETE FROM web_login_failures WHERE account_id = ?', accountId); },
    async createSession(x) {
      run('INSERT INTO web_sessions (id, account_id, csrf, mfa_ok, created_at, last_seen_at, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)', x.id, x.accountId, x.csrf, x.mfaOk ? 1 : 0, x.createdAt, x.lastSeenAt, n(x.userAgent));
    },
    async getSession(id) { const r = get('SELECT * FROM web_sessions WHERE id = ?', id); return r && toSession(r); },
    async updateSession(id, patch) {
      if (patch.lastSeenAt !== undefined) run('UPDATE web_sessions SET last_seen_at = ? WHERE id = ?', patch.lastSeenAt, id);
      if (patch.mfaOk !== undefined) run('UPDATE web_sessions SET mfa_ok = ? WHERE id = ?', patch.mfaOk ? 1 : 0, id);
    },
    async listSessions(accountId) { return all('SELECT * FROM web_sessions WHERE account_id = ? ORDER BY created_at, rowid', accountId).map(toSession); },
    async deleteSession(id) { run('DELETE FROM web_sessions WHERE id = ?', id); },
    async linkAccount(l) { run('INSERT INTO web_links (account_id, kind, target_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', l.accountId, l.kind, l.targetId); },
    async listLinks(accountId) { return all('SELECT * FROM web_links WHERE account_id = ? ORDER BY kind, target_id', accountId).map(toLink); },
    async listLinked(kind, targetId) { return all('SELECT * FROM web_links WHERE kind = ? AND target_id = ? ORDER BY account_id', kind, targetId).map(toLink); },
    async enrollHome(facilityId, homeId) { run('INSERT INTO facility_homes (facility_id, home_id) VALUES (?, ?) ON CONFLICT DO NOTHING', facilityId, homeId); },
    async listEnrolledHomes(facilityId) { return all('SELECT home_id FROM facility_homes WHERE facility_id = ? ORDER BY home_id', facilityId).map((r) => r.home_id as string); },
    async setConsent(c) {
      run('INSERT INTO consents (home_id, viewer_id, level, photos, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (home_id, viewer_id) DO UPDATE SET level = excluded.level, photos = excluded.photos, updated_at = excluded.updated_at, updated_by = excluded.updated_by', c.homeId, c.viewerId, c.level, c.photos ? 1 : 0, c.updatedAt, c.updatedBy);
    },
    async getConsent(homeId, viewerId) {
      const r = get('SELECT * FROM consents WHERE home_id = ? AND viewer_id = ?', homeId, viewerId);
      return r && { homeId: r.home_id as string, viewerId: r.viewer_id as string, level: r.level as Consent['level'], photos: Number(r.photos) === 1, updatedAt: Number(r.updated_at), updatedBy: r.updated_by as string };
    },
    async recordAccess(r) { appendToTrail(db, get, run, 'access', { id: newId(r.at), at: r.at, viewer_id: r.viewerId, home_id: r.homeId, what: r.what }); },
    async listAccess(homeId, limit = 200) {
      return all('SELECT * FROM access_log WHERE home_id = ? ORDER BY at DESC, rowid DESC LIMIT ?', homeId, limit)
        .map((r) => ({ id: r.id as string, at: Number(r.at), viewerId: r.viewer_id as string, homeId: r.home_id as string, what: r.what as string }));
    },
    async addNews(x) {
      const item: NewsItem = { ...x, id: x.id ?? newId(x.createdAt) };
      run('INSERT INTO news (id, home_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?)', item.id, item.homeId, item.authorId, item.body, item.createdAt);
      return item;
    },
    async getNews(id) { const r = get('SELECT * FROM news WHERE id = ?', id); return r && toNews(r); },
    async listNews(homeId, since = 0) { return all('SELECT * FROM news WHERE home_id = ? AND created_at >= ? ORDER BY created_at DESC, rowid DESC', homeId, since).map(toNews); },
    async addNewsPhoto(x) { run('INSERT INTO news_photos (id, news_id, home_id, width, height) VALUES (?, ?, ?, ?, ?)', x.id, x.newsId, x.homeId, x.width, x.height); },
    async getNewsPhoto(id) { const r = get('SELECT * FROM news_photos WHERE id = ?', id); return r && toPhoto(r); },
    async listNewsPhotos(newsId) { return all('SELECT * FROM news_photos WHERE news_id = ? ORDER BY rowid', newsId).map(toPhoto); },
    async addQuestion(x) {
      const q2: Question = { ...x, id: newId(x.askedAt) };
      run('INSERT INTO questions (id, home_id, asker_id, body, asked_at) VALUES (?, ?, ?, ?, ?)', q2.id, q2.homeId, q2.askerId, q2.body, q2.askedAt);
      return q2;
    },
    async getQuestion(id) { const r = get('SELECT * FROM questions WHERE id = ?', id); return r && toQuestion(r); },
    async answerQuestion(id, answer, answererId, at) { run('UPDATE questions SET answer = ?, answerer_id = ?, answered_at = ? WHERE id = ?', answer, answererId, at, id); },
    async listQuestions(homeId) { return all('SELECT * FROM questions WHERE home_id = ? ORDER BY asked_at DESC, rowid DESC', homeId).map(toQuestion); },
    async setAttendance(a) {
      run('INSERT INTO attendance (home_id, date, status, marked_by, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (home_id, date) DO UPDATE SET status = excluded.status, marked_by = excluded.marked_by, at = excluded.at', a.homeId, a.date, a.status, a.markedBy, a.at);
    },
    async listAttendance(homeId, limit = 14) {
      return all('SELECT * FROM attendance WHERE home_id = ? ORDER BY date DESC LIMIT ?', homeId, limit)
        .map((r) => ({ homeId: r.home_id as string, date: r.date as string, status: r.status as Attendance['status'], markedBy: r.marked_by as string, at: Number(r.at) }));
    },
    async recordAlertResponse(x) {
      const rec: AlertResponse = { ...x, id: newId(x.at) };
      run('INSERT INTO alert_responses (id, alert_id, home_id, account_id, action, at) VALUES (?, ?, ?, ?, ?, ?)', rec.id, rec.alertId, rec.homeId, rec.accountId, rec.action, rec.at);
      return rec;
    },
    async listAlertResponses(alertId) {
      return all('SELECT * FROM alert_responses WHERE alert_id = ? ORDER BY at, rowid', alertId)
        .map((r) => ({ id: r.id as string, alertId: r.alert_id as string, homeId: r.home_id as string, accountId: r.account_id as string, action: r.action as string, at: Number(r.at) }));
    },
    // ── end of the web app block ──
  };
  return store;
}

// ── Escalation (migration 3): SQLite implementation of EscalationStore ──
function escalationStore(
  db: Database.Database,
  get: (sql: string, ...p: unknown[]) => Row | undefined,
  all: (sql: string, ...p: unknown[]) => Row[],
  run: (sql: string, ...p: unknown[]) => Database.RunResult,
): EscalationStore {
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  const parse = (v: unknown): unknown => (v === null || v === undefined ? undefined : (JSON.parse(v as string) as unknown));
  const toLifecycle = (r: Row): AlertLifecycle => {
    const l: AlertLifecycle = { alertId: r.alert_id as string, homeId: r.home_id as string, state: parse(r.state), updatedAt: Number(r.updated_at) };
    const s = (k: string) => opt<string>(r[k]);
    if (s('acknowledged_by') !== undefined) l.acknowledgedBy = s('acknowledged_by')!;
    if (s('acknowledged_via') !== undefined) l.acknowledgedVia = s('acknowledged_via')!;
    if (opt(r.acknowledged_at) !== undefined) l.acknowledgedAt = Number(r.acknowledged_at);
    if (s('resolved_by') !== undefined) l.resolvedBy = s('resolved_by')!;
    if (s('resolved_via') !== undefined) l.resolvedVia = s('resolved_via')!;
    if (s('resolution_note') !== undefined) l.resolutionNote = s('resolution_note')!;
    if (opt(r.policy) !== undefined) l.policy = parse(r.policy);
    return l;
  };
  const toJob = (r: Row): ScheduledJob => {
    const j: ScheduledJob = { id: r.id as string, kind: r.kind as string, subject: r.subject as string, dueAt: Number(r.due_at) };
    if (opt(r.payload) !== undefined) j.payload = parse(r.payload);
    return j;
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
    async getEscalationPolicy(homeId) { return parse(get('SELECT policy FROM escalation_policies WHERE home_id = ?', homeId)?.policy); },
    async setEscalationPolicy(homeId, policy, at) {
      run('INSERT INTO escalation_policies (home_id, policy, updated_at) VALUES (?, ?, ?) ON CONFLICT (home_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at', homeId, JSON.stringify(policy), at);
    },
    async getContactPreferences(contactId) { return parse(get('SELECT prefs FROM contact_preferences WHERE contact_id = ?', contactId)?.prefs); },
    async setContactPreferences(contactId, prefs, at) {
      run('INSERT INTO contact_preferences (contact_id, prefs, updated_at) VALUES (?, ?, ?) ON CONFLICT (contact_id) DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at', contactId, JSON.stringify(prefs), at);
    },
    async listContactPreferences() {
      const out = new Map<string, unknown>();
      for (const r of all('SELECT contact_id, prefs FROM contact_preferences')) out.set(r.contact_id as string, parse(r.prefs));
      return out;
    },
    async findContactsByPhone(phone) { return all('SELECT * FROM contacts WHERE phone = ? ORDER BY priority, name', phone).map(toContact); },
    async getAlertLifecycle(alertId) { const r = get('SELECT * FROM alert_lifecycle WHERE alert_id = ?', alertId); return r && toLifecycle(r); },
    async saveAlertLifecycle(l) {
      run(`INSERT INTO alert_lifecycle (alert_id, home_id, acknowledged_by, acknowledged_via, acknowledged_at, resolved_by, resolved_via, resolution_note, policy, state, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id) DO UPDATE SET
        acknowledged_by = excluded.acknowledged_by, acknowledged_via = excluded.acknowledged_via, acknowledged_at = excluded.acknowledged_at,
        resolved_by = excluded.resolved_by, resolved_via = excluded.resolved_via, resolution_note = excluded.resolution_note,
        policy = excluded.policy, state = excluded.state, updated_at = excluded.updated_at`,
      l.alertId, l.homeId, n(l.acknowledgedBy), n(l.acknowledgedVia), n(l.acknowledgedAt), n(l.resolvedBy), n(l.resolvedVia), n(l.resolutionNote), json(l.policy), JSON.stringify(l.state ?? null), l.updatedAt);
    },
    async scheduleJob(j) {
      run('INSERT INTO notifier_schedule (id, kind, subject, due_at, payload) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, subject = excluded.subject, due_at = excluded.due_at, payload = excluded.payload', j.id, j.kind, j.subject, j.dueAt, json(j.payload));
    },
    async cancelJob(id) { run('DELETE FROM notifier_schedule WHERE id = ?', id); },
    async getJob(id) { const r = get('SELECT * FROM notifier_schedule WHERE id = ?', id); return r && toJob(r); },
    async listJobs() { return all('SELECT * FROM notifier_schedule ORDER BY due_at, id').map(toJob); },
    async claimSendKeys(keys) {
      const tx = db.transaction(() => keys.filter((k) => run('INSERT INTO send_keys (key, alert_id, contact_id, channel, created_at, recipient, body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING', k.key, k.alertId, n(k.contactId), k.channel, k.createdAt, n(k.recipient), n(k.body)).changes === 1).map((k) => k.key));
      return tx.immediate();
    },
    async attachSendKeys(keys, notificationId) {
      const tx = db.transaction(() => { for (const k of keys) run('UPDATE send_keys SET notification_id = ? WHERE key = ?', notificationId, k); });
      tx();
    },
    async listSendKeys(alertId) { return all('SELECT * FROM send_keys WHERE alert_id = ? ORDER BY created_at, rowid', alertId).map(toKey); },
    async findSendKeysByNotification(notificationId) { return all('SELECT * FROM send_keys WHERE notification_id = ? ORDER BY rowid', notificationId).map(toKey); },
    async listUnsettledSendKeys(since) {
      return all(`SELECT k.* FROM send_keys k LEFT JOIN notifications x ON x.id = k.notification_id
        WHERE k.body IS NOT NULL AND k.recipient IS NOT NULL AND k.created_at >= ?
        AND (k.notification_id IS NULL OR x.id IS NULL OR (x.status = 'pending' AND x.provider_id IS NULL))
        ORDER BY k.created_at, k.rowid`, since).map(toKey);
    },
  };
}

const rank = (s: Severity): number => (s === 'critical' ? 2 : s === 'warning' ? 1 : 0);

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      for (const sql of m.sql) db.exec(sql);
      m.after?.({ all: (sql, ...p) => db.prepare(sql).all(...p) as Row[], run: (sql, ...p) => { db.prepare(sql).run(...p); } });
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
  }
}

// ── Video check-ins (migration 6): SQLite implementation of VideoStore ──
function videoStore(
  get: (sql: string, ...p: unknown[]) => Row | undefined,
  all: (sql: string, ...p: unknown[]) => Row[],
  run: (sql: string, ...p: unknown[]) => Database.RunResult,
): VideoStore {
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
      run('INSERT INTO video_checkins (id, home_id, due_at, caller_id, created_by, created_at, status, declines) VALUES (?, ?, ?, ?, ?, ?, ?, 0)', c.id, c.homeId, c.dueAt, c.callerId, c.createdBy, c.createdAt, c.status);
      return c;
    },
    async getCheckin(id) { const r = get('SELECT * FROM video_checkins WHERE id = ?', id); return r && toCheckin(r); },
    async listCheckins(homeId, from = 0) { return all('SELECT * FROM video_checkins WHERE home_id = ? AND due_at >= ? ORDER BY due_at, rowid', homeId, from).map(toCheckin); },
    async listScheduledCheckins() { return all("SELECT * FROM video_checkins WHERE status = 'scheduled' ORDER BY due_at, rowid").map(toCheckin); },
    async updateCheckin(id, p) {
      if (p.status !== undefined) run('UPDATE video_checkins SET status = ? WHERE id = ?', p.status, id);
      if (p.declines !== undefined) run('UPDATE video_checkins SET declines = ? WHERE id = ?', p.declines, id);
      if (p.missedReason !== undefined) run('UPDATE video_checkins SET missed_reason = ? WHERE id = ?', p.missedReason, id);
      if (p.callId !== undefined) run('UPDATE video_checkins SET call_id = ? WHERE id = ?', p.callId, id);
    },
    async setVideoPermission(p) {
      run('INSERT INTO video_permissions (home_id, account_id, trusted, may_schedule, look_in, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (home_id, account_id) DO UPDATE SET trusted = excluded.trusted, may_schedule = excluded.may_schedule, look_in = excluded.look_in, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
        p.homeId, p.accountId, p.trusted ? 1 : 0, p.maySchedule ? 1 : 0, p.lookIn ? 1 : 0, p.updatedAt, p.updatedBy);
    },
    async getVideoPermission(homeId, accountId) { const r = get('SELECT * FROM video_permissions WHERE home_id = ? AND account_id = ?', homeId, accountId); return r && toPermission(r); },
    async listVideoPermissions(homeId) { return all('SELECT * FROM video_permissions WHERE home_id = ? ORDER BY account_id', homeId).map(toPermission); },
    async saveCall(c) {
      run(`INSERT INTO video_calls (id, home_id, caller_id, kind, checkin_id, alert_id, started_at, answered_at, answered_by, ended_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET answered_at = excluded.answered_at, answered_by = excluded.answered_by, ended_at = excluded.ended_at, outcome = excluded.outcome`,
      c.id, c.homeId, c.callerId, c.kind, n(c.checkinId), n(c.alertId), c.startedAt, n(c.answeredAt), n(c.answeredBy), n(c.endedAt), n(c.outcome));
    },
    async getCall(id) { const r = get('SELECT * FROM video_calls WHERE id = ?', id); return r && toCall(r); },
    async listCalls(homeId, limit = 50) { return all('SELECT * FROM video_calls WHERE home_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?', homeId, limit).map(toCall); },
    async addVideoNote(x) {
      const note: VideoNote = { ...x, id: newId(x.at) };
      run('INSERT INTO video_notes (id, home_id, call_id, author_id, mood, eating, follow_up, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', note.id, note.homeId, n(note.callId), note.authorId, note.mood, note.eating, note.followUp, note.at);
      return note;
    },
    async getVideoNote(id) { const r = get('SELECT * FROM video_notes WHERE id = ?', id); return r && toNote(r); },
    async listVideoNotes(homeId, limit = 50) { return all('SELECT * FROM video_notes WHERE home_id = ? ORDER BY at DESC, rowid DESC LIMIT ?', homeId, limit).map(toNote); },
  };
}
// ── end of the video check-ins block ──

// ── Backups and the trail (migration 8): SQLite implementation of TrailStore ──
/**
 * Appends a record to a trail's hash chain: reads the head and inserts the
 * next record in one IMMEDIATE transaction, so two processes writing the same
 * database (the hub and a CLI command) cannot both take the same seq.
 */
function appendToTrail(
  db: Database.Database,
  get: (sql: string, ...p: unknown[]) => Row | undefined,
  run: (sql: string, ...p: unknown[]) => Database.RunResult,
  kind: TrailKind,
  fields: Record<string, string | number | null>,
): void {
  const { table, columns } = trailColumns[kind];
  db.transaction(() => {
    const last = get(`SELECT seq, hash FROM ${table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`);
    const seq = Number(last?.seq ?? 0) + 1;
    const prev = (last?.hash as string | undefined) ?? genesisHash;
    const hash = trailHash(kind, seq, prev, fields);
    run(`INSERT INTO ${table} (${columns.join(', ')}, seq, prev_hash, hash) VALUES (${columns.map(() => '?').join(', ')}, ?, ?, ?)`,
      ...columns.map((c) => fields[c] ?? null), seq, prev, hash);
  }).immediate();
}

function trailStore(
  db: Database.Database,
  get: (sql: string, ...p: unknown[]) => Row | undefined,
  all: (sql: string, ...p: unknown[]) => Row[],
  run: (sql: string, ...p: unknown[]) => Database.RunResult,
): TrailStore {
  const toBackup = (r: Row): BackupRecord => {
    const b: BackupRecord = { id: r.id as string, startedAt: Number(r.started_at), status: r.status as BackupRecord['status'], targets: JSON.parse(r.targets as string) as BackupRecord['targets'], verified: Number(r.verified) === 1 };
    if (opt(r.finished_at) !== undefined) b.finishedAt = Number(r.finished_at);
    const s = (k: string) => opt<string>(r[k]);
    if (s('file') !== undefined) b.file = s('file')!;
    if (opt(r.size) !== undefined) b.size = Number(r.size);
    if (s('sha256') !== undefined) b.sha256 = s('sha256')!;
    if (s('contents') !== undefined) b.contents = JSON.parse(s('contents')!) as unknown;
    if (s('verify_note') !== undefined) b.verifyNote = s('verify_note')!;
    if (s('heads') !== undefined) b.heads = JSON.parse(s('heads')!) as BackupRecord['heads'];
    if (s('error') !== undefined) b.error = s('error')!;
    return b;
  };
  const head = (kind: TrailKind): TrailHead => {
    const r = get(`SELECT seq, hash FROM ${trailColumns[kind].table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`);
    return r ? { seq: Number(r.seq), hash: r.hash as string } : { seq: 0, hash: genesisHash };
  };
  return {
    async saveBackup(b) {
      run(`INSERT INTO backups (id, started_at, finished_at, status, file, size, sha256, targets, contents, verified, verify_note, heads, error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at, status = excluded.status,
        file = excluded.file, size = excluded.size, sha256 = excluded.sha256, targets = excluded.targets, contents = excluded.contents,
        verified = excluded.verified, verify_note = excluded.verify_note, heads = excluded.heads, error = excluded.error`,
      b.id, b.startedAt, n(b.finishedAt), b.status, n(b.file), n(b.size), n(b.sha256), JSON.stringify(b.targets),
      b.contents === undefined ? null : JSON.stringify(b.contents), b.verified ? 1 : 0, n(b.verifyNote), b.heads ? JSON.stringify(b.heads) : null, n(b.error));
    },
    async listBackups(limit = 50) { return all('SELECT * FROM backups ORDER BY started_at DESC, rowid DESC LIMIT ?', limit).map(toBackup); },
    async trailHeads() { return { audit: head('audit'), access: head('access') }; },
    async readTrail(kind) {
      const { table, columns } = trailColumns[kind];
      // Sealed records by seq, then any without one (rowid order).
      return all(`SELECT ${columns.join(', ')}, seq, prev_hash, hash FROM ${table} ORDER BY seq IS NULL, seq, rowid`).map((r) => ({
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
function addressStore(
  db: Database.Database,
  get: (sql: string, ...p: unknown[]) => Row | undefined,
  all: (sql: string, ...p: unknown[]) => Row[],
  run: (sql: string, ...p: unknown[]) => Database.RunResult,
): AddressStore {
  const toAddress = (r: Row): ContactAddress => {
    const a: ContactAddress = { id: r.id as string, contactId: r.contact_id as string, kind: r.kind as AddressKind, address: r.address as string, verification: r.verification as AddressVerification, createdAt: Number(r.created_at) };
    const label = opt<string>(r.label); if (label !== undefined) a.label = label;
    if (opt(r.verified_at) !== undefined) a.verifiedAt = Number(r.verified_at);
    return a;
  };
  return {
    async saveContactAddress(a) {
      const id = a.id ?? newId(a.createdAt);
      run(`INSERT INTO contact_addresses (id, contact_id, kind, address, label, verification, verified_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (contact_id, kind, address) DO UPDATE SET label = excluded.label, verification = excluded.verification, verified_at = excluded.verified_at`,
      id, a.contactId, a.kind, a.address, n(a.label), a.verification, n(a.verifiedAt), a.createdAt);
      return toAddress(get('SELECT * FROM contact_addresses WHERE contact_id = ? AND kind = ? AND address = ?', a.contactId, a.kind, a.address)!);
    },
    async listContactAddresses(contactId) { return all('SELECT * FROM contact_addresses WHERE contact_id = ? ORDER BY rowid', contactId).map(toAddress); },
    async findContactsByAddress(kind, address) {
      return all('SELECT c.* FROM contacts c JOIN contact_addresses a ON a.contact_id = c.id WHERE a.kind = ? AND a.address = ? ORDER BY c.priority, c.name', kind, address).map(toContact);
    },
    async removeContactAddress(sel) {
      return 'id' in sel ? run('DELETE FROM contact_addresses WHERE id = ?', sel.id).changes : run('DELETE FROM contact_addresses WHERE kind = ? AND address = ?', sel.kind, sel.address).changes;
    },
    async createLinkCode(c) {
      db.transaction(() => {
        run('DELETE FROM address_link_codes WHERE contact_id = ? AND kind = ?', c.contactId, c.kind);
        run('INSERT INTO address_link_codes (code, kind, contact_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)', c.code, c.kind, c.contactId, c.expiresAt, c.createdAt);
      })();
    },
    async takeLinkCode(kind, code, now) {
      return db.transaction(() => {
        const r = get('SELECT contact_id, expires_at FROM address_link_codes WHERE kind = ? AND code = ?', kind, code);
        if (!r) return undefined;
        run('DELETE FROM address_link_codes WHERE kind = ? AND code = ?', kind, code);
        return Number(r.expires_at) > now ? (r.contact_id as string) : undefined;
      }).immediate();
    },
    async setContactAccount(contactId, accountId) { run('UPDATE contacts SET account_id = ? WHERE id = ?', accountId, contactId); },
    async listContactsOfAccount(accountId) { return all('SELECT * FROM contacts WHERE account_id = ? ORDER BY home_id, priority', accountId).map(toContact); },
    async getContact(id) { const r = get('SELECT * FROM contacts WHERE id = ?', id); return r && toContact(r); },
    async setContactLanguage(id, language) { run('UPDATE contacts SET language = ? WHERE id = ?', language, id); },
  };
}
// ── end of the contact addresses block ──

// ── Monthly reports (migration 13, issue 14) ──
function reportStore(
  get: (sql: string, ...p: unknown[]) => Row | undefined,
  all: (sql: string, ...p: unknown[]) => Row[],
  run: (sql: string, ...p: unknown[]) => Database.RunResult,
): ReportStore {
  const toReport = (r: Row): MonthlyReportRecord => ({
    id: r.id as string, homeId: r.home_id as string, month: r.month as string, language: r.language as Language,
    createdAt: Number(r.created_at), createdBy: r.created_by as string, complete: Number(r.complete) === 1,
    file: r.file as string, size: Number(r.size), sha256: r.sha256 as string, pages: Number(r.pages),
  });
  return {
    async saveReport(r) {
      run(`INSERT INTO reports (id, home_id, month, language, created_at, created_by, complete, file, size, sha256, pages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (home_id, month, language) DO UPDATE SET id = excluded.id, created_at = excluded.created_at, created_by = excluded.created_by,
        complete = excluded.complete, file = excluded.file, size = excluded.size, sha256 = excluded.sha256, pages = excluded.pages`,
      r.id, r.homeId, r.month, r.language, r.createdAt, r.createdBy, r.complete ? 1 : 0, r.file, r.size, r.sha256, r.pages);
    },
    async getReport(id) { const r = get('SELECT * FROM reports WHERE id = ?', id); return r && toReport(r); },
    async findReport(homeId, month, language) { const r = get('SELECT * FROM reports WHERE home_id = ? AND month = ? AND language = ?', homeId, month, language); return r && toReport(r); },
    async listReports(filter = {}) {
      const where: string[] = []; const params: unknown[] = [];
      if (filter.homeIds) { where.push(`home_id IN (${filter.homeIds.map(() => '?').join(', ') || 'NULL'})`); params.push(...filter.homeIds); }
      if (filter.month !== undefined) { where.push('month = ?'); params.push(filter.month); }
      const sql = `SELECT * FROM reports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY month DESC, home_id, language LIMIT ?`;
      return all(sql, ...params, filter.limit ?? 200).map(toReport);
    },
  };
}
// ── end of the monthly reports block ──
