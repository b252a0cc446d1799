/**
 * The edge queue contract, run against every implementation (disk and
 * memory): FIFO order, peek without removal, ack from the head, bounds.
 */
import type { Test } from 'tap';
import type { DiskQueue } from '../../edge/disk-queue.js';

export interface QueueFixture {
  queue: DiskQueue;
  /** Closes and reopens the same queue, for implementations that persist (undefined otherwise). */
  reopen?: () => Promise<DiskQueue>;
}

export function queueContract(t: Test, name: string, make: (t: Test) => Promise<QueueFixture>): void {
  t.test(`${name}: keeps items in order and peeks without removing`, async (t) => {
    const { queue } = await make(t);
    t.equal(queue.size(), 0);
    t.same(queue.peek(5), []);
    for (const item of ['a', 'b', 'c']) await queue.push(item);
    t.equal(queue.size(), 3);
    t.same(queue.peek(2), ['a', 'b']);
    t.same(queue.peek(10), ['a', 'b', 'c']);
    t.same(queue.peek(0), []);
    t.equal(queue.size(), 3, 'peek removes nothing');
    await queue.close();
  });

  t.test(`${name}: ack removes from the head`, async (t) => {
    const { queue } = await make(t);
    for (let i = 0; i < 5; i++) await queue.push(`item-${i}`);
    await queue.ack(2);
    t.equal(queue.size(), 3);
    t.same(queue.peek(10), ['item-2', 'item-3', 'item-4']);
    await queue.ack(0);
    t.equal(queue.size(), 3, 'ack(0) is a no-op');
    await queue.ack(3);
    t.equal(queue.size(), 0);
    await queue.push('later');
    t.same(queue.peek(1), ['later']);
    await queue.close();
  });

  t.test(`${name}: ack reflects at once, before its promise settles`, async (t) => {
    const { queue } = await make(t);
    await queue.push('x');
    await queue.push('y');
    const p = queue.ack(1);
    t.same(queue.peek(5), ['y']);
    await p;
    await queue.close();
  });

  t.test(`${name}: refuses to ack more than it holds`, async (t) => {
    const { queue } = await make(t);
    await queue.push('only');
    await t.rejects(queue.ack(2), RangeError);
    await t.rejects(queue.ack(-1), RangeError);
    t.equal(queue.size(), 1, 'nothing removed by a refused ack');
    await queue.close();
  });

  t.test(`${name}: items with newlines, quotes and non-ASCII survive`, async (t) => {
    const { queue } = await make(t);
    const odd = ['line\nbreak', '"quoted"', '見守り 🍵', '', '{"kind":"kettle"}'];
    await Promise.all(odd.map((i) => queue.push(i)));
    t.same(queue.peek(10), odd, 'concurrent pushes keep call order');
    await queue.close();
  });

  t.test(`${name}: refuses pushes after close`, async (t) => {
    const { queue } = await make(t);
    await queue.close();
    await t.rejects(queue.push('late'));
  });

  t.test(`${name}: what was pushed and not acked is there after reopening`, async (t) => {
    const fixture = await make(t);
    if (!fixture.reopen) {
      t.pass('this implementation does not persist');
      await fixture.queue.close();
      return;
    }
    for (let i = 0; i < 10; i++) await fixture.queue.push(`e${i}`);
    await fixture.queue.ack(4);
    const again = await fixture.reopen();
    t.equal(again.size(), 6);
    t.same(again.peek(100), ['e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
    await again.close();
  });
}
