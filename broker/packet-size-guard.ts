/**
 * Cuts an MQTT connection as soon as a packet announces a size above the
 * limit — before its body is buffered. aedes has no packet size limit of its
 * own, and MQTT 3.1.1 has no way to tell the client why (MQTT-3.1.1 has no
 * DISCONNECT from the server), so the connection is closed.
 *
 * The guard reads only the MQTT fixed headers, inside the stream's own
 * `push` (where a TCP or TLS socket, or ws's WebSocket stream, hands every
 * chunk it received to its readable side). Until issue 12 it was a second
 * full `Duplex` in front of every socket; that cost 1.0 KB of heap per
 * connection (its two stream states, listeners and closures), this one a
 * closure, a flag and five numbers.
 */
import type { Duplex } from 'node:stream';

export interface OversizeInfo { announced: number; limit: number }

/** A guarded connection: the socket (or WebSocket stream) itself, with the peer address for lockout and logs. */
export type GuardedConnection = Duplex & { readonly remoteAddress?: string | undefined };

const enum State { Header, Length, Body }

/** Walks MQTT fixed headers across chunks. */
class HeaderScanner {
  private state = State.Header;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly limit: number) {}

  /** 0 when every header in `chunk` is within the limit, else the size announced (Infinity for a malformed length). */
  scan(chunk: Buffer): number {
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
            if (this.lengthBytes >= 4) return Infinity;
            break;
          }
          const total = 1 + this.lengthBytes + this.remaining;
          if (total > this.limit) return total;
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
    return 0;
  }
}

/**
 * Guards `conn` in place: every chunk it receives is scanned before it
 * reaches its readers; on a packet above `limit` bytes `onOversize` is
 * called and the connection destroyed, and nothing of that chunk is read.
 */
export function guardPacketSize<T extends GuardedConnection>(conn: T, limit: number, onOversize: (info: OversizeInfo, conn: T) => void): T {
  const scanner = new HeaderScanner(limit);
  const push = conn.push;
  let cut = false;
  conn.push = function guardedPush(this: T, chunk: unknown, encoding?: BufferEncoding): boolean {
    // Chunks already received when the connection was cut (a WebSocket delivers its frames one by one) are dropped unseen.
    if (cut) return false;
    if (Buffer.isBuffer(chunk)) {
      const announced = scanner.scan(chunk);
      if (announced !== 0) {
        cut = true;
        onOversize({ announced, limit }, conn);
        conn.destroy();
        return false;
      }
    }
    return push.call(this, chunk, encoding);
  };
  return conn;
}
