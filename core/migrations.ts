/**
 * Versioned schema migrations, in SQL that both SQLite and PostgreSQL accept
 * (INTEGER epoch milliseconds for times, TEXT for JSON). Append only: never
 * edit a migration that has shipped.
 */
import { genesisHash, trailColumns, trailHash, type TrailKind } from './trail.js';
export interface Migration {
  version: number; name: string; sql: string[];
  /**
   * Work SQL alone cannot do (hashing), run in the same transaction right
   * after `sql`. Given a synchronous port so it stays dialect-neutral.
   */
  after?: (db: MigrationDb) => void;
}

/** What a migration's `after` step may use. */
export interface MigrationDb {
  all(sql: string, ...params: unknown[]): Array<Record<string, unknown>>;
  run(sql: string, ...params: unknown[]): void;
}

/**
 * Seals the rows a trail already has into its hash chain, in the order they
 * were written (SQLite's rowid), once, as part of migration 8. Rows inserted
 * later without a hash are never sealed silently: `audit verify` reports them.
 */
function sealExistingTrail(kind: TrailKind): (db: MigrationDb) => void {
  return (db) => {
    const { table, columns } = trailColumns[kind];
    let prev = genesisHash;
    let seq = 0;
    for (const row of db.all(`SELECT rowid AS _rowid, ${columns.join(', ')} FROM ${table} ORDER BY rowid`)) {
      seq++;
      const hash = trailHash(kind, seq, prev, row);
      db.run(`UPDATE ${table} SET seq = ?, prev_hash = ?, hash = ? WHERE rowid = ?`, seq, prev, hash, row._rowid);
      prev = hash;
    }
  };
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'homes, people, devices, rules, alerts',
    sql: [
      `CREATE TABLE homes (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, timezone TEXT NOT NULL,
        address TEXT, entry_notes TEXT, created_at BIGINT NOT NULL)`,
      `CREATE TABLE residents (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL REFERENCES homes(id),
        name TEXT NOT NULL, birth_year INTEGER, language TEXT NOT NULL)`,
      `CREATE TABLE contacts (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL REFERENCES homes(id),
        name TEXT NOT NULL, role TEXT NOT NULL, phone TEXT, email TEXT,
        language TEXT NOT NULL, priority INTEGER NOT NULL)`,
      `CREATE TABLE devices (
        home_id TEXT NOT NULL REFERENCES homes(id), device_id TEXT NOT NULL,
        kind TEXT NOT NULL, label TEXT, secret_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
        PRIMARY KEY (home_id, device_id))`,
      `CREATE TABLE services (
        name TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE TABLE rule_configs (
        home_id TEXT PRIMARY KEY REFERENCES homes(id), rules TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE home_states (
        home_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE seen_events (
        home_id TEXT NOT NULL, device_id TEXT NOT NULL, event_id TEXT NOT NULL, seen_at BIGINT NOT NULL,
        PRIMARY KEY (home_id, device_id, event_id))`,
      `CREATE INDEX seen_events_age ON seen_events (seen_at)`,
      `CREATE TABLE alerts (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL,
        status TEXT NOT NULL, message TEXT NOT NULL, finding TEXT NOT NULL, repeats INTEGER NOT NULL DEFAULT 0,
        opened_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, closed_at BIGINT)`,
      // One open alert per home and rule, enforced by the database itself.
      `CREATE UNIQUE INDEX alerts_one_open ON alerts (home_id, rule) WHERE status <> 'resolved'`,
      `CREATE TABLE notifications (
        id TEXT PRIMARY KEY, alert_id TEXT NOT NULL REFERENCES alerts(id), contact_id TEXT,
        channel TEXT NOT NULL, status TEXT NOT NULL, provider_id TEXT, error TEXT,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE audit_log (
        id TEXT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT NOT NULL, detail TEXT)`,
    ],
  },
  {
    version: 2,
    name: 'dead-letter table for refused device messages',
    sql: [
      // Device input the ingest refused (bad JSON, unknown kind, invalid fields, bad topic), kept for inspection.
      `CREATE TABLE rejected_messages (
        id TEXT PRIMARY KEY, at BIGINT NOT NULL, topic TEXT NOT NULL, home_id TEXT, device_id TEXT,
        reason TEXT NOT NULL, detail TEXT, payload TEXT)`,
      `CREATE INDEX rejected_messages_at ON rejected_messages (at)`,
    ],
  },
  {
    version: 3,
    name: 'escalation: alert lifecycle, policies, contact preferences, schedule, send keys',
    sql: [
      // Acknowledgement and resolution (who, how, when), and the escalation state with its policy snapshot.
      `CREATE TABLE alert_lifecycle (
        alert_id TEXT PRIMARY KEY REFERENCES alerts(id), home_id TEXT NOT NULL,
        acknowledged_by TEXT, acknowledged_via TEXT, acknowledged_at BIGINT,
        resolved_by TEXT, resolved_via TEXT, resolution_note TEXT,
        policy TEXT, state TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE escalation_policies (home_id TEXT PRIMARY KEY, policy TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      // Quiet hours, digest times and the preferred digest channel per contact.
      `CREATE TABLE contact_preferences (contact_id TEXT PRIMARY KEY, prefs TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      // The one durable schedule: escalation steps, digests. Reloaded on start.
      `CREATE TABLE notifier_schedule (id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, due_at BIGINT NOT NULL, payload TEXT)`,
      `CREATE INDEX notifier_schedule_due ON notifier_schedule (due_at)`,
      // One row per alert+epoch+tier+repeat+recipient+channel, written before the send.
      `CREATE TABLE send_keys (
        key TEXT PRIMARY KEY, alert_id TEXT NOT NULL, contact_id TEXT, channel TEXT NOT NULL,
        notification_id TEXT, created_at BIGINT NOT NULL)`,
      `CREATE INDEX send_keys_alert ON send_keys (alert_id)`,
      `CREATE INDEX send_keys_notification ON send_keys (notification_id)`,
      `CREATE INDEX contacts_phone ON contacts (phone)`,
    ],
  },
  {
    version: 4,
    name: 'web app: accounts, sessions, relationships, consent, access log, news, questions, attendance',
    sql: [
      // People who sign in to the web app (dashboards/). Passwords and TOTP secrets never leave the server.
      `CREATE TABLE web_accounts (
        id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
        language TEXT NOT NULL, password_hash TEXT NOT NULL, totp_secret TEXT, locked_until BIGINT,
        created_at BIGINT NOT NULL)`,
      `CREATE TABLE web_login_failures (account_id TEXT NOT NULL, at BIGINT NOT NULL)`,
      `CREATE INDEX web_login_failures_account ON web_login_failures (account_id, at)`,
      // Session ids are stored only as SHA-256 digests of the cookie value.
      `CREATE TABLE web_sessions (
        id TEXT PRIMARY KEY, account_id TEXT NOT NULL, csrf TEXT NOT NULL, mfa_ok INTEGER NOT NULL,
        created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, user_agent TEXT)`,
      `CREATE INDEX web_sessions_account ON web_sessions (account_id)`,
      // Relationships: an account linked to a home (family, resident, caregiver) or a facility (staff).
      `CREATE TABLE web_links (
        account_id TEXT NOT NULL, kind TEXT NOT NULL, target_id TEXT NOT NULL,
        PRIMARY KEY (account_id, kind, target_id))`,
      `CREATE TABLE facility_homes (facility_id TEXT NOT NULL, home_id TEXT NOT NULL, PRIMARY KEY (facility_id, home_id))`,
      `CREATE TABLE consents (
        home_id TEXT NOT NULL, viewer_id TEXT NOT NULL, level TEXT NOT NULL, photos INTEGER NOT NULL,
        updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL, PRIMARY KEY (home_id, viewer_id))`,
      `CREATE TABLE access_log (
        id TEXT PRIMARY KEY, at BIGINT NOT NULL, viewer_id TEXT NOT NULL, home_id TEXT NOT NULL, what TEXT NOT NULL)`,
      `CREATE INDEX access_log_home ON access_log (home_id, at)`,
      `CREATE TABLE news (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL, author_id TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE INDEX news_home ON news (home_id, created_at)`,
      // Photo bytes live in files under the web app's photo folder; rows keep what the pages need.
      `CREATE TABLE news_photos (
        id TEXT PRIMARY KEY, news_id TEXT NOT NULL, home_id TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL)`,
      `CREATE TABLE questions (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL, asker_id TEXT NOT NULL, body TEXT NOT NULL, asked_at BIGINT NOT NULL,
        answer TEXT, answerer_id TEXT, answered_at BIGINT)`,
      `CREATE TABLE attendance (
        home_id TEXT NOT NULL, date TEXT NOT NULL, status TEXT NOT NULL, marked_by TEXT NOT NULL, at BIGINT NOT NULL,
        PRIMARY KEY (home_id, date))`,
      // Who acted on an alert from the web app (acknowledged, on my way, arrived, resolved).
      `CREATE TABLE alert_responses (
        id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, home_id TEXT NOT NULL, account_id TEXT NOT NULL,
        action TEXT NOT NULL, at BIGINT NOT NULL)`,
      `CREATE INDEX alert_responses_alert ON alert_responses (alert_id, at)`,
    ],
  },
  // ── Video check-ins (dashboards/video*, issue 5): migration 6 ──
  {
    version: 6,
    name: 'video check-ins: schedule, permissions, calls, notes',
    sql: [
      // Scheduled check-ins; status scheduled → done | missed | cancelled (missed_reason: no-answer, declined, not-called).
      `CREATE TABLE video_checkins (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL, due_at BIGINT NOT NULL, caller_id TEXT NOT NULL,
        created_by TEXT NOT NULL, created_at BIGINT NOT NULL, status TEXT NOT NULL, declines INTEGER NOT NULL DEFAULT 0,
        missed_reason TEXT, call_id TEXT)`,
      `CREATE INDEX video_checkins_home ON video_checkins (home_id, due_at)`,
      `CREATE INDEX video_checkins_status ON video_checkins (status, due_at)`,
      // What the resident (or guardian) allows one person: auto-answered calls, scheduling, emergency look-in.
      `CREATE TABLE video_permissions (
        home_id TEXT NOT NULL, account_id TEXT NOT NULL, trusted INTEGER NOT NULL, may_schedule INTEGER NOT NULL,
        look_in INTEGER NOT NULL, updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL, PRIMARY KEY (home_id, account_id))`,
      `CREATE TABLE video_calls (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL, caller_id TEXT NOT NULL, kind TEXT NOT NULL, checkin_id TEXT, alert_id TEXT,
        started_at BIGINT NOT NULL, answered_at BIGINT, answered_by TEXT, ended_at BIGINT, outcome TEXT)`,
      `CREATE INDEX video_calls_home ON video_calls (home_id, started_at)`,
      `CREATE TABLE video_notes (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL, call_id TEXT, author_id TEXT NOT NULL, mood TEXT NOT NULL,
        eating TEXT NOT NULL, follow_up TEXT NOT NULL, at BIGINT NOT NULL)`,
      `CREATE INDEX video_notes_home ON video_notes (home_id, at)`,
    ],
  },
  // ── Escalation send reconciliation (notifier/, issue 3 durability): migration 7 ──
  {
    version: 7,
    name: 'send keys: what was handed to the provider, for reconciliation after a crash',
    sql: [
      // For channels whose provider can be asked afterwards (SMS, voice): the address and text
      // written with the key, so a restart can find the message at the provider or send it once.
      `ALTER TABLE send_keys ADD COLUMN recipient TEXT`,
      `ALTER TABLE send_keys ADD COLUMN body TEXT`,
    ],
  },
  // ── Backups and the tamper-evident trail (issue 15): migration 8 ──
  {
    version: 8,
    name: 'backups: history; audit and access logs as hash chains',
    sql: [
      // core/trail.ts: position in the chain, the previous record's hash, this record's hash.
      `ALTER TABLE audit_log ADD COLUMN seq INTEGER`,
      `ALTER TABLE audit_log ADD COLUMN prev_hash TEXT`,
      `ALTER TABLE audit_log ADD COLUMN hash TEXT`,
      `CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq)`,
      `ALTER TABLE access_log ADD COLUMN seq INTEGER`,
      `ALTER TABLE access_log ADD COLUMN prev_hash TEXT`,
      `ALTER TABLE access_log ADD COLUMN hash TEXT`,
      `CREATE UNIQUE INDEX access_log_seq ON access_log (seq)`,
      // One row per backup run (backup/): what, where, how big, its checksum, whether its test restore passed.
      `CREATE TABLE backups (
        id TEXT PRIMARY KEY, started_at BIGINT NOT NULL, finished_at BIGINT, status TEXT NOT NULL,
        file TEXT, size BIGINT, sha256 TEXT, targets TEXT NOT NULL, contents TEXT,
        verified INTEGER NOT NULL DEFAULT 0, verify_note TEXT, heads TEXT, error TEXT)`,
      `CREATE INDEX backups_started ON backups (started_at)`,
    ],
    after: (db) => { sealExistingTrail('audit')(db); sealExistingTrail('access')(db); },
  },
  // ── Ingest at broker speed (issue 12): migration 9 ──
  {
    version: 9,
    name: 'ingest outbox: readings acknowledged but not yet confirmed in history',
    sql: [
      // broker/ingest.ts writes a row per fresh reading in the batch that also records its event id,
      // and deletes rows once the history writer has them in InfluxDB or its disk buffer.
      `CREATE TABLE ingest_outbox (seq INTEGER PRIMARY KEY, text TEXT NOT NULL)`,
    ],
  },
  // ── Hardened defaults (issue 15): migration 10 ──
  {
    version: 10,
    name: 'TOTP: the last accepted step per account (a code is never accepted twice)',
    // Seeds are sealed (AES-256-GCM) by the hub at start, with a key SQL does not have (dashboards/totp.ts sealPlaintextSeeds).
    sql: [`ALTER TABLE web_accounts ADD COLUMN totp_last_step BIGINT`],
  },
  // ── Channels as data (issue 17): migration 11 ──
  {
    version: 11,
    name: 'contact addresses (phone, e-mail, LINE, push, tablet) with verification; one-time link codes; contact ↔ web account',
    sql: [
      // Any number of addresses per contact. `verification`: 'operator' (entered by the operator, taken as given),
      // 'pending' (waiting for the person to prove it), 'verified' (proved: a LINE link code, a push subscription
      // made from a logged-in browser). `address` is the channel's own form: E.164, e-mail, LINE user id, push subscription JSON.
      `CREATE TABLE contact_addresses (
        id TEXT PRIMARY KEY, contact_id TEXT NOT NULL REFERENCES contacts(id), kind TEXT NOT NULL, address TEXT NOT NULL,
        label TEXT, verification TEXT NOT NULL, verified_at BIGINT, created_at BIGINT NOT NULL,
        UNIQUE (contact_id, kind, address))`,
      `CREATE INDEX contact_addresses_lookup ON contact_addresses (kind, address)`,
      // The phone and e-mail columns become addresses (the columns stay, read by older code and the operator pages).
      `INSERT INTO contact_addresses (id, contact_id, kind, address, verification, created_at)
        SELECT 'phone-' || id, id, 'phone', phone, 'operator', 0 FROM contacts WHERE phone IS NOT NULL`,
      `INSERT INTO contact_addresses (id, contact_id, kind, address, verification, created_at)
        SELECT 'email-' || id, id, 'email', email, 'operator', 0 FROM contacts WHERE email IS NOT NULL`,
      // The web account a contact logs in with (their /account page shows their settings and link codes).
      `ALTER TABLE contacts ADD COLUMN account_id TEXT`,
      // One-time codes that bind an address to a contact (LINE: typed into the chat), used once, until they expire.
      `CREATE TABLE address_link_codes (
        code TEXT NOT NULL, kind TEXT NOT NULL, contact_id TEXT NOT NULL, expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL,
        PRIMARY KEY (kind, code))`,
    ],
  },
  // ── Monthly reports (issue 14): migration 13 ──
  {
    version: 13,
    name: 'monthly reports: one kept PDF per home, month and language',
    sql: [
      // The PDF lives in the reports folder beside the store (`file`, relative to it); `sha256` proves it is the one made.
      // `complete` = 1 when the month had ended when it was made (a partial month's report is made again on request).
      `CREATE TABLE reports (
        id TEXT PRIMARY KEY, home_id TEXT NOT NULL REFERENCES homes(id), month TEXT NOT NULL, language TEXT NOT NULL,
        created_at BIGINT NOT NULL, created_by TEXT NOT NULL, complete INTEGER NOT NULL,
        file TEXT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, pages INTEGER NOT NULL,
        UNIQUE (home_id, month, language))`,
      `CREATE INDEX reports_month ON reports (month, home_id)`,
    ],
  },
  // ── Operator account management (issue 14): migration 14 ──
  {
    version: 14,
    name: 'web accounts: disabled by an operator; a password an operator reset must be changed at the next sign-in',
    sql: [
      // `disabled_at`: when an operator disabled the account (NULL: enabled); a disabled account cannot sign in and has no sessions.
      `ALTER TABLE web_accounts ADD COLUMN disabled_at BIGINT`,
      // 1 after an operator set a temporary password: the person chooses their own before anything else.
      `ALTER TABLE web_accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0`,
    ],
  },
  // ── Rule-state saves in parts (issue 12, rulesperf): migration 15 ──
  {
    version: 15,
    name: 'rule state in parts: the hot state saved often, the learned routine only when a day is committed',
    sql: [
      // `part`: 'home' (per-reading state: times, devices, marks, findings, today's tallies; every
      // progress save) or 'routine' (learned profiles and context; when a day is committed).
      // `data`: the part's text (rules/home-state-codec.ts, versioned). A home with parts has no
      // row in home_states any more (the old whole-state row is dropped when its parts are written).
      `CREATE TABLE home_state_parts (
        home_id TEXT NOT NULL, part TEXT NOT NULL, data TEXT NOT NULL, updated_at BIGINT NOT NULL,
        PRIMARY KEY (home_id, part))`,
    ],
  },
  // ── Escalation split (issue 13): migration 16 ──
  {
    version: 16,
    name: 'notifications by alert: the send ledger reads one alert at a time',
    sql: [
      // The ledger asks, per send, what became of an alert's earlier sends (fallbacks, reply binding, follow-ups).
      `CREATE INDEX notifications_alert ON notifications (alert_id)`,
    ],
  },
  // ── Operator lane (issue 14): migration 17 ──
  {
    version: 17,
    name: 'facilities as records; notifications found by status; refused device messages kept per home',
    sql: [
      // Day-care facilities (staff link to one, homes are enrolled in one): until now only ids in
      // facility_homes and web_links. Every id already used there becomes a facility named by its id.
      `CREATE TABLE facilities (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `INSERT INTO facilities (id, name, created_at)
        SELECT facility_id, facility_id, 0 FROM facility_homes
        UNION SELECT target_id, target_id, 0 FROM web_links WHERE kind = 'facility'`,
      `CREATE INDEX facility_homes_home ON facility_homes (home_id)`,
      // Dead letters and the per-person budget summary read notifications by status (and person),
      // not every notification ever sent.
      `CREATE INDEX notifications_status ON notifications (status, contact_id)`,
      // The dead-letter table keeps the newest N per home (core/store.ts, docs/store.md): the cut is found per home.
      `CREATE INDEX rejected_messages_home ON rejected_messages (home_id, at, id)`,
    ],
  },
  // ── The durable job scheduler with leases (issue 13, scheduler): migration 18 ──
  {
    version: 18,
    name: 'jobs: the one durable schedule with leases (escalation steps, digests, check-ins)',
    sql: [
      // One pending job per `key` (re-scheduling replaces it). `version` grows with each (re-)schedule, so a
      // handler that finishes completes only the job it ran, never the one it scheduled next. `owner` and
      // `lease_until` (the scheduler's node id and the clock time its claim runs out; NULL: free) make a job run
      // on one node at a time and be taken again when its owner died. `attempts` and `last_error`: failed runs.
      `CREATE TABLE jobs (
        key TEXT PRIMARY KEY, kind TEXT NOT NULL, home_id TEXT NOT NULL, due_at BIGINT NOT NULL, payload TEXT,
        version INTEGER NOT NULL, owner TEXT, lease_until BIGINT, attempts INTEGER NOT NULL, last_error TEXT,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE INDEX jobs_due ON jobs (due_at, key)`,
      // The old schedule's rows move over as they are (free, never attempted); the old table goes.
      `INSERT INTO jobs (key, kind, home_id, due_at, payload, version, owner, lease_until, attempts, last_error, created_at, updated_at)
        SELECT id, kind, subject, due_at, payload, 1, NULL, NULL, 0, NULL, due_at, due_at FROM notifier_schedule`,
      `DROP TABLE notifier_schedule`,
    ],
  },
  // ── Fencing (issue 13, cluster): migration 19 ──
  {
    version: 19,
    name: 'home fences: the highest lease token seen per home and the node holding it (cluster mode)',
    sql: [
      // A cluster node that gains a home's lease writes its token here; a lower token is refused, so a stalled
      // former owner can neither claim the home's jobs nor record a send for it. `owner` is NULL once the holder
      // let go; the token stays (it only grows). A single hub writes no fences and claims every job.
      `CREATE TABLE home_fences (home_id TEXT PRIMARY KEY, token BIGINT NOT NULL, owner TEXT, updated_at BIGINT NOT NULL)`,
      `CREATE INDEX jobs_home ON jobs (home_id)`,
    ],
  },
  // ── Ingest by ownership (issue 13, cluster): migration 20 ──
  {
    version: 20,
    name: 'ingest outbox as the cluster inbox: each row names its home and who took it',
    sql: [
      // A cluster node's ingest commits each fresh device message here (taken_by NULL: waiting) before the
      // device's PUBACK; the home's owner takes its rows (taken_by = its node id), runs them and deletes them once
      // history has them. A single hub takes its rows itself as it writes them (taken_by ''), as before.
      `ALTER TABLE ingest_outbox ADD COLUMN home_id TEXT`,
      `ALTER TABLE ingest_outbox ADD COLUMN taken_by TEXT DEFAULT ''`,
      `CREATE INDEX ingest_outbox_waiting ON ingest_outbox (home_id, seq)`,
    ],
  },
  // ── An answer on any node against the owner's escalation step (issue 13, cluster): migration 21 ──
  {
    version: 21,
    name: 'alert lifecycle version: an escalation step writes and sends only from the row it read',
    sql: [
      // Grows with every write of the row. The home's owner runs an escalation step from the version it read:
      // it claims a send key and saves the state only while the row is still that version, so a person's answer
      // committed meanwhile on another node (acknowledged, on my way, resolved) is neither paged past nor overwritten.
      `ALTER TABLE alert_lifecycle ADD COLUMN version BIGINT NOT NULL DEFAULT 0`,
    ],
  },
  // ── A delivery receipt that comes before its send is recorded is kept, not lost: migration 22 ──
  {
    version: 22,
    name: 'held delivery receipts: a status callback for a provider id no notification has yet',
    sql: [
      // Twilio can call back before the send's answer is recorded (a slow store, a restart, another cluster node).
      // The receipt waits here until a notification has its provider id, then is applied and deleted; one a day old is dropped.
      `CREATE TABLE held_receipts (provider_id TEXT NOT NULL, status TEXT NOT NULL, error TEXT, received_at BIGINT NOT NULL, PRIMARY KEY (provider_id, status))`,
      `CREATE INDEX held_receipts_age ON held_receipts (received_at)`,
    ],
  },
  // ── A home's alerts found by its id: migration 23 ──
  {
    version: 23,
    name: 'alerts by home: a start settles each home\'s unsettled sends with one indexed read',
    sql: [
      // After a restart each home's unsettled sends are read in the home's queue (notifier/send-reconcile.ts); without
      // this index each such read scanned every send key, so a start with thousands of homes to settle took minutes.
      `CREATE INDEX alerts_home ON alerts (home_id, opened_at)`,
    ],
  },
  // ── The audit log read by subject, and its newest records: migration 24 ──
  {
    version: 24,
    name: 'audit log by subject and by time: an alert\'s records and the operator page\'s recent actions without reading the whole log',
    sql: [
      // An alert's flaps (when its finding clears), an acknowledgement link's use and an alert's timeline read one
      // subject's records; the operator page reads the newest 50. Without these each read scanned the whole log
      // (100,000 records: about 30 ms per subject, and 1.2–1.8 s and 100–250 MB of heap per operator page).
      `CREATE INDEX audit_log_subject ON audit_log (subject, at, seq)`,
      `CREATE INDEX audit_log_at ON audit_log (at, seq)`,
    ],
  },
  // ── A delivery receipt's send, a home's people: migration 25 ──
  {
    version: 25,
    name: 'notifications by provider id, contacts and residents by home: reads on the alert path that scanned whole tables',
    sql: [
      // Every delivery receipt (Twilio calls back several times per message) finds its send by provider id, and
      // every alert reads the home's contacts and residents. Without these, each read scanned the whole table
      // (100,000 notifications: 7–23 ms per receipt; 10,000 homes: about 2 ms per home's contacts).
      `CREATE INDEX notifications_provider ON notifications (provider_id)`,
      `CREATE INDEX contacts_home ON contacts (home_id, priority)`,
      `CREATE INDEX residents_home ON residents (home_id)`,
    ],
  },
  // ── A news item's photos, a home's questions: migration 26 ──
  {
    version: 26,
    name: 'news photos by news item, questions by home: the family page\'s reads that scanned whole tables',
    sql: [
      // The family page reads each news item's photos and the home's questions; day-care staff post photos daily
      // for every home, so without these each item read every photo ever posted.
      `CREATE INDEX news_photos_news ON news_photos (news_id)`,
      `CREATE INDEX questions_home ON questions (home_id, asked_at)`,
    ],
  },
  // ── Event ids kept by the day of the event: migration 27 ──
  {
    version: 27,
    name: 'event ids kept by the day of the event, in one index: old days go together, not one key in every page',
    sql: [
      // seen_events kept each id in three B-trees (the rows, the key, the arrival index) and its oldest ids in every
      // page of the key: an hour of 10,000 homes' ids (4.8 million) took 25 s to delete, holding the event loop.
      // Here the day leads the key, so a day's ids lie together, and there is no other index (SQLite: no rowid).
      // seen_events stays until its last id is past the window: the store still looks there while it holds any.
      `CREATE TABLE seen_ids (
        day INTEGER NOT NULL, home_id TEXT NOT NULL, device_id TEXT NOT NULL, event_id TEXT NOT NULL,
        PRIMARY KEY (day, home_id, device_id, event_id)) WITHOUT ROWID`,
    ],
  },
];
