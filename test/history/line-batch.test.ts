// LineBatch: points encoded once into one buffer — the bytes posted to InfluxDB and written to the disk buffer.
import t from 'tap';
import { LineBatch } from '../../history/line-batch.js';

const point = (i: number) => `finding,home=h${i % 3} message_ja="${'ご本人の動きがありません'.repeat(1 + (i % 4))}",n=${i} ${i}000000`;

t.test('lines go in as text and come out as the same UTF-8 bytes, growing past the first buffer', async (t) => {
  const batch = new LineBatch(300); // far too small: must grow, keeping what it holds
  const lines = Array.from({ length: 200 }, (_, i) => point(i));
  for (const l of lines) batch.add(l);
  t.equal(batch.count, 200);
  t.same(batch.lines(), lines, 'every line back, Japanese text intact');
  t.equal(batch.bytes().toString('utf8'), lines.join('\n') + '\n', 'stored form: every line ends in a newline');
  t.equal(batch.body().toString('utf8'), lines.join('\n'), 'request body: no trailing newline');
  t.equal(batch.byteLength, Buffer.byteLength(lines.join('\n') + '\n'));
  t.same(LineBatch.of(lines).bytes(), batch.bytes(), 'of() encodes the same bytes');
});

t.test('slices share the bytes, for halving a refused batch and resuming a segment', async (t) => {
  const lines = Array.from({ length: 7 }, (_, i) => point(i));
  const batch = LineBatch.of(lines);
  const left = batch.slice(0, 4);
  const right = batch.slice(4);
  t.same(left.lines(), lines.slice(0, 4));
  t.same(right.lines(), lines.slice(4));
  t.equal(right.body().toString('utf8'), lines.slice(4).join('\n'));
  t.same(right.slice(1, 2).lines(), [lines[5]], 'a slice of a slice');
  t.equal(batch.slice(7).count, 0, 'an empty tail');
  t.equal(batch.slice(7).body().length, 0, 'an empty tail posts nothing');
  t.equal(batch.slice(3, 99).count, 4, 'bounds are clamped');
  t.throws(() => left.add('x v=1 1'), /read-only/, 'a slice cannot be appended to: it would overwrite its neighbour');
  t.same(batch.lines(), lines, 'the batch sliced is unchanged');
});

t.test('parse reads back what was stored and sets a torn last line apart', async (t) => {
  const lines = [point(1), point(2), point(3)];
  const stored = Buffer.concat([LineBatch.of(lines).bytes(), Buffer.from('event,home=h id="tor')]);
  const { batch, torn } = LineBatch.parse(stored);
  t.same(batch.lines(), lines);
  t.equal(torn, Buffer.byteLength('event,home=h id="tor'));
  t.throws(() => batch.add('x v=1 1'), /read-only/);
  const empty = LineBatch.parse(Buffer.alloc(0));
  t.equal(empty.batch.count, 0);
  t.equal(empty.torn, 0);
});
