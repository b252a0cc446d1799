/**
 * The store's ports: one interface per context, so each part is handed only
 * what it uses. `Store` is their intersection, served by the SQLite default
 * (core/store.ts) and by PostgreSQL (core/store-pg.ts); both pass the one
 * contract suite in test/store/contract.ts. See docs/store.md.
 *
 * Commit order: on SQLite writes commit in the order they were issued; on
 * PostgreSQL's pool two writes not awaited in turn may commit in either
 * order. A method whose callers may issue such writes to the same rows says
 * how it keeps them right (queued by the store, or guarded in its SQL);
 * every other write relies on its callers awaiting one write before the next
 * of the same row (docs/store.md, "Commit order").
 */
import type { TrailHead, TrailKind, TrailRow } from './trail.js';


export type Language = 'ja' | 'en';
export type ContactRole = 'resident' | 'family' | 'caregiver' | 'emergency';
export type Severity = 'info' | 'warning' | 'critical';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

export interface Home { id: string; name: string; timezone: string; address?: string; entryNotes?: string; createdAt: number }
export interface Resident { id: string; homeId: string; name: string; birthYear?: number; language: Language }
/** One message of an ingest batch (see `Store.commitIngestBatch`). */
export interface IngestBatchItem {
  homeId: string; deviceId: string; eventId?: string;
  /** The event's own time (its `ts`, epoch ms): its day is part of the key a repeat is known by (`eventDay`); default the batch's `at`. */
  eventAt?: number;
  outbox?: string;
}
/** A reading in the ingest inbox (cluster mode): committed by the node that received it, run by the home's owner. */
export interface InboxRow { seq: number; homeId: string; text: string }
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
export interface WebAccount {
  id: string; login: string; name: string; role: WebRole; language: Language; passwordHash: string; totpSecret?: string; lockedUntil?: number; createdAt: number;
  /** When an operator disabled the account (migration 14): it cannot sign in and its sessions end. */
  disabledAt?: number;
  /** An operator set a temporary password (migration 14): the person must choose their own at the next sign-in. */
  mustChangePassword?: boolean;
}
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

/** Web accounts, sign-in, sessions, relationships, consent and the access log (dashboards/auth, access). */
export interface AccountStore {
  createAccount(a: Omit<WebAccount, 'id' | 'createdAt'> & { id?: string; createdAt: number }): Promise<WebAccount>;
  getAccount(id: string): Promise<WebAccount | undefined>;
  findAccountByLogin(login: string): Promise<WebAccount | undefined>;
  listAccounts(): Promise<WebAccount[]>;
  setAccountTotp(id: string, secret: string | null): Promise<void>;
  /** Records `step` as the account's last accepted TOTP step unless it is not newer than the last one (false: a replay). */
  acceptTotpStep(id: string, step: number): Promise<boolean>;
  setAccountLockedUntil(id: string, until: number | null): Promise<void>;
  setAccountLanguage(id: string, language: Language): Promise<void>;
  /** Disables the account from `at` (null: enables it again). Migration 14. */
  setAccountDisabled(id: string, at: number | null): Promise<void>;
  /** Replaces the password hash; `mustChange`: a temporary password the person must replace at the next sign-in. Migration 14. */
  setAccountPassword(id: string, passwordHash: string, mustChange: boolean): Promise<void>;
  recordLoginFailure(accountId: string, at: number): Promise<void>;
  countLoginFailures(accountId: string, since: number): Promise<number>;
  clearLoginFailures(accountId: string): Promise<void>;
  createSession(s: WebSession): Promise<void>;
  getSession(id: string): Promise<WebSession | undefined>;
  updateSession(id: string, patch: { lastSeenAt?: number; mfaOk?: boolean }): Promise<void>;
  /** Oldest first. */
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
  /** Appends to the access log's hash chain (core/trail.ts). */
  recordAccess(r: Omit<AccessRecord, 'id'>): Promise<void>;
  /** Newest first. */
  listAccess(homeId: string, limit?: number): Promise<AccessRecord[]>;
  recordAlertResponse(r: Omit<AlertResponse, 'id'>): Promise<AlertResponse>;
  /** Oldest first. */
  listAlertResponses(alertId: string): Promise<AlertResponse[]>;
}

/** Family news, photos, questions to staff and day-care attendance (dashboards/ news and staff pages). */
export interface NewsStore {
  addNews(n: Omit<NewsItem, 'id'> & { id?: string }): Promise<NewsItem>;
  getNews(id: string): Promise<NewsItem | undefined>;
  /** Newest first. */
  listNews(homeId: string, since?: number): Promise<NewsItem[]>;
  addNewsPhoto(p: NewsPhoto): Promise<void>;
  getNewsPhoto(id: string): Promise<NewsPhoto | undefined>;
  /** In the order they were added. */
  listNewsPhotos(newsId: string): Promise<NewsPhoto[]>;
  addQuestion(q: Omit<Question, 'id'>): Promise<Question>;
  getQuestion(id: string): Promise<Question | undefined>;
  answerQuestion(id: string, answer: string, answererId: string, at: number): Promise<void>;
  /** Newest first. */
  listQuestions(homeId: string): Promise<Question[]>;
  setAttendance(a: Attendance): Promise<void>;
  /** Latest date first. */
  listAttendance(homeId: string, limit?: number): Promise<Attendance[]>;
}

/** The web app's part of the store (dashboards/). */
export type WebStore = AccountStore & NewsStore;

// ── Escalation (notifier/, migration 3): alert lifecycle, policies, contact preferences, send keys ──
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
  /**
   * How many times the row was written (migration 21; 0 for the first write). Read back; a save ignores it and
   * adds one. An escalation step passes the version it read to `saveAlertLifecycle` and `claimSendKeys` (`expect`).
   */
  version?: number;
}
/** The version of an alert's lifecycle row a step read: its writes and sends go ahead only while the row is still that. */
export interface LifecycleVersion { alertId: string; version: number }
/** Recorded before a message is sent, so a resumed escalation never sends it twice. */
/** A send key with the status of the notification it produced (none yet: the send never got that far). */
export interface SendOutcome extends SendKey { notificationStatus?: string }
export interface SendKey {
  key: string; alertId: string; contactId?: string; channel: string; notificationId?: string; createdAt: number;
  /** Migration 7, for channels the provider can be asked about (SMS, voice): the address and text handed over. */
  recipient?: string; body?: string;
}
/** A send without an outcome (`listUnsettledSendKeys`): one of its keys, and when its current attempt began. */
export interface UnsettledSendKey extends SendKey {
  /**
   * When the send's current attempt was handed over: its notification's `updated_at` (the first attempt's is
   * the key's time; reconciliation taking the send over moves it on), or the key's time when there is no
   * notification. An attempt younger than the settle window may still be in flight.
   */
  attemptAt: number;
  /** The home of the key's alert (none: the alert is gone). */
  homeId?: string;
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
  /**
   * The lifecycles of every alert not resolved, oldest alert first: what the escalations hold now (e.g. the
   * reply codes in use). One read, whatever the history: resolved alerts are not read.
   */
  listOpenAlertLifecycles(): Promise<AlertLifecycle[]>;
  /**
   * Writes the whole row and adds one to its version. With `fence`, refused (`MIMAMORI_ERR_FENCED`, nothing
   * written) unless the fence still holds (`JobStore.fenceHome`).
   *
   * With `expect` (a compare-and-set, one conditional statement): writes only while the row exists and its version
   * is still `expect.version`, and returns whether it did. An escalation step saves this way: in a cluster a
   * person's answer runs on whichever node received it, outside the owner's queue, so it may commit between the
   * step's read and its save; the step that loses reads the row again and decides again, and never puts back the
   * state it read (running, nobody acknowledged). Without it the write is unconditional and returns true: a
   * person's answer, and everything in one hub's home queue (one change at a time, each awaited before the next,
   * which orders the writes on a pool too).
   */
  saveAlertLifecycle(l: AlertLifecycle, fence?: HomeFence, expect?: { version: number }): Promise<boolean>;
  /**
   * Inserts the keys that don't exist yet, in one transaction; returns those it inserted. With
   * `fence`, refused (`MIMAMORI_ERR_FENCED`, nothing written) unless the fence still holds: a
   * stalled former owner of the home records no send, so it sends nothing.
   *
   * With `expect`, refused (`MIMAMORI_ERR_STALE`, nothing written) unless the alert's lifecycle row is still at
   * that version, checked in the same transaction with the row locked until it commits: an escalation step pages
   * nobody once an answer has changed the row since the step read it (an acknowledgement on another node), and an
   * answer's write waits for a claim in progress, so every page was claimed either before the answer committed or
   * not at all.
   */
  claimSendKeys(keys: Array<Omit<SendKey, 'notificationId'>>, fence?: HomeFence, expect?: LifecycleVersion): Promise<string[]>;
  attachSendKeys(keys: string[], notificationId: string): Promise<void>;
  listSendKeys(alertId: string): Promise<SendKey[]>;
  /**
   * The alert's send keys, each with its notification's status — read in one
   * query for that alert only. A group's message is recorded once, under its
   * leader, so a member's keys point at the leader's notification.
   */
  listSendOutcomes(alertId: string): Promise<SendOutcome[]>;
  findSendKeysByNotification(notificationId: string): Promise<SendKey[]>;
  /**
   * Keys written at or after `since` that carry a recipient and body but whose
   * send has no outcome yet: no notification, or a `pending` one without a
   * provider id — the process died inside the send window, or the send is
   * still in flight (`attemptAt` says since when). Migration 7. Each carries
   * its alert's home; with `homeId`, only that home's (one query, however many
   * homes have sends to settle).
   */
  listUnsettledSendKeys(since: number, homeId?: string): Promise<UnsettledSendKey[]>;
  /**
   * Takes an unsettled send over for reconciliation, so that one reconciler alone settles it, and sends it
   * again if it must: a compare-and-set on the attempt the caller read (`attemptAt`), in one transaction.
   *
   * - The send has its notification (`notificationId`, the row exists): taken only while it is still
   *   `pending` without a provider id and its `updated_at` is still `attemptAt`; `updated_at` becomes `at`,
   *   which begins a new attempt. `at` must be later than `attemptAt` (reconciliation takes only attempts
   *   older than its settle window), so two reconcilers that read the same attempt — two nodes, a retry and a
   *   home's gain — cannot both take it, and a send whose own sender recorded its answer meanwhile is not
   *   taken.
   * - It has none (the sender died between the key and the record, or the row is gone): `record` is written,
   *   with `updatedAt` `at`, and `keys` are attached to it, only while every key still points where the caller
   *   read (`notificationId`, or nowhere).
   *
   * Returns the id of the notification now carrying the send, or undefined when another writer got there first
   * (nothing written). With `fence`, refused (`MIMAMORI_ERR_FENCED`, nothing written) unless it still holds.
   */
  takeUnsettledSend(send: { keys: string[]; attemptAt: number; notificationId?: string; record: Omit<NotificationRecord, 'id' | 'updatedAt'> }, at: number, fence?: HomeFence): Promise<string | undefined>;
}

// ── Jobs (jobs/, migration 18): the one durable schedule with leases ──
/** What a job's owner asks for: one pending job per `key` (scheduling the key again replaces it). */
export interface JobRequest {
  key: string;
  /** Whose handler runs it (`escalation`, `digest`, `checkin-deadline`, …). */
  kind: string;
  homeId: string;
  /** When it is due (epoch ms on the scheduler's clock). */
  dueAt: number;
  /** JSON; the kind's owner checks its shape when it runs. */
  payload?: unknown;
}
/** A stored job: the request, its version, its lease, and how its runs went. */
export interface Job extends JobRequest {
  /** Grows with every (re-)schedule of the key: a run completes only the version it was given. */
  version: number;
  /** The node that holds the lease (a claim), until `leaseUntil`. */
  owner?: string;
  leaseUntil?: number;
  /** Failed runs of this version (reset when the key is scheduled again). */
  attempts: number;
  lastError?: string;
  createdAt: number;
  updatedAt: number;
}
/**
 * A cluster node acting for a home: its node id and the home's lease token
 * (cluster/leases.ts). The store keeps the highest token seen per home and
 * refuses a write carrying a lower one, or one of a node that let go.
 */
export interface HomeFence { home: string; owner: string; token: number }

/** What became of a finished run: deleted, or the key was scheduled again meanwhile (its lease let go), or it was no longer ours. */
export type JobFinish = 'done' | 'rescheduled' | 'lost';

/**
 * The jobs table (jobs/ drives it). Every time is the caller's clock; every
 * write that a lease protects names the owner, so a node whose lease ran out
 * and was taken over changes nothing.
 */
export interface JobStore {
  /**
   * Inserts or replaces the key's job: a new version, due at `dueAt`, attempts
   * reset; a lease held on the key stays (one run at a time). With `hold`, the
   * job is also leased to `hold.owner` unless another node's lease is still live.
   */
  scheduleJob(job: JobRequest, at: number, hold?: { owner: string; leaseUntil: number }): Promise<Job>;
  /**
   * Inserts the key's job when there is none; else keeps it as it is (due time, payload, lease,
   * attempts) and only grows its version — "still wanted": a run, or a `cancelJob`, that read an
   * older version then finishes or deletes nothing (a run's finish lets its lease go, the job stays).
   */
  ensureJob(job: JobRequest, at: number): Promise<Job>;
  /**
   * Deletes the key's job; false when there was none. With `version`, only that version: a caller
   * that decided from an older read (the key re-scheduled or ensured since) deletes nothing.
   */
  cancelJob(key: string, version?: number): Promise<boolean>;
  getJob(key: string): Promise<Job | undefined>;
  /** By due time, then key; only the given kinds when `kinds` is set. */
  listJobs(kinds?: readonly string[]): Promise<Job[]>;
  /** The earliest time one of `kinds` may be claimed: its due time, or later while another lease holds it; with `fencedFor`, of the homes that node holds. */
  nextJobAt(kinds: readonly string[], fencedFor?: string): Promise<number | undefined>;
  /**
   * Takes up to `limit` jobs of `kinds` due at `now` whose lease is free or ran
   * out, by due time then key: sets `owner` and `leaseUntil` atomically (a
   * conditional update, so two nodes never take the same job).
   */
  claimJobs(o: {
    kinds: readonly string[]; owner: string; now: number; leaseUntil: number; limit: number;
    /** Cluster mode: only jobs of homes whose fence this node holds (`fenceHome`), checked in the same statement. */
    fencedFor?: string;
  }): Promise<Job[]>;
  /** A run finished: deletes the job if it is still `version` and `owner`'s; else only lets go of the lease. */
  completeJob(key: string, owner: string, version: number, at: number): Promise<JobFinish>;
  /** A run failed: the job (still `version` and `owner`'s) is due again at `retryAt`, attempts + 1, the error kept; else only the lease is let go. */
  failJob(key: string, owner: string, version: number, error: string, retryAt: number, at: number): Promise<JobFinish>;
  /** Moves the lease on; false when `owner` no longer holds it. */
  extendJobLease(key: string, owner: string, leaseUntil: number): Promise<boolean>;
  /** Lets go of every lease `owner` holds (a restarted node takes back its own jobs at once); how many. */
  releaseJobLeases(owner: string): Promise<number>;
  /**
   * A node gained a home's lease: records its token as the home's fence, unless a higher token
   * (or the same token of another node) is already there; false then. On success every lease
   * on the home's jobs is let go — the former owner's runs finish as `lost` — so the new owner
   * claims the due ones at once.
   */
  fenceHome(fence: HomeFence, at: number): Promise<boolean>;
  /** The node let go of the home: the fence names nobody (its token stays). False when it no longer held it. */
  unfenceHome(fence: HomeFence, at: number): Promise<boolean>;
  /** The home's highest token and who holds it (absent: never fenced; `owner` absent: let go). */
  getHomeFence(home: string): Promise<{ token: number; owner?: string } | undefined>;
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
  /**
   * Writes the patch in one statement; false when no row was changed. With `expect`, a compare-and-set:
   * only while the check-in is still in that status (and has that many declines) — the state the caller
   * read and decided on. Two changes that both read "scheduled" (a cancel and the deadline, a connected
   * call and the deadline) cannot both win: the later one changes nothing (false) and must not act on it.
   */
  updateCheckin(id: string, patch: { status?: CheckinStatus; declines?: number; missedReason?: MissedReason; callId?: string }, expect?: { status: CheckinStatus; declines?: number }): Promise<boolean>;
  setVideoPermission(p: VideoPermission): Promise<void>;
  getVideoPermission(homeId: string, accountId: string): Promise<VideoPermission | undefined>;
  listVideoPermissions(homeId: string): Promise<VideoPermission[]>;
  /**
   * Inserts a call record, or adds to it: its answer (`answeredAt`, `answeredBy`) and its end
   * (`endedAt`, `outcome`), once stored, stay. A call is answered once and ends once, and the
   * saves of one call are not awaited in turn (a hang-up can arrive while the answer's save is
   * on its way): on a pool the earlier save may commit last, and must not undo the later one.
   */
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
  /** By kind in the order of `addressKinds`, then oldest first. */
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

// ── Monthly reports (dashboards/monthly-reports, migration 13, issue 14) ──
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

/** The kept monthly reports (dashboards/ and `mimamori report`). */
export interface ReportStore {
  /** Keeps a report, replacing the one of the same home, month and language. */
  saveReport(r: MonthlyReportRecord): Promise<void>;
  getReport(id: string): Promise<MonthlyReportRecord | undefined>;
  findReport(homeId: string, month: string, language: Language): Promise<MonthlyReportRecord | undefined>;
  /** Kept reports, newest month first, then by home and language; by home (any of `homeIds`) and/or month; at most `limit` (default 200). */
  listReports(filter?: { homeIds?: readonly string[]; month?: string; limit?: number }): Promise<MonthlyReportRecord[]>;
}

// ── Day-care facilities (migration 17, issue 14) ──
/** A day-care facility: staff accounts link to it (`WebLink` kind `facility`), homes are enrolled in it. */
export interface Facility { id: string; name: string; createdAt: number }
/** A home enrolled in a facility: the facility's staff see it on their page. */
export interface Enrollment { facilityId: string; homeId: string }

/**
 * Facilities and enrolments (the operator's /operator/facilities page and
 * `mimamori facility`). `AccountStore.enrollHome` writes an enrolment; the
 * caller checks first that the facility and the home exist
 * (dashboards/facilities.ts).
 */
export interface FacilityStore {
  /** `createdAt` defaults to the store's clock. Fails with MIMAMORI_ERR_CONFLICT when the id exists. */
  createFacility(f: Omit<Facility, 'createdAt'> & { createdAt?: number }): Promise<Facility>;
  getFacility(id: string): Promise<Facility | undefined>;
  /** By id. */
  listFacilities(): Promise<Facility[]>;
  /** Every enrolment (or one home's), by facility, then home. */
  listEnrollments(filter?: { homeId?: string }): Promise<Enrollment[]>;
  /** Ends a home's enrolment; false when it was not enrolled there. */
  leaveFacility(facilityId: string, homeId: string): Promise<boolean>;
}

/** Homes, the people who live there and the people to tell (provisioning, the notifier, the pages). */
export interface HomeStore {
  /** `createdAt` defaults to the store's clock. Fails with MIMAMORI_ERR_CONFLICT when the id exists. */
  createHome(home: Omit<Home, 'createdAt'> & { createdAt?: number }): Promise<Home>;
  getHome(id: string): Promise<Home | undefined>;
  /** By id. */
  listHomes(): Promise<Home[]>;
  addResident(r: Omit<Resident, 'id'> & { id?: string }): Promise<Resident>;
  /** By name. */
  listResidents(homeId: string): Promise<Resident[]>;
  /** Also stores the phone and e-mail as the contact's first addresses (migration 11). */
  addContact(c: Omit<Contact, 'id'> & { id?: string }): Promise<Contact>;
  /** By priority, then name. */
  listContacts(homeId: string): Promise<Contact[]>;
}

/** One home in the operator's fleet view (FleetStore.listFleet). */
export interface FleetHome {
  home: Home;
  /** The residents' names, by name. */
  residents: string[];
  /** How many devices the home has. */
  devices: number;
  /** The alerts not yet resolved (open and acknowledged), oldest first. */
  alerts: Alert[];
}

/** The operator's fleet view (dashboards/routes-fleet): every home at once; the page filters, sorts and pages it. */
export interface FleetStore {
  /**
   * Every home, by id, with what the fleet view needs, in a few queries
   * (never one per home): residents' names, number of devices, and the alerts
   * not yet resolved (open and acknowledged), oldest first.
   */
  listFleet(): Promise<FleetHome[]>;
}

/** Devices, service logins and the ingest: de-duplication, the outbox to history, the dead-letter table (broker/). */
export interface DeviceStore {
  /** `createdAt` defaults to the store's clock. Fails with MIMAMORI_ERR_CONFLICT when the device exists. */
  addDevice(d: Omit<Device, 'createdAt' | 'disabled'> & { createdAt?: number }): Promise<Device>;
  getDevice(homeId: string, deviceId: string): Promise<Device | undefined>;
  /** By home, then device id. */
  listDevices(homeId?: string): Promise<Device[]>;
  /** Fails with MIMAMORI_ERR_NOT_FOUND for an unknown device. */
  setDeviceSecretHash(homeId: string, deviceId: string, secretHash: string): Promise<void>;
  setService(name: string, secretHash: string): Promise<void>;
  getServiceSecretHash(name: string): Promise<string | undefined>;
  /** Records an event id for an event of time `at` (its `ts`); false when the same device already sent it for that day. */
  markEventSeen(homeId: string, deviceId: string, eventId: string, at: number): Promise<boolean>;
  /**
   * Forgets the ids of events on days before the day of `olderThan` (so every id of an event
   * at `olderThan` or later is kept); resolves with how many. With `limit`, at most that many,
   * the oldest days first, so a caller on the event loop prunes a large backlog in short
   * statements (the ingest: broker/ingest.ts `pruneChunk`) instead of one that blocks for seconds.
   */
  pruneSeenEvents(olderThan: number, limit?: number): Promise<number>;
  /**
   * The ingest's batch commit, in one transaction: records each item's event
   * id (items without one, heartbeats, are always fresh) and, for every fresh
   * item with an `outbox` text, keeps that text in the ingest outbox until
   * `clearIngestOutbox` confirms history has it. Returns per item whether it
   * was fresh, and the outbox position of the last row written (0 if none).
   *
   * Batches that keep outbox rows commit, and answer, in the order they were
   * made, a failed one not stopping the next (on a pool the store runs them in
   * turn): the ingest confirms the outbox by position, dropping every row up
   * to the last one it emitted, so a batch must never answer before an
   * earlier one whose rows have lower positions. `forOwner` batches (the
   * cluster inbox, cleared by position lists) are ordered per home: a batch
   * commits after the earlier ones holding a row of one of its homes, so a
   * home's rows from one store draw their positions, and commit, in the order
   * the batches were made (`takeInbox` reads them by position).
   */
  commitIngestBatch(items: ReadonlyArray<IngestBatchItem>, at: number, opts?: { forOwner?: boolean }): Promise<{ fresh: boolean[]; outboxHead: number }>;
  /** Outbox rows not yet confirmed, oldest first (read at start to replay them into history); never the cluster inbox's. */
  listIngestOutbox(): Promise<Array<{ seq: number; text: string }>>;
  /** Removes outbox rows up to and including `upTo`; returns how many. Never touches the cluster inbox's rows. */
  clearIngestOutbox(upTo: number): Promise<number>;
  /**
   * Cluster mode (`commitIngestBatch(…, { forOwner: true })`): takes up to
   * `limit` waiting rows of the homes whose fence names `node` (JobStore.fenceHome),
   * oldest first, marking them taken by `node`. A row is taken by one node only.
   * Every waiting row, whatever was taken before: a row that commits after a
   * row with a higher position was taken is taken by the next call (no
   * "last position read" to step over it; test/cluster/inbox-order.test.ts).
   */
  takeInbox(node: string, limit: number): Promise<InboxRow[]>;
  /**
   * Rows of `home` taken by another node and not cleared (that node died, or
   * let the home go, before history confirmed them): taken over by `node`,
   * oldest first, if its fence holds the home; for history, not for the rules.
   */
  retakeInbox(node: string, home: string): Promise<InboxRow[]>;
  /** Puts rows `node` took but did not run back to waiting (their home is not running here after all). */
  returnInbox(node: string, seqs: readonly number[]): Promise<number>;
  /** Deletes rows by position once history has them; returns how many. */
  clearInbox(seqs: readonly number[]): Promise<number>;
  /**
   * Keeps a refused device message in the dead-letter table. The table keeps
   * the newest `rejectedPerHome` messages of each home (messages without a
   * home count as one more): every `rejectedPruneEvery` messages of a home,
   * one indexed delete drops that home's older ones (StoreOptions).
   */
  recordRejected(r: Omit<RejectedMessage, 'id'>): Promise<RejectedMessage>;
  /** The most recent refused messages, newest first. */
  listRejected(limit?: number): Promise<RejectedMessage[]>;
}

/** What the rule engine keeps: each home's rule settings and its persisted rule state (rules/). */
export interface RuleStateStore {
  getRuleConfig(homeId: string): Promise<unknown>;
  /** `at` defaults to the store's clock. */
  setRuleConfig(homeId: string, rules: unknown, at?: number): Promise<void>;
  /** Saves every given home's state in one transaction. */
  /** The rule engine's state as one JSON row per home (the format before migration 15; still read). */
  saveHomeStates(states: Array<{ homeId: string; state: unknown }>, at: number): Promise<void>;
  /** Every home's row, or only `homeId`'s. */
  loadHomeStates(homeId?: string): Promise<Map<string, unknown>>;
  /**
   * The rule engine's state in parts (migration 15): writes each listed part
   * of each home (text the engine encoded) and drops the old whole-state row
   * (`home_states`) of every home in `dropWhole`, all in one transaction
   * (the parts as one batch, `runMany`). A (home, part) listed twice is
   * written once, with the last text, as writing them in turn would leave it.
   *
   * With `fencedFor` (a cluster node's id), a home whose fence names another
   * node or none (JobStore.fenceHome; the node let it go or was fenced out)
   * is not written: a former owner never overwrites what the home's new
   * owner loaded. A home never fenced (a single hub's) is written. Returns
   * the homes refused.
   *
   * Saves commit in the order they were made, a failed one not stopping the
   * next: the engine leaves a home's names (`keys` part) out when an earlier
   * save wrote them, so a later save must never commit before an earlier one.
   */
  saveHomeStateParts(parts: HomeStatePart[], at: number, dropWhole?: string[], fencedFor?: string): Promise<string[]>;
  /** Every home's parts, or only `homeId`'s (a cluster node taking one home on). */
  loadHomeStateParts(homeId?: string): Promise<HomeStatePart[]>;
}

/** One saved part of a home's rule state (`part`: 'home', 'keys' or 'routine'; `data`: the part's encoded text). */
export interface HomeStatePart { homeId: string; part: string; data: string }

/** Alerts and the notifications sent for them (notifier/, the pages). */
export interface AlertStore {
  /** Opens an alert, or updates the open one of the same home and rule (repeats + 1, severity only rises). */
  openAlert(a: Omit<Alert, 'id' | 'status' | 'repeats' | 'updatedAt' | 'closedAt'>): Promise<{ alert: Alert; created: boolean }>;
  getAlert(id: string): Promise<Alert | undefined>;
  findOpenAlert(homeId: string, rule: string): Promise<Alert | undefined>;
  /**
   * Newest first. `unresolved`: only alerts not resolved (open or acknowledged), read through the partial
   * index of open alerts — a home's history of resolved alerts is not read.
   */
  listAlerts(filter?: { homeId?: string; status?: AlertStatus; unresolved?: boolean }): Promise<Alert[]>;
  /**
   * Fails with MIMAMORI_ERR_NOT_FOUND for an unknown alert. Unconditional: the notifier changes an alert's
   * status in the home's queue, awaiting each write (see `EscalationStore.saveAlertLifecycle`), and a person's
   * answer on any cluster node moves it on. With `expect`, refused (`MIMAMORI_ERR_STALE`, nothing written) unless
   * the escalation's lifecycle row is still at that version, checked in the same transaction: an escalation step
   * that reopens the alerts (nobody arrived by the ETA) does not undo an answer committed since it read the row.
   */
  updateAlertStatus(id: string, status: AlertStatus, at: number, expect?: LifecycleVersion): Promise<Alert>;
  recordNotification(n: Omit<NotificationRecord, 'id' | 'updatedAt'> & { id?: string }): Promise<NotificationRecord>;
  /**
   * Writes a notification's status (and provider id, error). Returns whether the row changed.
   *
   * With `expect`, only while its status is still `expect.status` (one conditional statement):
   * the caller read that status and decided the move from it, so a write that lost a race to
   * another — two receipts for one message applied at once, whose writes may commit in either
   * order on a pool — changes nothing and returns false, and the caller reads again. Without
   * it the write is unconditional: use it only where nothing else can write the row meanwhile.
   * With `expect.updatedAt` too, only while the row's `updated_at` is still that: a send records its
   * answer only on the attempt it made (`takeUnsettledSend` begins another).
   */
  updateNotification(id: string, patch: { status: string; providerId?: string; error?: string }, at: number, expect?: { status: string; updatedAt?: number }): Promise<boolean>;
  findNotificationByProviderId(providerId: string): Promise<NotificationRecord | undefined>;
  /**
   * Keeps a delivery receipt whose provider id no notification has yet (it beat the send's
   * answer), durably, until `dropHeldReceipt`. The same (provider id, status) twice is kept once.
   */
  holdReceipt(r: HeldReceipt): Promise<void>;
  /** Held receipts, oldest first (by time received, then provider id and status); of one provider id when given. */
  listHeldReceipts(filter: { providerId?: string; limit: number }): Promise<HeldReceipt[]>;
  /** Deletes a held receipt; whether it was there (another node may have applied it first). */
  dropHeldReceipt(providerId: string, status: string): Promise<boolean>;
  /** Oldest first. */
  listNotifications(alertId?: string): Promise<NotificationRecord[]>;
  /**
   * Notifications in one of `statuses` (of one person when `contactId` is
   * given), oldest first: read through the status index (migration 17), not
   * every notification ever sent.
   */
  findNotifications(filter: { statuses: readonly string[]; contactId?: string }): Promise<NotificationRecord[]>;
  /**
   * Notifications that reached nobody: each one whose status is in
   * `notReached` and whose (alert, person) pair has no notification in any
   * other status; newest first (by update, then id), the page asked for and
   * how many there are in all. Read through the status index (migration 17).
   */
  listUnreachedNotifications(notReached: readonly string[], page: { offset: number; limit: number }): Promise<{ total: number; notifications: NotificationRecord[] }>;
}

/** A delivery receipt kept until its send is recorded (`AlertStore.holdReceipt`). */
export interface HeldReceipt { providerId: string; status: string; error?: string; receivedAt: number }

/** The audit log (a hash chain, core/trail.ts). */
export interface AuditStore {
  audit(entry: Omit<AuditRecord, 'id'>): Promise<void>;
  /**
   * In the order written; of one subject when given (index `audit_log_subject`, migration 24). With `last`,
   * only the newest `last` records, still oldest first (the operator page's recent actions).
   */
  listAudit(subject?: string, opts?: { last?: number }): Promise<AuditRecord[]>;
}

/** The schema version and closing. */
export interface StoreLifecycle {
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/** The whole store: every port. Parts take the narrowest port they use. */
export interface Store extends HomeStore, FleetStore, DeviceStore, RuleStateStore, AlertStore, AuditStore, AccountStore, NewsStore,
  EscalationStore, JobStore, VideoStore, TrailStore, AddressStore, ReportStore, FacilityStore, StoreLifecycle {}

