/**
 * The SQL port under the store: the few things core/store.ts asks of a
 * database. SQLite (better-sqlite3, core/store.ts) and PostgreSQL (`pg`,
 * core/store-pg.ts) each implement it, so the store's queries and row
 * mappers exist once. SQL is written with `?` placeholders in the portable
 * subset both accept (see core/migrations.ts); a driver rewrites what it must.
 */
export type Row = Record<string, unknown>;

/** Queries on one connection (inside a transaction: on that transaction). */
export interface SqlQueries {
  get(sql: string, ...params: unknown[]): Promise<Row | undefined>;
  all(sql: string, ...params: unknown[]): Promise<Row[]>;
  /** Runs a statement; resolves with how many rows it changed. */
  run(sql: string, ...params: unknown[]): Promise<number>;
  /**
   * Runs one statement once per row of parameters, all or nothing (outside a
   * transaction it opens one of its own); resolves with how many rows they
   * changed in all. The batch form of `run` for hot multi-row writes: SQLite
   * runs the prepared statement for every row in one synchronous transaction,
   * PostgreSQL sends an `INSERT … VALUES (?, …)` as multi-row statements (so
   * no two rows of one call may hit the same key of an `ON CONFLICT DO
   * UPDATE`) and any other statement row after row on one connection.
   */
  runMany(sql: string, rows: ReadonlyArray<readonly unknown[]>): Promise<number>;
}

/** Inside a transaction: queries, and a lock that serializes writers of one subject until commit. */
export interface SqlTx extends SqlQueries {
  /** Holds `name` until the transaction ends (PostgreSQL: an advisory lock; SQLite: already one writer at a time). */
  lock(name: string): Promise<void>;
  /**
   * SQLite only: runs a one-row INSERT once per row of parameters; per row, the rowid it
   * inserted, or 0 when it inserted nothing (`ON CONFLICT DO NOTHING`). A prepared one-row
   * statement is about twice as fast there as a multi-row INSERT … RETURNING (session 30:
   * 2.3 µs less per ingested event). PostgreSQL leaves it out: each statement is a round trip.
   */
  insertEach?(sql: string, rows: ReadonlyArray<readonly unknown[]>): Promise<number[]>;
  /**
   * SQLite only: the same for a table without rowid (`ON CONFLICT DO NOTHING`); per row,
   * whether it inserted one.
   */
  tryInsertEach?(sql: string, rows: ReadonlyArray<readonly unknown[]>): Promise<boolean[]>;
}

export interface SqlDb extends SqlQueries {
  /**
   * Runs `work` in one transaction that takes the write lock at its start
   * (SQLite `BEGIN IMMEDIATE`), commits when it resolves and rolls back when it
   * throws. `work` must use only the queries it is given.
   */
  tx<T>(work: (t: SqlTx) => Promise<T>): Promise<T>;
  /** True when `err` is a unique or primary-key violation. */
  isConflict(err: unknown): boolean;
  /**
   * Appended to a SELECT inside `tx` that picks rows to take: PostgreSQL's
   * `FOR UPDATE SKIP LOCKED`, so concurrent claimers get different rows
   * instead of the same ones; empty on SQLite, whose `tx` holds the write lock.
   */
  readonly skipLocked: string;
  /**
   * True when transactions commit in the order they were begun (SQLite: one
   * connection, each write synchronous or queued in turn). A pool (PostgreSQL)
   * may commit a later one first; the store then orders what must commit in
   * order itself (the rule engine's state saves).
   */
  readonly commitsInOrder?: boolean;
  close(): Promise<void>;
}
