/**
 * A login generator in its own process, for bench/connections.ts: opens
 * devices with bare sockets (a hand-made MQTT 3.1.1 CONNECT, clean session),
 * `concurrency` logins in flight, and holds them open. Its own process so the
 * broker under test can be given more devices than one process may hold
 * sockets for (the generator's side of each connection is a file descriptor
 * too), and so the generator's work is not counted in the parent's.
 * It says `{ ready: true }` once warmed up — it first logs 2,000 devices in to a
 * stand-in of its own that answers every CONNECT at once, so the first step it
 * times is not run by unoptimised code (against a fast broker the generator is
 * the bottleneck, and a cold one made mosquitto look slower than it is). The
 * parent steers it over IPC:
 *   { open: Device[], port, concurrency }  → { opened: n } once all answered CONNACK 0
 *   { close: true }                        → { closed: n } once every socket is closed
 * A refused login or one with no CONNACK within 20 s is `{ error: message }`.
 *   node login-child.js
 */
import { connect as netConnect, createServer, type Socket } from 'node:net';

export interface LoginDevice { username: string; password: string; clientId: string }
export type LoginCommand = { open: LoginDevice[]; port: number; concurrency: number } | { close: true };
export type LoginReply = { ready: true } | { opened: number } | { closed: number } | { error: string };

/** MQTT 3.1.1 CONNECT with clean session, username and password (MQTT-3.1). */
function connectPacket(d: LoginDevice): Buffer {
  const str = (s: string) => { const b = Buffer.from(s, 'utf8'); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
  const variable = Buffer.concat([str('MQTT'), Buffer.from([4, 0b1100_0010, 0, 120])]);
  const body = Buffer.concat([variable, str(d.clientId), str(d.username), str(d.password)]);
  const len: number[] = [];
  let x = body.length;
  do { let byte = x % 128; x = Math.floor(x / 128); if (x > 0) byte |= 128; len.push(byte); } while (x > 0);
  return Buffer.concat([Buffer.from([0x10, ...len]), body]);
}

/**
 * Source addresses for the connections, taken in turn: all of 127.0.0.0/8 is this machine. From one
 * address, connect() searches the ephemeral port range (28,000 ports) for a free port, and the
 * search slows as the range fills — with 18,000 devices held and the TIME_WAIT of earlier steps,
 * the generator, not the broker, set the pace of the last step (every broker measured the same
 * ~2,500 logins/s there). 200 addresses keep each one's share of the range small.
 */
const sourceAddresses = Array.from({ length: 200 }, (_, i) => `127.0.1.${i + 1}`);
let nextSource = 0;

/** Opens one device connection; resolves on CONNACK 0, rejects on a refusal or after 20 s. */
function openDevice(port: number, d: LoginDevice): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port, localAddress: sourceAddresses[nextSource++ % sourceAddresses.length] });
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no CONNACK for ${d.clientId} within 20 s`)); }, 20_000);
    s.once('error', (err) => { clearTimeout(timer); reject(err); });
    s.once('data', (b: Buffer) => {
      clearTimeout(timer);
      if (b[0] === 0x20 && b[3] === 0) resolve(s);
      else { s.destroy(); reject(new Error(`CONNACK ${b[3]} for ${d.clientId}`)); }
    });
    s.write(connectPacket(d));
  });
}

let sockets: Socket[] = [];

async function openAll(port: number, devices: LoginDevice[], concurrency: number): Promise<number> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < devices.length; i = next++) sockets.push(await openDevice(port, devices[i]!));
  }));
  return devices.length;
}

async function closeAll(): Promise<number> {
  const all = sockets;
  sockets = [];
  await Promise.all(all.map((s) => new Promise<void>((resolve) => { s.once('close', () => resolve()); s.destroy(); })));
  return all.length;
}

process.on('message', (m: LoginCommand) => {
  const reply = (r: LoginReply) => process.send?.(r);
  const work = 'open' in m ? openAll(m.port, m.open, m.concurrency).then((opened) => ({ opened })) : closeAll().then((closed) => ({ closed }));
  work.then(reply, (err: Error) => reply({ error: err.message }));
});
process.on('disconnect', () => process.exit(0));

async function warmUp(): Promise<void> {
  const standIn = createServer((s) => { s.on('data', () => s.write(Buffer.from([0x20, 2, 0, 0]))); s.on('error', () => {}); });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  const address = standIn.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await openAll(port, Array.from({ length: 2000 }, (_, i) => ({ username: `warm/${i}`, password: 'warm', clientId: `warm-${i}` })), 32);
  await closeAll();
  await new Promise<void>((resolve) => standIn.close(() => resolve()));
}
await warmUp();
process.send?.({ ready: true });
