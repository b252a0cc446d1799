import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { tempDir } from '../support/wait.js';
import { join } from 'node:path';
import t from 'tap';
import { openDiskQueue } from '../../edge/disk-queue.js';
import { createMemoryQueue } from '../../edge/memory-queue.js';
import { queueContract } from './fixtures/queue-contract.js';


queueContract(t, 'memory queue', async () => ({ queue: createMemoryQueue() }));

queueContract(t, 'disk queue', async (t) => {
  const dir = tempDir(t, 'mimamori-queue-');
  const queue = await openDiskQueue(dir);
  return { queue, reopen: async () => { await queue.close(); return openDiskQueue(dir); } };
});

queueContract(t, 'disk queue with tiny segments', async (t) => {
  const dir = tempDir(t, 'mimamori-queue-');
  const queue = await openDiskQueue(dir, { segmentBytes: 16 });
  return { queue, reopen: async () => { await queue.close(); return openDiskQueue(dir, { segmentBytes: 16 }); } };
});

t.test('a torn last line (crash mid-append) is ignored, and appends after it are clean', async (t) => {
  const dir = tempDir(t, 'mimamori-queue-');
  const q = await openDiskQueue(dir);
  await q.push('first');
  await q.push('second');
  await q.close();
  const seg = (await readdir(dir)).find((f) => f.endsWith('.seg')) as string;
  await appendFile(join(dir, seg), '"third, torn in the mid');

  const q2 = await openDiskQueue(dir);
  t.same(q2.peek(10), ['first', 'second'], 'the torn line is not an item');
  await q2.push('fourth');
  await q2.close();
  const q3 = await openDiskQueue(dir);
  t.same(q3.peek(10), ['first', 'second', 'fourth'], 'the next append did not glue onto the torn line');
  await q3.close();
});

t.test('a corrupt complete line is skipped, not fatal', async (t) => {
  const dir = tempDir(t, 'mimamori-queue-');
  const q = await openDiskQueue(dir);
  await q.push('ok-1');
  await q.close();
  const seg = (await readdir(dir)).find((f) => f.endsWith('.seg')) as string;
  await appendFile(join(dir, seg), 'not json\n42\n');
  const q2 = await openDiskQueue(dir);
  await q2.push('ok-2');
  t.same(q2.peek(10), ['ok-1', 'ok-2']);
  await q2.close();
});

t.test('a missing or garbled head file means "start from the oldest segment"', async (t) => {
  const dir = tempDir(t, 'mimamori-queue-');
  const q = await openDiskQueue(dir);
  await q.push('a');
  await q.push('b');
  await q.close();
  await writeFile(join(dir, 'head'), '{garbage');
  const q2 = await openDiskQueue(dir);
  t.same(q2.peek(10), ['a', 'b'], 'nothing is lost; at worst re-sent');
  await q2.close();
});

t.test('acking does not rewrite the backlog: only the head moves, spent segments go', async (t) => {
  const dir = tempDir(t, 'mimamori-queue-');
  const q = await openDiskQueue(dir, { segmentBytes: 64 });
  for (let i = 0; i < 40; i++) await q.push(`event-number-${i}`);
  const before = (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();
  t.ok(before.length > 3, `several segments (${before.length})`);
  const lastSeg = before[before.length - 1] as string;
  const lastBytes = await readFile(join(dir, lastSeg));
  await q.ack(30);
  const after = (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();
  t.ok(after.length < before.length, 'fully acknowledged segments are deleted');
  t.same(await readFile(join(dir, lastSeg)), lastBytes, 'the tail segment was not rewritten');
  const head = JSON.parse(await readFile(join(dir, 'head'), 'utf8')) as { segment: number; offset: number };
  t.ok(head.segment >= 1 && head.offset > 0, 'head records segment and byte offset');
  await q.close();
  const q2 = await openDiskQueue(dir, { segmentBytes: 64 });
  t.equal(q2.size(), 10);
  t.equal(q2.peek(1)[0], 'event-number-30');
  await q2.close();
});

t.test('many concurrent pushes are all durable and in order (group commit)', async (t) => {
  const dir = tempDir(t, 'mimamori-queue-');
  const q = await openDiskQueue(dir);
  const items = Array.from({ length: 500 }, (_, i) => `i${i}`);
  await Promise.all(items.map((i) => q.push(i)));
  await q.close();
  const q2 = await openDiskQueue(dir);
  t.same(q2.peek(1000), items);
  await q2.close();
});
