/**
 * The one durable job scheduler: escalation steps, digests and check-in
 * timers are rows of the jobs table (core/store-ports.ts `JobStore`), not
 * timers in memory. One timer is armed at the earliest job any registered
 * kind may run; when it fires, the scheduler claims the due jobs in batches
 * (a lease: `owner` = this node, until `now + leaseMs`), runs each kind's
 * handler, and completes the job — or, when the handler throws, lets it fall
 * due again after a back-off. A restart finds the jobs in the store; a job
 * claimed by a node that died is taken again once its lease has run out.
 * Everything counts on the injected clock, so tests run days in virtual time.
 *
 * In a cluster (`ownership`), a scheduler claims only the jobs of homes its
 * node holds — the store checks the home's fence in the claim itself — runs
 * a claimed job only while the node still runs its home, hands the handler
 * the home's fence (node and lease token) to carry into its writes, and
 * claims a gained home's due jobs at once.
 */
import type { SchedulerLike } from 'rxjs';
import { scheduleAt } from '../core/clock.js';
import { isFenced, MimamoriError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HomeFence, Job, JobRequest, JobStore } from '../core/store-ports.js';

/** Runs one claimed job. Throwing fails the run: the job is retried after a back-off. */
export type JobHandler = (job: Job, run: JobRun) => Promise<void>;

/** What a handler may ask of its run. */
export interface JobRun {
  /** Moves this run's lease on by `ms` (default the scheduler's `leaseMs`) from now; false when the lease was lost. */
  extendLease(ms?: number): Promise<boolean>;
  /** In a cluster: the job's home and this node's lease token for it — writes that act for the home carry it (the store refuses a stale one). */
  readonly fence?: HomeFence;
}

/**
 * Which homes this node runs, in a cluster (the hub wires it to the home
 * leases, hub/cluster.ts). A single hub has none: its scheduler claims every job.
 */
export interface HomeOwnership {
  /** The node id named on the homes' fences (`JobStore.fenceHome`). */
  readonly node: string;
  /** The home's lease token while this node runs it (its fence written); undefined otherwise. */
  tokenOf(home: string): number | undefined;
  /** Tells `fn` of each home gained, once its fence is written; returns the unsubscribe. */
  onGained(fn: (home: string) => void): () => void;
}

export interface JobSchedulerOptions {
  store: JobStore;
  /** The clock due times and leases count in (the hub's clock; the wall clock for check-ins). */
  clock: SchedulerLike;
  logger: Logger;
  /** The owner written on each claim: unique per running scheduler (in a cluster `<node>/<pid>`, `…:wall` for the wall-clock one). */
  owner: string;
  /** Cluster mode: claim and run only the jobs of homes this node runs. */
  ownership?: HomeOwnership;
  /**
   * Cluster mode: a job another node scheduled for a home this node runs (an answer or a check-in made
   * on that node) is found by looking again at least this often (default 5 s of clock time).
   */
  pollMs?: number;
  /** How long a claim holds a job (default 5 minutes of clock time). */
  leaseMs?: number;
  /** Jobs claimed per round (default 20). */
  batch?: number;
  /** Back-off after a failed run: `firstMs` doubling per attempt, at most `maxMs` (defaults 1 minute, 1 hour). */
  retry?: { firstMs?: number; maxMs?: number };
}

export interface JobScheduler {
  /** The handler for a kind; this scheduler claims only kinds it has handlers for. Once per kind. */
  register(kind: string, handler: JobHandler): void;
  /** Schedules (or re-schedules: one job per key) a job; the timer moves earlier if it is due sooner. */
  schedule(job: JobRequest): Promise<Job>;
  /**
   * The key's job stays planned: inserted when there is none (due at `dueAt`), else kept as it is
   * (its due time too) with a new version, so a run or a versioned `cancel` that decided from an
   * older read leaves it in place. For planners that re-read what is wanted (digests).
   */
  ensure(job: JobRequest): Promise<Job>;
  /** Cancels the key's job; false when there was none. With `version`: only if it is still the version the caller read. */
  cancel(key: string, version?: number): Promise<boolean>;
  get(key: string): Promise<Job | undefined>;
  /** By due time, then key. */
  list(kinds?: readonly string[]): Promise<Job[]>;
  /**
   * Writes the job due now and held by this node, runs `work` at once, then
   * finishes it like a claimed run (deleted, unless `work` scheduled the key
   * again). A crash inside `work` leaves the job for a restart to run.
   */
  runNow<T>(job: Omit<JobRequest, 'dueAt'>, work: (run: { fence?: HomeFence }) => Promise<T>): Promise<T>;
  /** The fence writes for `home` carry now: undefined for a single hub; in a cluster, token 0 (refused by the store) when this node does not run it. */
  fenceOf(home: string): HomeFence | undefined;
  /** Resolves when nothing the scheduler started is still running (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops the timer and waits for running handlers; their jobs are completed as usual. */
  close(): Promise<void>;
}

/** The delay before retry `attempts + 1` of a failed job. */
export function retryDelay(attempts: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(attempts, 30));
}

/** Creates a scheduler over the jobs table; it arms itself when the first kind is registered. */
export function createJobScheduler(o: JobSchedulerOptions): JobScheduler {
  const { store, clock, owner, ownership } = o;
  const log = o.logger;
  const leaseMs = o.leaseMs ?? 5 * 60_000;
  const batch = o.batch ?? 20;
  const pollMs = o.pollMs ?? 5_000;
  const firstMs = o.retry?.firstMs ?? 60_000;
  const maxMs = o.retry?.maxMs ?? 3_600_000;
  const handlers = new Map<string, JobHandler>();
  const running = new Set<string>();
  const inflight = new Set<Promise<unknown>>();
  let timer: { at: number; cancel: () => void } | undefined;
  let draining = false;
  let again = false;
  let closed = false;
  // A restarted node takes back what its previous life held, before its first claim.
  let ready: Promise<unknown> | undefined;
  const started = () => (ready ??= store.releaseJobLeases(owner).then((n) => { if (n > 0) log.info({ owner, jobs: n }, 'leases of a previous run let go'); }));

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.then(() => inflight.delete(p), () => inflight.delete(p));
    return p;
  };
  const kinds = () => [...handlers.keys()];
  const fenceOf = (home: string): HomeFence | undefined => (ownership ? { home, owner: ownership.node, token: ownership.tokenOf(home) ?? 0 } : undefined);
  // A home gained: its due jobs are claimed now, not at the next unrelated timer.
  const offGained = ownership?.onGained(() => { if (!closed) void track(drain()); });

  function arm(at: number): void {
    if (closed) return;
    if (timer && timer.at <= at) return;
    timer?.cancel();
    const t = { at, cancel: () => {} };
    t.cancel = scheduleAt(clock, at, () => {
      if (timer === t) timer = undefined;
      void track(drain());
    });
    timer = t;
  }

  /** Arms the timer at the next job any registered kind may run. */
  async function rearm(): Promise<void> {
    await started();
    if (closed || handlers.size === 0) return;
    // In a cluster only the homes this node holds count: a due job of another node's home must not wake this one.
    const next = await store.nextJobAt(kinds(), ownership?.node);
    if (ownership) arm(Math.min(next ?? Infinity, clock.now() + pollMs));
    else if (next !== undefined) arm(next);
  }

  /** Claims and starts every due job, batch by batch, then arms for the next. */
  async function drain(): Promise<void> {
    if (draining) { again = true; return; }
    draining = true;
    try {
      await started();
      do {
        again = false;
        for (;;) {
          if (closed) return;
          const now = clock.now();
          const jobs = await store.claimJobs({ kinds: kinds(), owner, now, leaseUntil: now + leaseMs, limit: batch, ...(ownership ? { fencedFor: ownership.node } : {}) });
          for (const job of jobs) if (!running.has(job.key)) void track(run(job));
          if (jobs.length < batch) break;
        }
      } while (again);
    } catch (err) {
      log.error({ err }, 'claiming due jobs failed; trying again later');
      arm(clock.now() + firstMs);
    } finally {
      draining = false;
    }
    await rearm();
  }

  async function run(job: Job): Promise<void> {
    const fence = fenceOf(job.homeId);
    // Claimed as the home was let go: left to the new owner (its fence lets go of this lease).
    if (fence && fence.token === 0) { log.info({ job: job.key, home: job.homeId }, 'job of a home this node no longer runs: left to its new owner'); return; }
    running.add(job.key);
    try {
      const handler = handlers.get(job.kind);
      const ctx: JobRun = { extendLease: (ms = leaseMs) => store.extendJobLease(job.key, owner, clock.now() + ms), ...(fence ? { fence } : {}) };
      try {
        if (!handler) throw new Error(`no handler for ${job.kind}`);
        await handler(job, ctx);
      } catch (err) {
        if (isFenced(err)) {
          // Another node took the home over meanwhile: the store refused this run's writes; the job is the new owner's.
          log.info({ job: job.key, home: job.homeId }, 'home taken over during the run: the job is left to its new owner');
          await store.failJob(job.key, owner, job.version, (err as Error).message, clock.now(), clock.now());
          return;
        }
        const delay = retryDelay(job.attempts, firstMs, maxMs);
        log.error({ err, job: job.key, kind: job.kind, attempts: job.attempts + 1, retryInMs: delay }, 'job failed; it runs again after a back-off');
        await store.failJob(job.key, owner, job.version, (err as Error).message ?? String(err), clock.now() + delay, clock.now());
        return;
      }
      await store.completeJob(job.key, owner, job.version, clock.now());
    } catch (err) {
      // The store failed while finishing: the lease runs out and the job runs again.
      log.error({ err, job: job.key }, 'finishing a job failed');
    } finally {
      running.delete(job.key);
      if (!closed) void track(rearm());
    }
  }

  return {
    register(kind, handler) {
      if (handlers.has(kind)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `job kind ${kind} already has a handler`);
      handlers.set(kind, handler);
      void track(rearm().catch((err: unknown) => log.error({ err }, 'arming the job timer failed')));
    },

    async schedule(job) {
      const saved = await store.scheduleJob(job, clock.now());
      if (handlers.has(job.kind)) arm(Math.max(job.dueAt, saved.leaseUntil ?? job.dueAt));
      return saved;
    },

    async ensure(job) {
      const saved = await store.ensureJob(job, clock.now());
      if (handlers.has(job.kind)) arm(Math.max(saved.dueAt, saved.leaseUntil ?? saved.dueAt));
      return saved;
    },

    cancel: (key, version) => store.cancelJob(key, version),
    get: (key) => store.getJob(key),
    list: (k) => store.listJobs(k),

    async runNow<T>(job: Omit<JobRequest, 'dueAt'>, work: (run: { fence?: HomeFence }) => Promise<T>): Promise<T> {
      const now = clock.now();
      const saved = await store.scheduleJob({ ...job, dueAt: now }, now, { owner, leaseUntil: now + leaseMs });
      if (saved.owner !== owner) throw new MimamoriError('MIMAMORI_ERR_CONFLICT', `job ${job.key} is running on ${saved.owner ?? 'another node'}`);
      running.add(job.key);
      try {
        let out: T;
        try {
          const fence = fenceOf(job.homeId);
          out = await track(work(fence ? { fence } : {}));
        } catch (err) {
          await store.failJob(job.key, owner, saved.version, (err as Error).message ?? String(err), clock.now() + retryDelay(0, firstMs, maxMs), clock.now());
          throw err;
        }
        await store.completeJob(job.key, owner, saved.version, clock.now());
        return out;
      } finally {
        running.delete(job.key);
        if (!closed) void track(rearm());
      }
    },

    fenceOf,

    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },

    async close() {
      closed = true;
      offGained?.();
      timer?.cancel();
      timer = undefined;
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
