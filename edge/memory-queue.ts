/**
 * The in-memory edge queue: same contract as the disk queue, nothing
 * survives a restart. For tests and for agents that must not touch the disk.
 */
import type { DiskQueue } from './disk-queue.js';

/** Creates an empty in-memory queue. */
export function createMemoryQueue(): DiskQueue {
  let items: string[] = [];
  let closed = false;
  return {
    async push(item) {
      if (closed) throw new Error('queue is closed');
      if (typeof item !== 'string') throw new TypeError('queue items are strings');
      items.push(item);
    },
    peek: (n) => items.slice(0, Math.max(0, n)),
    ack(count) {
      if (!Number.isInteger(count) || count < 0) return Promise.reject(new RangeError('ack count must be a non-negative integer'));
      if (count > items.length) return Promise.reject(new RangeError(`cannot ack ${count} of ${items.length} items`));
      items = items.slice(count);
      return Promise.resolve();
    },
    size: () => items.length,
    async close() { closed = true; },
  };
}
