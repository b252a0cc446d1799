/**
 * A loopback TCP proxy in front of a real MQTT broker that can lose the
 * client's PUBACKs — what happens when a client is killed before its socket
 * flushed them — and cut every connection, so the broker redelivers its
 * unacknowledged QoS 1 messages (with DUP set) when the client comes back.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import type { Teardown } from './wait.js';

export interface AckProxy {
  url: string;
  /** While true, PUBACK packets from the client never reach the broker. */
  dropAcks: boolean;
  /** PUBACKs lost so far. */
  dropped(): number;
  /** Ends every proxied connection at once (both sides). */
  cut(): void;
}

const pubackType = 4;

/** Splits a client→broker byte stream into MQTT packets (fixed header + remaining length). */
function packets(onPacket: (type: number, bytes: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      let length = 0, multiplier = 1, i = 1;
      for (;; i++) {
        if (i >= pending.length) return; // the length is not all here yet
        const b = pending[i]!;
        length += (b & 0x7f) * multiplier;
        multiplier *= 128;
        if ((b & 0x80) === 0) break;
      }
      const total = i + 1 + length;
      if (pending.length < total) return;
      onPacket(pending[0]! >> 4, pending.subarray(0, total));
      pending = pending.subarray(total);
    }
  };
}

export async function startAckProxy(t: Teardown, brokerUrl: string): Promise<AckProxy> {
  const target = new URL(brokerUrl);
  const sockets = new Set<Socket>();
  let dropped = 0;
  const proxy: AckProxy = { url: '', dropAcks: false, dropped: () => dropped, cut: () => { for (const s of sockets) s.destroy(); sockets.clear(); } };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => { client.destroy(); upstream.destroy(); sockets.delete(s); }); }
    upstream.on('data', (b: Buffer) => client.write(b));
    client.on('data', packets((type, bytes) => {
      if (type === pubackType && proxy.dropAcks) { dropped++; return; }
      upstream.write(bytes);
    }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((resolve) => { proxy.cut(); server.close(() => resolve()); }));
  return proxy;
}
