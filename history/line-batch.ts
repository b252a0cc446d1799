/**
 * A batch of InfluxDB line-protocol points encoded once, as UTF-8 bytes in
 * one buffer, one point per line. The history writer appends each point's
 * text as it is queued and posts the bytes as they are; the disk buffer
 * writes the same bytes and reads them back as a batch. Nothing is encoded
 * twice, and a queued point is no longer a live JavaScript string: 5,000
 * strings built by concatenation stay in the heap as trees of pieces until
 * they are joined, and the garbage collector copied them again and again
 * (69% of the time spent encoding, measured on the history bench).
 *
 * Lines are kept with their "\n"; a point's text must not contain one (the
 * encoders in influx-schema.ts replace newlines, as line protocol has no
 * escape for them).
 */
const newline = 0x0a;
/** UTF-8 needs at most 3 bytes per UTF-16 code unit. */
const maxBytesPerUnit = 3;

export class LineBatch {
  private buf: Buffer;
  private size: number;
  /** ends[i] is the offset just past line i's "\n". */
  private readonly ends: number[];
  private readonly start: number;
  /** A view shares another batch's or a file's bytes: it is never appended to. */
  private readonly frozen: boolean;

  /** An empty batch with room for about `capacity` bytes before it grows (or a view, for `parse` and `slice`). */
  constructor(capacity = 64 * 1024, view?: { buf: Buffer; start: number; size: number; ends: number[] }) {
    this.buf = view?.buf ?? Buffer.allocUnsafe(Math.max(256, capacity));
    this.start = view?.start ?? 0;
    this.size = view?.size ?? 0;
    this.ends = view?.ends ?? [];
    this.frozen = view !== undefined;
  }

  /** A batch of `lines` (each without "\n"). */
  static of(lines: readonly string[]): LineBatch {
    let total = 0;
    for (const l of lines) total += l.length * maxBytesPerUnit + 1;
    const batch = new LineBatch(total);
    for (const l of lines) batch.add(l);
    return batch;
  }

  /**
   * The complete lines of `bytes` (as written by `bytes()`, or read from a
   * file). What follows the last "\n" is a torn line: its length is returned apart.
   */
  static parse(bytes: Buffer): { batch: LineBatch; torn: number } {
    const ends: number[] = [];
    for (let i = bytes.indexOf(newline); i >= 0; i = bytes.indexOf(newline, i + 1)) ends.push(i + 1);
    const size = ends.at(-1) ?? 0;
    return { batch: new LineBatch(0, { buf: bytes, start: 0, size, ends }), torn: bytes.length - size };
  }

  /** Points in the batch. */
  get count(): number {
    return this.ends.length;
  }

  /** Bytes of all lines with their newlines. */
  get byteLength(): number {
    return this.size - this.start;
  }

  /** Appends one point's text (without "\n"). */
  add(line: string): void {
    if (this.frozen) throw new Error('a batch parsed or sliced from another is read-only');
    const need = this.size + line.length * maxBytesPerUnit + 1;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.size);
      this.buf = grown;
    }
    this.size += this.buf.write(line, this.size, 'utf8');
    this.buf[this.size++] = newline;
    this.ends.push(this.size);
  }

  private offset(line: number): number {
    return line === 0 ? this.start : this.ends[line - 1]!;
  }

  /** Lines [from, to) as a request body: the bytes without the last "\n" (no copy). */
  body(from = 0, to = this.count): Buffer {
    return this.buf.subarray(this.offset(from), Math.max(this.offset(from), this.offset(to) - 1));
  }

  /** Lines [from, to) with every "\n", as the disk buffer stores them (no copy). */
  bytes(from = 0, to = this.count): Buffer {
    return this.buf.subarray(this.offset(from), this.offset(to));
  }

  /** Lines [from, to) as a batch of their own, sharing these bytes. */
  slice(from: number, to = this.count): LineBatch {
    const a = Math.max(0, Math.min(from, this.count));
    const b = Math.max(a, Math.min(to, this.count));
    return new LineBatch(0, { buf: this.buf, start: this.offset(a), size: this.offset(b), ends: this.ends.slice(a, b) });
  }

  /** The text of line `i`. */
  line(i: number): string {
    return this.buf.toString('utf8', this.offset(i), this.ends[i]! - 1);
  }

  /** The text of lines [from, to), for tests and logs. */
  lines(from = 0, to = this.count): string[] {
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(this.line(i));
    return out;
  }
}
