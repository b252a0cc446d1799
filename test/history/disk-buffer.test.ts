import t from 'tap';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger.js';
import { openDiskBuffer } from '../../history/disk-buffer.js';
import { captureLogger, tempDir } from './fixtures/helpers.js';

const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => `event,home=h,device=d id="e${from + i}" ${from + i}000000`);

t.test('batches come back oldest first and survive a reopen', async (t) => {
  const dir = tempDir(t);
  const first = await openDiskBuffer({ dir, maxBytes: 1024 * 1024, logger: silentLogger(), segmentBytes: 200 });
  await first.append(batch(0, 3));
  await first.append(batch(3, 3));
  await first.append(batch(6, 2));
  t.equal(first.stats().points, 8);
  t.ok(first.stats().segments >= 2, 'rotated into several segments');
  await first.close();

  const second = await openDiskBuffer({ dir, maxBytes: 1024 * 1024, logger: silentLogger(), segmentBytes: 200 });
  t.equal(second.stats().points, 8, 'points found after reopen');
  const seen: string[] = [];
  for (let s = await second.takeOldest(); s; s = await second.takeOldest()) {
    seen.push(...s.batch.lines());
    await second.remove(s.id);
  }
  t.same(seen, batch(0, 8), 'every line, in order');
  t.same(second.stats(), { bytes: 0, points: 0, segments: 0, dropped: 0 });
  t.same(readdirSync(dir), [], 'files deleted once drained');
  await second.close();
});

t.test('appends after a take go to a new segment; a released segment resumes after what was delivered', async (t) => {
  const dir = tempDir(t);
  const buffer = await openDiskBuffer({ dir, maxBytes: 1024 * 1024, logger: silentLogger() });
  await buffer.append(batch(0, 4));
  const s1 = await buffer.takeOldest();
  t.same(s1?.batch.lines(), batch(0, 4));
  t.equal(await buffer.takeOldest(), undefined, 'a lent segment is not handed out twice');
  await buffer.append(batch(4, 2));
  buffer.release(s1!.id, 3);
  t.equal(buffer.stats().points, 3, 'three delivered lines no longer count');
  const again = await buffer.takeOldest();
  t.same(again?.batch.lines(), batch(3, 1), 'resumes after the delivered lines');
  await buffer.remove(again!.id);
  const s2 = await buffer.takeOldest();
  t.same(s2?.batch.lines(), batch(4, 2));
  await buffer.close();
});

t.test('a torn last line (crash mid-write) is dropped, the rest kept', async (t) => {
  const dir = tempDir(t);
  const buffer = await openDiskBuffer({ dir, maxBytes: 1024 * 1024, logger: silentLogger() });
  await buffer.append(batch(0, 2));
  await buffer.close();
  const [file] = readdirSync(dir);
  appendFileSync(join(dir, file!), 'event,home=h,device=d id="e2');
  const { logger, lines } = captureLogger();
  const reopened = await openDiskBuffer({ dir, maxBytes: 1024 * 1024, logger });
  t.equal(reopened.stats().points, 2);
  const s = await reopened.takeOldest();
  t.same(s?.batch.lines(), batch(0, 2));
  t.ok(lines.some((l) => /torn/.test(String(l.msg))), 'torn line logged');
  await reopened.close();
});

t.test('beyond maxBytes the oldest points are dropped, counted and logged', async (t) => {
  const dir = tempDir(t);
  const { logger, lines } = captureLogger();
  const lineBytes = batch(0, 1)[0]!.length + 1;
  const buffer = await openDiskBuffer({ dir, maxBytes: lineBytes * 10, logger, segmentBytes: lineBytes * 2 });
  for (let i = 0; i < 30; i += 2) await buffer.append(batch(i, 2));
  const s = buffer.stats();
  t.ok(s.bytes <= lineBytes * 10, `bytes ${s.bytes} within the bound`);
  t.equal(s.dropped + s.points, 30, 'every point either kept or counted as dropped');
  t.ok(s.dropped > 0);
  const kept: string[] = [];
  for (let seg = await buffer.takeOldest(); seg; seg = await buffer.takeOldest()) {
    kept.push(...seg.batch.lines());
    await buffer.remove(seg.id);
  }
  t.same(kept, batch(30 - kept.length, kept.length), 'the newest points are the ones kept');
  t.ok(lines.some((l) => l.level === 50 && /buffer full/.test(String(l.msg))), 'logged as an error');
  await buffer.close();
});

t.test('append after close is refused', async (t) => {
  const buffer = await openDiskBuffer({ dir: tempDir(t), maxBytes: 1000, logger: silentLogger() });
  await buffer.close();
  await t.rejects(buffer.append(['x']), /closed/);
});
