/**
 * The device lane: the broker's own MQTT 3.1.1 server side for the common
 * device connection — a clean session without a will, logged in as a device.
 * Everything else (persistent sessions, wills, services, MQTT 3.1 clients
 * with odd CONNECTs, WebSocket) is handed to aedes unchanged, with the bytes
 * already read put back in front of the stream.
 *
 * Why: aedes keeps a full client per connection — a packet parser with its
 * own `Duplex`, two dozen closures and bound functions, timers, stream hooks —
 * about 7 KB of V8 heap per idle device, and a login runs through its stream
 * pipeline and a `$SYS` publish (issue 12: memory per connected device and
 * logins per second). A device on this lane costs its socket and one small
 * object: the packets are framed and read here, keep-alives are checked by
 * one sweep for all connections, and what the device publishes goes to the
 * same login check, ACL, ingest and subscribers as through aedes
 * (broker/index.ts), through `aedes.publish` and aedes's own emitter, so
 * services and other cluster nodes see no difference.
 *
 * What the lane does per packet (MQTT 3.1.1):
 * - CONNECT: clean session, no will, protocol level 4 ("MQTT") or 3
 *   ("MQIsdp"), a username that is not a service's; then the shared login
 *   (throttle, store, client-id rules) and CONNACK.
 * - PUBLISH QoS 0/1/2: PUBACK/PUBREC once the hub has the message (the same
 *   rule as aedes's path: nothing is acknowledged before the ingest
 *   committed it). The publishes of one read are handed on together and
 *   answered in order (MQTT-4.6.0-2); the next read waits for them.
 * - PUBREL → PUBCOMP; SUBSCRIBE/UNSUBSCRIBE through aedes's emitter, with
 *   retained messages after the SUBACK; PINGREQ; DISCONNECT.
 * - QoS 1 messages to the device are numbered and forgotten at their PUBACK;
 *   a clean session's unacknowledged messages end with it (MQTT-3.1.2-6).
 * - Anything malformed closes the connection (MQTT 3.1.1 has no way to say
 *   why); so does silence past 1.5 × the keep-alive, or no CONNECT within
 *   the connect timeout.
 */
import type { Socket } from 'node:net';
import { isUtf8 } from 'node:buffer';
import type { Identity } from './device-credentials.js';

/** What the broker answers to a CONNECT on the lane. */
export type LaneLogin = { ok: true; identity: Identity; username: string } | { ok: false; returnCode: number };

/** A message delivered to a subscriber by aedes's emitter. */
export interface BusPacket { topic: string; payload: Buffer | string; qos?: number; retain?: boolean }
type BusListener = (packet: BusPacket, done: () => void) => void;

/** aedes's emitter and retained store, as the lane needs them. */
export interface LaneBus {
  subscribe(topic: string, fn: BusListener, done: () => void): void;
  unsubscribe(topic: string, fn: BusListener, done: () => void): void;
  retained(topic: string): AsyncIterable<BusPacket>;
}

export interface DeviceLaneOptions {
  maxPacketSize: number;
  /** A connection that has not sent its CONNECT this long after it opened is closed (aedes: 30 s). */
  connectTimeoutMs?: number;
  bus: LaneBus;
  /** The broker's login: throttle, credentials, client-id rules. */
  login(c: { clientId: string; address: string | undefined; username: string; password: Buffer | undefined }): Promise<LaneLogin>;
  /** Called once the CONNACK 0 is written. */
  onReady(client: LaneClient): void;
  /** Called once for every client that was ready, when its connection ends. */
  onClose(client: LaneClient): void;
  /**
   * A device PUBLISH: resolves when it may be acknowledged; rejects (or
   * throws) to close the connection without acknowledging it.
   */
  publish(client: LaneClient, topic: string, payload: Buffer, qos: number, retain: boolean): Promise<void>;
  /** May this client subscribe to `topic`? (the broker's ACL, which counts and logs refusals) */
  maySubscribe(client: LaneClient, topic: string): boolean;
  /** Not for the lane: aedes takes the connection, with `head` (the bytes read so far) put back first. */
  handOff(socket: Socket, head: Buffer): void;
  /** A connection closed for a protocol error or a timeout (logged by the broker, rate-limited). */
  onProtocolError(socket: Socket, clientId: string | undefined, reason: string): void;
  /** Whether the lane may serve this client id (no session state or will to discard or keep); else aedes does. */
  accepts(clientId: string): boolean;
  /** The most topic levels a topic may have (aedes: 100). */
  maxTopicLevels?: number;
}

/** One device connection on the lane. */
export interface LaneClient {
  readonly id: string;
  readonly username: string;
  readonly identity: Identity;
  readonly address: string | undefined;
  close(): void;
}

const enum Phase { Connecting, LoggingIn, Ready, Closed }

// Packet types (MQTT-2.2.1).
const CONNECT = 1, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7, SUBSCRIBE = 8, UNSUBSCRIBE = 10, PINGREQ = 12, DISCONNECT = 14;

const pingResp = Buffer.from([0xd0, 0x00]);

/** Reads of one connection whose publishes may wait for the hub at once before it stops reading. */
const maxReadsInFlight = 16;

class ProtocolError extends Error {}

/** A fixed header and remaining length (MQTT-2.2.3), or undefined while incomplete. */
function frame(buf: Buffer, at: number): { type: number; flags: number; body: number; end: number } | undefined | 'malformed' {
  if (buf.length - at < 2) return undefined;
  let length = 0;
  let multiplier = 1;
  let i = at + 1;
  for (let n = 0; ; n++) {
    if (i >= buf.length) return undefined;
    const byte = buf[i++]!;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) break;
    if (n === 3) return 'malformed';
    multiplier *= 128;
  }
  if (buf.length - i < length) return undefined;
  return { type: buf[at]! >> 4, flags: buf[at]! & 0x0f, body: i, end: i + length };
}

/** A cursor over one packet's bytes. */
class Reader {
  constructor(private readonly buf: Buffer, public at: number, private readonly end: number) {}
  left(): number { return this.end - this.at; }
  u8(): number { if (this.at >= this.end) throw new ProtocolError('packet too short'); return this.buf[this.at++]!; }
  u16(): number { if (this.end - this.at < 2) throw new ProtocolError('packet too short'); const v = this.buf.readUInt16BE(this.at); this.at += 2; return v; }
  bytes(): Buffer {
    const n = this.u16();
    if (this.end - this.at < n) throw new ProtocolError('packet too short');
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  /** A UTF-8 string (MQTT-1.5.3: well formed, no U+0000). */
  text(): string {
    const b = this.bytes();
    if (!isUtf8(b) || b.includes(0)) throw new ProtocolError('a string is not valid UTF-8');
    return b.toString('utf8');
  }
  rest(): Buffer { const b = this.buf.subarray(this.at, this.end); this.at = this.end; return b; }
}

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function ack(type: number, id: number): Buffer {
  return Buffer.from([type === PUBREL ? 0x62 : type << 4, 2, id >> 8, id & 0xff]);
}

/** A PUBLISH to a device. */
function publishPacket(topic: string, payload: Buffer, qos: number, retain: boolean, id: number): Buffer {
  const topicLength = Buffer.byteLength(topic);
  const length = 2 + topicLength + (qos > 0 ? 2 : 0) + payload.length;
  const head = remainingLength(length);
  const out = Buffer.allocUnsafe(1 + head.length + length);
  let at = 0;
  out[at++] = (PUBLISH << 4) | (qos << 1) | (retain ? 1 : 0);
  for (const b of head) out[at++] = b;
  out.writeUInt16BE(topicLength, at); at += 2;
  at += out.write(topic, at, 'utf8');
  if (qos > 0) { out.writeUInt16BE(id, at); at += 2; }
  payload.copy(out, at);
  return out;
}

const ignore = () => undefined;

const isServiceUsername = (username: string) => username.startsWith('service:');

/** One connection, from accept to close; a device once its login succeeded. */
class Connection implements LaneClient {
  phase = Phase.Connecting;
  id = '';
  username = '';
  identity: Identity = { type: 'device', home: '', device: '' };
  readonly address: string | undefined;
  /** Bytes read but not yet a whole packet. */
  private head: Buffer | undefined;
  /** Whether the socket is paused because too many reads wait for their answers. */
  private busy = false;
  /** Reads whose answers are not written yet. */
  private pending = 0;
  /** Settles once every read so far is answered (undefined when none waits). */
  private tail: Promise<void> | undefined;
  keepAliveMs = 0;
  lastSeen: number;
  /** Subscriptions: topic → the emitter listener and granted QoS (only if the device subscribes). */
  private subs: Map<string, { fn: BusListener; qos: number }> | undefined;
  /** QoS 1 message ids sent to the device and not yet acknowledged. */
  private outgoing: Set<number> | undefined;
  /** QoS 2 message ids received and not yet released (MQTT-4.3.3). */
  private incoming: Set<number> | undefined;
  private nextId = 1;
  /** Removes the lane's listeners from the socket (before a hand-off to aedes). */
  detach: (() => void) | undefined;

  constructor(readonly socket: Socket, private readonly lane: DeviceLane, now: number) {
    this.address = socket.remoteAddress;
    this.lastSeen = now;
  }

  close(): void {
    if (this.phase === Phase.Closed) return;
    this.socket.destroy();
  }

  /** Bytes from the socket. */
  onData(chunk: Buffer): void {
    this.lastSeen = Date.now();
    this.head = this.head === undefined ? chunk : Buffer.concat([this.head, chunk]);
    if (!this.busy) this.drain();
  }

  /** Reads whole packets from `head` until it runs out or a packet must wait for an answer. */
  private drain(): void {
    const opts = this.lane.opts;
    while (this.head !== undefined && this.phase !== Phase.Closed) {
      const buf = this.head;
      const f = frame(buf, 0);
      if (f === 'malformed') { this.fail('malformed remaining length'); return; }
      if (f === undefined) {
        if (buf.length > opts.maxPacketSize + 5) this.fail('packet too large');
        return;
      }
      if (f.end > opts.maxPacketSize) { this.fail('packet too large'); return; }
      if (this.phase === Phase.Connecting) {
        this.head = f.end < buf.length ? buf.subarray(f.end) : undefined;
        this.onConnect(buf, f);
        return;
      }
      if (this.phase === Phase.LoggingIn) return;
      // Every whole packet of this read; the rest waits for the next.
      const answers: (Buffer | Promise<Buffer | undefined> | undefined)[] = [];
      let at = 0;
      let next = f;
      for (;;) {
        try {
          answers.push(this.onPacket(buf, next));
        } catch (err) {
          this.fail(err instanceof ProtocolError ? err.message : (err as Error).message);
          return;
        }
        at = next.end;
        if ((this.phase as Phase) === Phase.Closed) return;
        const following = frame(buf, at);
        if (following === undefined || following === 'malformed' || following.end - at > opts.maxPacketSize) break;
        next = following;
      }
      this.head = at < buf.length ? buf.subarray(at) : undefined;
      if (this.tail === undefined && answers.every((a) => !(a instanceof Promise))) {
        this.write(answers as (Buffer | undefined)[]);
        continue;
      }
      // The hub takes the publishes of later reads while these wait; the answers go out in
      // order (MQTT-4.6.0-2). Past `maxReadsInFlight` unanswered reads the socket waits.
      this.pending++;
      if (this.pending >= maxReadsInFlight && !this.busy) { this.busy = true; this.socket.pause(); }
      const previous = this.tail ?? Promise.resolve();
      const mine: Promise<void> = Promise.all([previous, Promise.all(answers)]).then(([, done]) => {
        if (this.phase === Phase.Closed) return;
        this.write(done);
        this.pending--;
        if (this.tail === mine) this.tail = undefined;
        if (this.busy && this.pending < maxReadsInFlight) { this.busy = false; this.socket.resume(); this.drain(); }
      });
      this.tail = mine;
      mine.catch((err: unknown) => this.fail((err as Error).message ?? String(err), true));
    }
  }

  private write(answers: (Buffer | undefined)[]): void {
    const out = answers.filter((a): a is Buffer => a !== undefined);
    if (out.length === 1) this.socket.write(out[0]!);
    else if (out.length > 1) this.socket.write(Buffer.concat(out));
  }

  private fail(reason: string, quiet = false): void {
    if (this.phase === Phase.Closed) return;
    if (!quiet) this.lane.opts.onProtocolError(this.socket, this.id || undefined, reason);
    this.socket.destroy();
  }

  private onConnect(buf: Buffer, f: { type: number; flags: number; body: number; end: number }): void {
    const opts = this.lane.opts;
    const handOff = () => {
      this.lane.forget(this);
      this.phase = Phase.Closed;
      this.socket.pause();
      this.detach?.();
      // `buf` holds the CONNECT and whatever came with it (`head` is only its tail).
      this.head = undefined;
      opts.handOff(this.socket, buf);
    };
    if (f.type !== CONNECT || f.flags !== 0) { this.fail('the first packet is not a CONNECT'); return; }
    let clientId: string, username: string | undefined, password: Buffer | undefined;
    let clean: boolean, will: boolean, level: number, protocol: string;
    try {
      const r = new Reader(buf, f.body, f.end);
      protocol = r.text();
      level = r.u8();
      const flags = r.u8();
      this.keepAliveMs = r.u16() * 1000;
      clean = (flags & 0x02) !== 0;
      will = (flags & 0x04) !== 0;
      if ((flags & 0x01) !== 0) throw new ProtocolError('reserved CONNECT flag set');
      clientId = r.text();
      if (will) { handOff(); return; }
      if (flags & 0x80) username = r.text();
      if (flags & 0x40) password = r.bytes();
      if (r.left() !== 0) throw new ProtocolError('bytes after the CONNECT payload');
    } catch {
      // Whatever aedes makes of it (it answers a bad protocol level with CONNACK 1, the rest by closing).
      handOff();
      return;
    }
    const standard = (protocol === 'MQTT' && level === 4) || (protocol === 'MQIsdp' && level === 3);
    if (!standard || !clean || will || username === undefined || isServiceUsername(username) || clientId.length === 0 || !opts.accepts(clientId)) { handOff(); return; }
    this.id = clientId;
    this.username = username;
    this.phase = Phase.LoggingIn;
    this.socket.pause();
    opts.login({ clientId, address: this.address, username, password }).then((result) => {
      if (this.phase === Phase.Closed) return;
      if (!result.ok || result.identity.type !== 'device') {
        this.phase = Phase.Closed;
        this.lane.forget(this);
        this.socket.end(Buffer.from([0x20, 2, 0, result.ok ? 5 : result.returnCode]));
        this.socket.resume();
        return;
      }
      this.identity = result.identity;
      this.username = result.username;
      this.socket.write(Buffer.from([0x20, 2, 0, 0]));
      this.phase = Phase.Ready;
      this.lane.ready(this);
      this.socket.resume();
      this.drain();
    }, (err: unknown) => this.fail(`login failed: ${(err as Error).message}`));
  }

  /** One packet after the CONNECT; the answer to write (or its promise). */
  private onPacket(buf: Buffer, f: { type: number; flags: number; body: number; end: number }): Buffer | Promise<Buffer | undefined> | undefined {
    const r = new Reader(buf, f.body, f.end);
    switch (f.type) {
      case PUBLISH: {
        const qos = (f.flags >> 1) & 3;
        if (qos === 3) throw new ProtocolError('PUBLISH with QoS 3');
        const topic = r.text();
        if (topic.length === 0 || topic.includes('+') || topic.includes('#')) throw new ProtocolError('a PUBLISH topic must be a name without wildcards');
        if (topic.split('/').length > (this.lane.opts.maxTopicLevels ?? 100)) throw new ProtocolError('topic has too many levels');
        const id = qos > 0 ? r.u16() : 0;
        // A copy: the read buffer is not kept alive by a message held further on.
        const payload = Buffer.from(r.rest());
        if (qos === 2 && this.incoming?.has(id)) return ack(PUBREC, id); // a resend before PUBREL: already handed on
        if (qos === 2) (this.incoming ??= new Set()).add(id);
        const taken = this.lane.opts.publish(this, topic, payload, qos, (f.flags & 1) === 1);
        return qos === 0 ? taken.then(() => undefined) : taken.then(() => ack(qos === 1 ? PUBACK : PUBREC, id));
      }
      case PUBACK:
        this.outgoing?.delete(r.u16());
        return undefined;
      case PUBREL: {
        const id = r.u16();
        this.incoming?.delete(id);
        return ack(PUBCOMP, id);
      }
      case PUBREC:
      case PUBCOMP:
        // The lane sends at QoS 1 at most; nothing to do.
        return undefined;
      case SUBSCRIBE: {
        if (f.flags !== 2) throw new ProtocolError('malformed SUBSCRIBE');
        const id = r.u16();
        const wanted: { topic: string; qos: number }[] = [];
        while (r.left() > 0) {
          const topic = r.text();
          const qos = r.u8();
          if (qos > 2) throw new ProtocolError('SUBSCRIBE with QoS 3');
          wanted.push({ topic, qos });
        }
        if (wanted.length === 0) throw new ProtocolError('SUBSCRIBE without a topic'); // MQTT-3.8.3-3
        return this.subscribe(id, wanted);
      }
      case UNSUBSCRIBE: {
        if (f.flags !== 2) throw new ProtocolError('malformed UNSUBSCRIBE');
        const id = r.u16();
        const topics: string[] = [];
        while (r.left() > 0) topics.push(r.text());
        return Promise.all(topics.map((t) => this.unsubscribe(t))).then(() => ack(11, id));
      }
      case PINGREQ:
        return pingResp;
      case DISCONNECT:
        this.phase = Phase.Closed;
        this.socket.end();
        return undefined;
      default:
        throw new ProtocolError(f.type === CONNECT ? 'a second CONNECT' : `unexpected packet type ${f.type}`);
    }
  }

  private async subscribe(id: number, wanted: { topic: string; qos: number }[]): Promise<Buffer> {
    const codes: number[] = [];
    const granted: { topic: string; qos: number }[] = [];
    for (const w of wanted) {
      if (!this.lane.opts.maySubscribe(this, w.topic)) { codes.push(0x80); continue; }
      // The lane sends at QoS 1 at most (a server may grant less than asked, MQTT-3.9.3).
      const qos = Math.min(w.qos, 1);
      codes.push(qos);
      granted.push({ topic: w.topic, qos });
      const subs = (this.subs ??= new Map());
      const old = subs.get(w.topic);
      if (old) { old.qos = qos; continue; }
      const entry = { qos, fn: ((packet: BusPacket, done: () => void) => { this.deliver(packet, entry.qos, false); done(); }) as BusListener };
      subs.set(w.topic, entry);
      await new Promise<void>((resolve) => this.lane.opts.bus.subscribe(w.topic, entry.fn, resolve));
    }
    const suback = Buffer.from([0x90, ...remainingLength(2 + codes.length), id >> 8, id & 0xff, ...codes]);
    if (granted.length > 0) {
      // Retained messages follow the SUBACK (MQTT-3.3.1-6).
      queueMicrotask(() => { void this.sendRetained(granted); });
    }
    return suback;
  }

  private async sendRetained(granted: { topic: string; qos: number }[]): Promise<void> {
    try {
      for (const g of granted) {
        for await (const packet of this.lane.opts.bus.retained(g.topic)) {
          if (this.phase === Phase.Closed) return;
          this.deliver(packet, g.qos, true);
        }
      }
    } catch (err) {
      this.lane.opts.onProtocolError(this.socket, this.id, `retained messages could not be read: ${(err as Error).message}`);
    }
  }

  private unsubscribe(topic: string): Promise<void> {
    const entry = this.subs?.get(topic);
    if (!entry) return Promise.resolve();
    this.subs!.delete(topic);
    return new Promise((resolve) => this.lane.opts.bus.unsubscribe(topic, entry.fn, resolve));
  }

  private deliver(packet: BusPacket, grantedQos: number, retain: boolean): void {
    if (this.phase !== Phase.Ready) return;
    const qos = Math.min(packet.qos ?? 0, grantedQos);
    let id = 0;
    if (qos > 0) {
      const outgoing = (this.outgoing ??= new Set());
      do { id = this.nextId; this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1; } while (outgoing.has(id) && outgoing.size < 65535);
      outgoing.add(id);
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    this.socket.write(publishPacket(packet.topic, payload, qos, retain, id));
  }

  /** The socket closed: drops the subscriptions. */
  onClosed(): void {
    const wasReady = this.phase === Phase.Ready || (this.phase === Phase.Closed && this.lane.isReady(this));
    this.phase = Phase.Closed;
    if (this.subs) for (const [topic, entry] of this.subs) this.lane.opts.bus.unsubscribe(topic, entry.fn, () => undefined);
    this.subs = undefined;
    this.lane.forget(this);
    if (wasReady) this.lane.opts.onClose(this);
  }
}

export class DeviceLane {
  /** Every open connection on the lane, logged in or not. */
  private readonly open = new Set<Connection>();
  /** Logged-in devices by client id. */
  private readonly byId = new Map<string, Connection>();
  private readonly sweep: NodeJS.Timeout;

  constructor(readonly opts: DeviceLaneOptions) {
    this.sweep = setInterval(() => this.check(), 1000);
    this.sweep.unref();
  }

  /** Takes a new TCP or TLS connection: the lane if its CONNECT fits, else aedes. */
  handle(socket: Socket): void {
    const c = new Connection(socket, this, Date.now());
    this.open.add(c);
    const onData = (chunk: Buffer) => c.onData(chunk);
    const onClose = () => c.onClosed();
    socket.on('data', onData);
    socket.on('error', ignore); // the close that follows ends it
    socket.on('close', onClose);
    c.detach = () => { socket.off('data', onData); socket.off('error', ignore); socket.off('close', onClose); };
  }

  /** Devices logged in on the lane. */
  get size(): number { return this.byId.size; }

  /** The logged-in lane client with this id, if any. */
  get(clientId: string): LaneClient | undefined { return this.byId.get(clientId); }

  isReady(c: Connection): boolean { return this.byId.get(c.id) === c; }

  /** A login succeeded: an older connection with the same id is closed (MQTT-3.1.4-2). */
  ready(c: Connection): void {
    const old = this.byId.get(c.id);
    this.byId.set(c.id, c);
    if (old && old !== c) { old.phase = Phase.Closed; old.socket.destroy(); this.opts.onClose(old); }
    this.opts.onReady(c);
  }

  forget(c: Connection): void {
    this.open.delete(c);
    if (this.byId.get(c.id) === c) this.byId.delete(c.id);
  }

  /** Closes every connection (the broker is closing). */
  close(): void {
    clearInterval(this.sweep);
    for (const c of [...this.open]) c.socket.destroy();
  }

  private check(): void {
    const now = Date.now();
    const connectTimeout = this.opts.connectTimeoutMs ?? 30_000;
    for (const c of this.open) {
      if (c.phase === Phase.Connecting && now - c.lastSeen > connectTimeout) {
        this.opts.onProtocolError(c.socket, undefined, 'no CONNECT in time');
        c.socket.destroy();
      } else if (c.phase === Phase.Ready && c.keepAliveMs > 0 && now - c.lastSeen > c.keepAliveMs * 1.5) {
        // MQTT-3.1.2-24: nothing heard within one and a half keep-alive periods.
        this.opts.onProtocolError(c.socket, c.id, 'keep-alive expired');
        c.socket.destroy();
      }
    }
  }
}
