/**
 * A pass-through duplex in front of each MQTT connection that reads only the
 * MQTT fixed headers and cuts the connection as soon as a packet announces a
 * size above the limit — before its body is buffered. aedes has no packet
 * size limit of its own, and MQTT 3.1.1 has no way to tell the client why
 * (MQTT-3.1.1 has no DISCONNECT from the server), so the connection is closed.
 */
import { Duplex } from 'node:stream';

export interface OversizeInfo { announced: number; limit: number }

/** Readable+writable side we wrap: a TCP/TLS socket or a WebSocket stream. */
type Inner = Duplex;

const enum State { Header, Length, Body }

export class PacketSizeGuard extends Duplex {
  /** The peer address, for lockout and logs. */
  readonly remoteAddress: string | undefined;
  private state = State.Header;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly inner: Inner, private readonly limit: number, private readonly onOversize: (info: OversizeInfo, guard: PacketSizeGuard) => void, remoteAddress?: string) {
    super({ allowHalfOpen: false });
    this.remoteAddress = remoteAddress;
    inner.on('data', (chunk: Buffer) => {
      if (!this.scan(chunk)) return;
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => { if (!this.destroyed) this.destroy(); });
  }

  /** Walks the fixed headers in `chunk`; false when the connection was cut. */
  private scan(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case State.Header:
          i++;
          this.state = State.Length;
          this.remaining = 0; this.multiplier = 1; this.lengthBytes = 0;
          break;
        case State.Length: {
          const byte = chunk[i++] ?? 0;
          this.remaining += (byte & 0x7f) * this.multiplier;
          this.multiplier *= 128;
          this.lengthBytes++;
          if (byte & 0x80) {
            // MQTT-2.2.3: the remaining length takes at most four bytes.
            if (this.lengthBytes >= 4) return this.cut(Infinity);
            break;
          }
          const total = 1 + this.lengthBytes + this.remaining;
          if (total > this.limit) return this.cut(total);
          this.state = this.remaining > 0 ? State.Body : State.Header;
          break;
        }
        case State.Body: {
          const step = Math.min(this.remaining, chunk.length - i);
          i += step;
          this.remaining -= step;
          if (this.remaining === 0) this.state = State.Header;
          break;
        }
      }
    }
    return true;
  }

  private cut(announced: number): false {
    this.onOversize({ announced, limit: this.limit }, this);
    this.destroy();
    return false;
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.inner.write(chunk, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.inner.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.inner.write(chunks[i]!.chunk);
    this.inner.write(chunks[chunks.length - 1]!.chunk, cb);
    this.inner.uncork();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
}
