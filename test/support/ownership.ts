/**
 * A node's home ownership as the hub keeps it (hub/cluster.ts), without the
 * Redis leases: a home counts once its fence is written in the store, and
 * `gain` tells the listeners (the job schedulers, the escalation engine).
 */
import type { JobStore } from '../../core/store.js';

export function ownershipOf(store: Pick<JobStore, 'fenceHome' | 'unfenceHome'>, node: string) {
  const tokens = new Map<string, number>();
  const listeners = new Set<(home: string) => void>();
  return {
    node,
    tokenOf: (home: string) => tokens.get(home),
    onGained(fn: (home: string) => void) { listeners.add(fn); return () => { listeners.delete(fn); }; },
    async gain(home: string, token: number, at: number) {
      if (!(await store.fenceHome({ home, owner: node, token }, at))) return false;
      tokens.set(home, token);
      for (const fn of listeners) fn(home);
      return true;
    },
    async lose(home: string, at: number) {
      const token = tokens.get(home);
      tokens.delete(home);
      if (token !== undefined) await store.unfenceHome({ home, owner: node, token }, at);
    },
  };
}
