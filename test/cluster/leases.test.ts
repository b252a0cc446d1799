import t from 'tap';
import { createHomeLeases, rendezvousOwner, type HomeLeases, type HomeLeasesOptions, type LostReason } from '../../cluster/index.js';
import { cuttableLink, startRedis } from '../support/redis.js';
import { hangGuardMs } from '../support/wait.js';

// Small periods so the test runs in seconds; the defaults are 5 s / 15 s.
// Real Redis expiry is wall-clock time: leases long enough that a busy CI
// machine stalling a node for a few seconds does not cost it its homes.
const timing = { heartbeatMs: 500, leaseMs: 5000 };

/**
 * Every node's acquired/lost in the order they happened (all nodes share this
 * process's event loop, so that order is the real one), checked as it goes:
 * a home is acquired only when nobody owns it, only by a higher fencing
 * token, and lost only by its owner.
 */
function ownershipLog() {
  const owner = new Map<string, { node: string; token: number }>();
  const lastToken = new Map<string, number>();
  const violations: string[] = [];
  const events: { node: string; home: string; event: 'acquired' | 'lost'; token?: number; reason?: LostReason }[] = [];
  const waiters = new Set<() => void>();
  const changed = () => { for (const w of [...waiters]) w(); };
  return {
    owner, violations, events,
    callbacks(node: string): Pick<HomeLeasesOptions, 'onAcquired' | 'onLost'> {
      return {
        onAcquired(home, token) {
          const current = owner.get(home);
          if (current) violations.push(`${home} acquired by ${node} (token ${token}) while ${current.node} owns it (token ${current.token})`);
          if (token <= (lastToken.get(home) ?? 0)) violations.push(`${home}: token ${token} after ${lastToken.get(home)}`);
          owner.set(home, { node, token });
          lastToken.set(home, token);
          events.push({ node, home, event: 'acquired', token });
          changed();
        },
        onLost(home, reason) {
          if (owner.get(home)?.node !== node) violations.push(`${home} lost by ${node}, which did not own it`);
          owner.delete(home);
          events.push({ node, home, event: 'lost', reason });
          changed();
        },
      };
    },
    /** Resolves once `cond` holds, checked after every event; rejects after `ms`. */
    when(cond: () => boolean, what: string, ms = hangGuardMs): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => { if (cond()) { clearTimeout(timer); waiters.delete(check); resolve(); } };
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out waiting for ${what}`)); }, ms);
        waiters.add(check);
        check();
      });
    },
    count(node: string, event: 'acquired' | 'lost', reason?: LostReason) {
      return events.filter((e) => e.node === node && e.event === event && (reason === undefined || e.reason === reason)).length;
    },
  };
}

const expectedOwners = (homes: readonly string[], members: readonly string[]) => new Map(homes.map((h) => [h, rendezvousOwner(h, members)!]));
const ownersAre = (log: ReturnType<typeof ownershipLog>, want: Map<string, string>) =>
  log.owner.size === want.size && [...want].every(([home, node]) => log.owner.get(home)?.node === node);

t.test('30 homes over 1, 2, then 3 nodes: one owner each, moves on join, on a dead node and on a clean leave', async (t) => {
  const redis = await startRedis(t);
  const linkC = await cuttableLink(t, redis);
  const homes = Array.from({ length: 30 }, (_, i) => `home-${String(i + 1).padStart(2, '0')}`);
  const log = ownershipLog();
  const nodes: HomeLeases[] = [];
  t.teardown(async () => { for (const n of nodes) await n.close(); });
  const join = async (nodeId: string, redisUrl = redis.url) => {
    const node = await createHomeLeases({ redisUrl, nodeId, homes: () => homes, ...timing, ...log.callbacks(nodeId) });
    nodes.push(node);
    return node;
  };
  /** Each home's expected fencing token: one more for every new owner. */
  const tokens = new Map<string, number>();
  let want = new Map<string, string>();
  /** Moves the expectation to `members`; returns the homes whose owner changes. */
  const expect = (members: string[]) => {
    const next = expectedOwners(homes, members);
    const moved = homes.filter((h) => next.get(h) !== want.get(h));
    for (const h of moved) tokens.set(h, (tokens.get(h) ?? 0) + 1);
    want = next;
    return moved;
  };
  const checkLeases = async (reader: HomeLeases, what: string) => {
    const wrong: string[] = [];
    for (const home of homes) {
      const holder = await reader.holder(home);
      if (holder?.nodeId !== want.get(home) || holder?.token !== tokens.get(home)) wrong.push(`${home}: ${JSON.stringify(holder)}`);
    }
    t.same(wrong, [], `${what}: every lease in Redis names the expected owner and token`);
  };

  // One node: it owns every home.
  const a = await join('node-a');
  t.equal(a.moveWithinMs, timing.leaseMs + timing.heartbeatMs, 'a dead node\'s homes move within lease + heartbeat');
  expect(['node-a']);
  t.equal(a.owned().size, 30, 'a lone node owns all 30 homes after its first round');
  t.equal(log.count('node-a', 'acquired'), 30);

  // A second node joins: exactly the homes it wins move to it, each once.
  const b = await join('node-b');
  const toB = expect(['node-a', 'node-b']);
  t.ok(toB.length > 0 && toB.length < 30, `node-b wins some homes (${toB.length})`);
  await log.when(() => ownersAre(log, want), 'homes rebalanced onto node-b');
  t.equal(log.count('node-b', 'acquired'), toB.length, 'node-b acquired exactly the homes it wins');
  t.equal(log.count('node-a', 'lost', 'rebalanced'), toB.length, 'node-a handed each over once');
  t.same([...b.owned().keys()].sort(), toB, 'node-b owns exactly those homes');
  t.equal(a.owned().size, 30 - toB.length, 'node-a keeps the rest');
  await checkLeases(a, 'two nodes');

  // A home added later is picked up by its rightful owner.
  homes.push('home-31');
  expect(['node-a', 'node-b']);
  await log.when(() => ownersAre(log, want), 'home-31 owned');
  t.equal(log.owner.get('home-31')?.token, 1);

  // A third node joins.
  const c = await join('node-c', linkC.url);
  const toC = expect(['node-a', 'node-b', 'node-c']);
  t.ok(toC.length > 0 && toC.length < 31, `node-c wins some homes (${toC.length})`);
  await log.when(() => ownersAre(log, want), 'homes rebalanced onto node-c');
  t.equal(log.count('node-c', 'acquired'), toC.length, 'node-c acquired exactly the homes it wins');
  t.equal(log.count('node-a', 'lost', 'rebalanced') + log.count('node-b', 'lost', 'rebalanced'), toB.length + toC.length, 'each moved home was handed over once');
  t.same([...c.owned().keys()].sort(), toC, 'node-c owns exactly those homes');
  t.same(a.members(), ['node-a', 'node-b', 'node-c']);
  await checkLeases(a, 'three nodes');

  // node-c is cut off without a word (a crash or a pulled cable): it gives its homes up by
  // itself before its leases run out in Redis, and node-a / node-b take them after.
  const acquiredBefore = log.count('node-a', 'acquired') + log.count('node-b', 'acquired');
  const cutAt = Date.now();
  await linkC.cut();
  const back = expect(['node-a', 'node-b']);
  t.same(back, toC, 'exactly node-c\'s homes are to move');
  await log.when(() => ownersAre(log, want), 'node-c\'s homes moved back');
  const tookMs = Date.now() - cutAt;
  t.ok(tookMs <= a.moveWithinMs + 3000, `moved in ${tookMs} ms (bound ${a.moveWithinMs} ms plus scheduling slack)`);
  t.equal(log.count('node-c', 'lost', 'expired'), toC.length, 'node-c stopped every home it owned when it could not renew');
  t.equal(c.owned().size, 0);
  t.equal(log.count('node-a', 'acquired') + log.count('node-b', 'acquired') - acquiredBefore, toC.length, 'each of node-c\'s homes acquired once more, nothing else');
  await checkLeases(a, 'after node-c died');

  // node-a leaves cleanly: its homes go to node-b without waiting for expiry.
  const heldByA = a.owned().size;
  await a.close();
  const fromA = expect(['node-b']);
  t.equal(fromA.length, heldByA);
  t.equal(log.count('node-a', 'lost', 'closed'), heldByA, 'node-a reported each of its homes lost on close');
  await log.when(() => ownersAre(log, want), 'node-b owns all 31 homes');
  t.equal(b.owned().size, 31);
  await checkLeases(b, 'one node left');
  t.same(log.violations, [], 'no home ever had two owners, and every new owner had a higher token');
});

t.test('bad cluster settings are refused with the reason, before connecting', async (t) => {
  const base = { redisUrl: 'redis://127.0.0.1:1', homes: () => [], onAcquired: () => {}, onLost: () => {} };
  await t.rejects(createHomeLeases({ ...base, nodeId: 'a:b' }), { code: 'MIMAMORI_ERR_CONFIG', message: /node id "a:b"/ });
  await t.rejects(createHomeLeases({ ...base, nodeId: 'a', heartbeatMs: 1000, leaseMs: 1500 }), { code: 'MIMAMORI_ERR_CONFIG', message: /at least twice heartbeatMs/ });
  await t.rejects(createHomeLeases({ ...base, nodeId: 'a', redisUrl: 'http://x' }), { code: 'MIMAMORI_ERR_CONFIG', message: /redis:\/\// });
  await t.rejects(createHomeLeases({ ...base, nodeId: 'a' }), { code: 'MIMAMORI_ERR_UNAVAILABLE', message: /cannot reach Redis/ });
});

t.test('the defaults move a dead node\'s homes within 30 s', async (t) => {
  const redis = await startRedis(t);
  const node = await createHomeLeases({ redisUrl: redis.url, nodeId: 'solo', homes: () => ['h1'], onAcquired: () => {}, onLost: () => {} });
  t.teardown(() => node.close());
  t.equal(node.moveWithinMs, 20_000);
  t.ok(node.moveWithinMs <= 30_000);
  t.same([...node.owned()], [['h1', 1]], 'a lone node owns every home after its first round');
});
