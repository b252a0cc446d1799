/**
 * The hub's cluster parts (docs/scale.md), built when the configuration
 * names a Redis (`MIMAMORI_REDIS_URL`, `mimamori start --cluster`): the
 * shared login throttle, live feed and video exchange, the broker's shared
 * emitter and persistence, and home ownership — this node runs a home's
 * rules only while it holds the home's lease.
 *
 * Ownership and the rule engine: on gaining a lease the home is `loading`
 * (its readings wait in the inbox, broker/ingest-inbox.ts) until the engine
 * has loaded its saved state; then `owned` (running), and the inbox is read —
 * the home's deadlines are armed only after that read, so a deadline that fell
 * while no node ran the home is judged with the readings that waited.
 * On losing it the home stops at once — its readings wait in the inbox for
 * the new owner — and the engine saves and drops it, then the fence is let
 * go: saves are fenced, so a node that was fenced out meanwhile (it stalled)
 * never overwrites what the new owner loaded. A lease gained again
 * meanwhile loads only after that save.
 *
 * Ownership and jobs: on gaining a lease the node first writes the home's
 * fence (its lease token, `JobStore.fenceHome`) — refused if a newer owner
 * already wrote a higher one — and only then counts the home as its own for
 * jobs (`ownership`): the schedulers claim its due jobs at once, and every
 * run carries the token. On losing it the home stops counting at once and
 * the fence is let go.
 */
import { hostname } from 'node:os';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { MimamoriError } from '../core/errors.js';
import type { WallClock } from '../core/clock.js';
import type { JobStore } from '../core/store.js';
import type { HomeOwnership } from '../jobs/index.js';
import { signInThrottleSettings } from '../dashboards/index.js';
import { defaultBudget } from '../notifier/index.js';
import {
  createBrokerCluster, createHomeLeases, createRedisLiveFeed, createRedisRateLimiter, createRedisLoginThrottle, createRedisInboxBell, createRedisVideoExchange,
  type BrokerCluster, type HomeLeases, type LostReason, type RedisLiveFeed, type RedisRateLimiter, type RedisLoginThrottle, type RedisInboxBell, type RedisVideoExchange,
} from '../cluster/index.js';

/** What the hub's rule engine offers a node taking homes on and letting them go. */
export interface HomeRules {
  /** With `held`, the home's deadlines wait for `resumeHome` (readings apply meanwhile). */
  loadHome(home: string, opts?: { held?: boolean }): Promise<void>;
  resumeHome(home: string): void;
  releaseHome(home: string): Promise<boolean>;
}

export interface ClusterPartsOptions {
  config: Pick<Config, 'cluster' | 'broker'> & { cluster: { redisUrl: string } };
  logger: Logger;
  /** Login throttles count in wall-clock time. */
  wallClock: WallClock;
  /**
   * Longest a home taken on waits, in wall-clock time, for the read of what
   * waited in the inbox before its deadlines are armed anyway (default 30 s):
   * a database that hangs must not leave a home unwatched.
   */
  inboxHoldMaxMs?: number;
}

export interface HubCluster {
  nodeId: string;
  /** The MQTT CONNECT throttle, shared by every node's broker. */
  brokerThrottle: RedisLoginThrottle;
  /** The web sign-in throttle, shared by every node's web app. */
  webThrottle: RedisLoginThrottle;
  live: RedisLiveFeed;
  /** The per-person message budget, shared by every node's notifier. */
  budget: RedisRateLimiter;
  video: RedisVideoExchange;
  /** Rung when readings wait in the inbox for their homes' owners (broker/ingest-inbox.ts). */
  bell: RedisInboxBell;
  broker: BrokerCluster;
  /** Whether this node holds a home's lease now (loading or running). */
  owns(home: string): boolean;
  /** Whether a home's rules run here now (loaded): its readings are read from the inbox and run here. */
  running(home: string): boolean;
  /**
   * Called each time a home starts running here (its readings waiting in the
   * inbox can be read now). The home's deadlines are armed once every
   * listener's promise has settled: the inbox reader's read of what waited.
   */
  onRunning(fn: (home: string) => void | Promise<void>): () => void;
  /** The homes this node runs, for the job schedulers: a home counts once its fence is written. */
  ownership: HomeOwnership;
  /** The owner id of this process's job schedulers: `<node>/<pid>` (the wall-clock one adds `:wall`). */
  jobOwner: string;
  /** Starts taking homes: `homes` lists them, `rules` takes each on and lets it go, `fences` records each lease token. */
  startLeases(homes: () => Promise<Iterable<string>>, rules: HomeRules, fences: Pick<JobStore, 'fenceHome' | 'unfenceHome'>): Promise<HomeLeases>;
  /** Homes whose rules run here, sorted (the status endpoint). */
  runningHomes(): string[];
  /** Settles: every take-on and let-go started so far is done. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** This node's id: the configured one, else `<host>-<pid>`. */
export function clusterNodeId(config: Pick<Config, 'cluster'>): string {
  return config.cluster.nodeId ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40)}-${process.pid}`;
}

/** A service name (lower case, 1–63) per node: two nodes never overwrite each other's MQTT secret. */
export function nodeServiceName(service: string, nodeId: string): string {
  return `${service}-${nodeId.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}`.slice(0, 63);
}

/** Connects every shared part; on a failure part-way, closes what was opened. */
export async function createClusterParts(opts: ClusterPartsOptions): Promise<HubCluster> {
  const { config, logger } = opts;
  const redisUrl = config.cluster.redisUrl;
  const nodeId = clusterNodeId(config);
  const log = logger.child({ part: 'cluster', node: nodeId });
  const inboxHoldMaxMs = opts.inboxHoldMaxMs ?? 30_000;
  if (!(inboxHoldMaxMs > 0)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'cluster: inboxHoldMaxMs must be a positive number');
  const closers: Array<() => Promise<unknown>> = [];
  const closeAll = async () => { for (const c of closers.splice(0).reverse()) await c().catch((err: unknown) => log.warn({ err }, 'cluster part did not close cleanly')); };
  try {
    const brokerThrottle = await createRedisLoginThrottle({ ...config.broker.lockout, clock: opts.wallClock, redisUrl, name: 'mqtt', logger: log });
    closers.push(() => brokerThrottle.close());
    const webThrottle = await createRedisLoginThrottle({ ...signInThrottleSettings, clock: opts.wallClock, redisUrl, name: 'web', logger: log });
    closers.push(() => webThrottle.close());
    const live = await createRedisLiveFeed({ redisUrl, nodeId, logger: log });
    closers.push(() => live.close());
    const video = await createRedisVideoExchange({ redisUrl, nodeId, logger: log });
    closers.push(() => video.close());
    const bell = await createRedisInboxBell({ redisUrl, nodeId, logger: log });
    closers.push(() => bell.close());
    const budget = await createRedisRateLimiter({ redisUrl, name: 'people', ...defaultBudget, logger: log });
    closers.push(() => budget.close());
    const broker = await createBrokerCluster({ redisUrl, nodeId, logger: log });
    // Closed by the hub after the broker (aedes closes the emitter itself).

    const state = new Map<string, { phase: 'loading' | 'owned' }>();
    const runningListeners = new Set<(home: string) => void | Promise<void>>();
    /** Per home, the last take-on or let-go: the next waits for it. */
    const chains = new Map<string, Promise<void>>();
    let leases: HomeLeases | undefined;
    /** Homes whose fence this node wrote, with their token (the schedulers' `ownership`). */
    const tokens = new Map<string, number>();
    const gainedListeners = new Set<(home: string) => void>();
    const ownership: HomeOwnership = {
      node: nodeId,
      tokenOf: (home) => tokens.get(home),
      onGained(fn) { gainedListeners.add(fn); return () => { gainedListeners.delete(fn); }; },
    };
    const then = (home: string, step: () => Promise<void>) => {
      const next = (chains.get(home) ?? Promise.resolve()).then(step).catch((err: unknown) => log.error({ err, home }, 'home take-on or let-go failed'));
      chains.set(home, next);
      void next.then(() => { if (chains.get(home) === next) chains.delete(home); });
    };

    return {
      nodeId, brokerThrottle, webThrottle, live, budget, video, bell, broker, ownership, jobOwner: `${nodeId}/${process.pid}`,
      owns: (home) => state.has(home),
      running: (home) => state.get(home)?.phase === 'owned',
      onRunning(fn) { runningListeners.add(fn); return () => { runningListeners.delete(fn); }; },
      async startLeases(homes, rules, fences) {
        leases = await createHomeLeases({
          redisUrl, nodeId, homes, logger: log, leaseMs: config.cluster.leaseMs, heartbeatMs: config.cluster.heartbeatMs,
          onAcquired(home, token) {
            const s = { phase: 'loading' as const };
            state.set(home, s);
            log.info({ home, token }, 'home acquired; loading its rules');
            then(home, async () => {
              // The fence first: from now on a former owner's claims and sends for the home are refused.
              if (state.get(home) !== s) return; // lost again meanwhile
              if (await fences.fenceHome({ home, owner: nodeId, token }, opts.wallClock.now())) {
                if (state.get(home) === s) {
                  tokens.set(home, token);
                  for (const fn of [...gainedListeners]) fn(home);
                }
              } else {
                log.warn({ home, token }, 'home fence refused: a newer owner holds a higher token; its jobs stay with that owner');
              }
              // Its deadlines wait for the readings that waited in the inbox while no node ran it: a
              // deadline that fell meanwhile is judged with them ("no sign of life" though she was up).
              await rules.loadHome(home, { held: true });
              const now = state.get(home);
              if (now !== s) return; // lost again meanwhile
              const owned = { phase: 'owned' as const };
              state.set(home, owned);
              log.info({ home }, 'home running here');
              // Bounded: a read that hangs (no error, no answer) must not hold the home's deadlines for ever.
              let timer: ReturnType<typeof setTimeout> | undefined;
              const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), inboxHoldMaxMs); timer.unref?.(); });
              const read = await Promise.race([Promise.allSettled([...runningListeners].map(async (fn) => fn(home))).then(() => 'read' as const), late]);
              clearTimeout(timer);
              if (read === 'late') log.warn({ home, waitedMs: inboxHoldMaxMs }, 'the inbox was not read in time after taking the home on; its deadlines run now without the readings that waited');
              if (state.get(home) === owned) rules.resumeHome(home);
            });
          },
          onLost(home, reason: LostReason) {
            state.delete(home);
            const token = tokens.get(home);
            tokens.delete(home);
            log.info({ home, reason }, 'home lost; saving and dropping its rules');
            then(home, async () => {
              // The last save first, while the fence still names this node (saves are fenced); then the fence goes.
              await rules.releaseHome(home);
              if (token !== undefined) await fences.unfenceHome({ home, owner: nodeId, token }, opts.wallClock.now()).catch((err: unknown) => log.warn({ err, home }, 'home fence not let go (the next owner\'s takes over anyway)'));
            });
          },
        });
        closers.push(() => leases!.close());
        return leases;
      },
      runningHomes: () => [...state].filter(([, s]) => s.phase === 'owned').map(([h]) => h).sort(),
      async idle() {
        while (chains.size > 0) await Promise.all([...chains.values()]);
      },
      async close() {
        await closeAll();
        while (chains.size > 0) await Promise.all([...chains.values()]);
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
