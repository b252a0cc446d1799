/**
 * A load generator in its own process, for bench/wholepath.ts: opens its
 * devices with bare sockets (MQTT 3.1.1, clean session, no keep-alive) and
 * publishes QoS 1 events at the rate the parent asks for, keeping up to
 * `window` publishes in flight per connection instead of waiting for each
 * PUBACK. The parent steers it over IPC:
 *   { rate: N }  offer N events/s from now on (0 stops offering)
 *   { stop: true }  close every connection and exit
 * and hears `{ ready: true }` once every device is connected, then every
 * 250 ms `{ due, sent, acked }`: events offered so far at the asked rates,
 * events written to a socket, PUBACKs received.
 * Each device's events get strictly increasing millisecond timestamps from
 * `t0` and ids `{device}-{n}`, so no two events share a point in InfluxDB.
 *   node load-child.js CONFIG.json   ({ port, window, t0, devices: [{ username, password, topic, port? }] })
 * A device's own `port` (a cluster node's broker) overrides the common one.
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';

interface Config { port: number; window: number; t0: number; devices: Array<{ username: string; password: string; topic: string; port?: number }> }
interface Conn { socket: Socket; topic: Buffer; device: string; seq: number; inflight: number; nextId: number; rest: Buffer }

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Config;

const str = (s: string | Buffer) => { const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s; const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
function withLength(first: number, body: Buffer): Buffer {
  const len: number[] = [];
  let x = body.length;
  do { let byte = x % 128; x = Math.floor(x / 128); if (x > 0) byte |= 128; len.push(byte); } while (x > 0);
  return Buffer.concat([Buffer.from([first, ...len]), body]);
}
const connectPacket = (d: Config['devices'][number]) => withLength(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0b1100_0010, 0, 0]), str(d.username), str(d.username), str(d.password)]));

let acked = 0;
let sent = 0;

function open(d: Config['devices'][number]): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port: d.port ?? config.port });
    socket.setNoDelay(true);
    const conn: Conn = { socket, topic: Buffer.from(d.topic), device: d.username.replace('/', '-'), seq: 0, inflight: 0, nextId: 1, rest: Buffer.alloc(0) };
    let connected = false;
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      let b = conn.rest.length ? Buffer.concat([conn.rest, chunk]) : chunk;
      // CONNACK and PUBACK are both 4 bytes: type, remaining length 2, two bytes.
      while (b.length >= 4) {
        const type = b[0]! >> 4;
        if (type === 2 && !connected) {
          if (b[3] !== 0) { reject(new Error(`CONNACK ${b[3]} for ${d.username}`)); socket.destroy(); return; }
          connected = true;
          resolve(conn);
        } else if (type === 4) { conn.inflight--; acked++; }
        b = b.subarray(4);
      }
      conn.rest = b;
    });
    socket.once('close', () => { if (!connected) reject(new Error(`closed before CONNACK for ${d.username}`)); else if (!stopping) { process.stderr.write(`load-child: connection of ${d.username} closed by the broker\n`); process.exit(3); } });
    socket.write(connectPacket(d));
  });
}

function publishPacket(c: Conn): Buffer {
  const n = c.seq++;
  const id = c.nextId;
  c.nextId = c.nextId === 65535 ? 1 : c.nextId + 1;
  const payload = Buffer.from(`{"id":"${c.device}-${n}","ts":"${new Date(config.t0 + n).toISOString()}","kind":"power","watts":${100 + (n % 50)}}`);
  const pid = Buffer.from([id >> 8, id & 255]);
  return withLength(0x32, Buffer.concat([str(c.topic), pid, payload]));
}

let stopping = false;
const conns: Conn[] = [];
for (let i = 0; i < config.devices.length; i += 32) conns.push(...(await Promise.all(config.devices.slice(i, i + 32).map(open))));

let rate = 0;
let due = 0;
let rateSince = performance.now();
let dueBefore = 0;
let next = 0;
function pump(): void {
  due = dueBefore + Math.floor((rate * (performance.now() - rateSince)) / 1000);
  let blocked = 0;
  while (sent < due && blocked < conns.length) {
    const c = conns[next]!;
    next = (next + 1) % conns.length;
    if (c.inflight >= config.window) { blocked++; continue; }
    blocked = 0;
    c.inflight++;
    sent++;
    c.socket.write(publishPacket(c));
  }
}
const pumpTimer = setInterval(pump, 5);
const reportTimer = setInterval(() => process.send?.({ due, sent, acked }), 250);
process.on('message', (m: { rate?: number; stop?: boolean }) => {
  if (m.stop) {
    stopping = true;
    clearInterval(pumpTimer);
    clearInterval(reportTimer);
    for (const c of conns) c.socket.destroy();
    process.send?.({ due, sent, acked }, () => process.exit(0));
    return;
  }
  if (m.rate !== undefined) { pump(); dueBefore = due; rateSince = performance.now(); rate = m.rate; }
});
process.send?.({ ready: true });
