/**
 * ECHONET Lite, Japan's home appliance protocol, over UDP (port 3610):
 * discovery of the home's nodes, polling of the mapped objects, and
 * notifications (INF) they send on their own. Property meanings come from
 * "APPENDIX Detailed Requirements for ECHONET Device objects" (Release R),
 * https://echonet.jp/spec_object_rr_en/ :
 *
 * | class | EPC | meaning | fact |
 * | --- | --- | --- | --- |
 * | 0x0288 low-voltage smart electric energy meter | 0xE7 | measured instantaneous electric power, signed long, W | power |
 * | 0x0130 home air conditioner | 0x80 | operation status, 0x30 on / 0x31 off | switch |
 * | 0x0130 | 0xBB | measured room temperature, signed char, °C (0x7E: cannot measure) | temperature |
 * | 0x0130 | 0xBA | measured room relative humidity, unsigned char, % (0xFD: cannot measure) | humidity |
 * | 0x026B electric water heater (EcoCute) | 0xEA | bath operation status monitor, 0x41 filling / 0x42 stopped / 0x43 keeping warm | bath |
 * | 0x0272 instantaneous (gas) water heater | 0xE3 | bath auto mode, 0x41 on / 0x42 off | bath |
 *
 * Discovery asks each configured address (unicast; and the ECHONET Lite
 * multicast group 224.0.23.0 unless turned off) for its node profile's
 * instance list (0x0EF001, EPC 0xD6); nodes announce themselves with 0xD5.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Clock } from '../../core/clock.js';
import { scheduleEvery } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import {
  CONTROLLER, EPC_INSTANCE_LIST, EPC_INSTANCE_LIST_NOTIFICATION, ESV, NODE_PROFILE,
  decodeFrame, decodeInstanceList, encodeFrame, type EchonetFrame, type Property,
} from './echonet-frame.js';
import { echonetNativePattern } from './device-map.js';
import { refused, understood, type AdaptResult, type NativeFact } from './native-facts.js';

export const echonetPort = 3610;
export const echonetMulticast = '224.0.23.0';

/** The properties mimamori asks each class for. */
export const polledProperties: Readonly<Record<string, readonly number[]>> = {
  '0288': [0xe7],
  '0130': [0x80, 0xbb, 0xba],
  '026b': [0xea],
  '0272': [0xe3],
};

/** Reads the properties of one object of a known class into facts; unknown classes and properties are refused / skipped. */
export function readEchonetProperties(eoj: string, properties: readonly Property[]): AdaptResult {
  const cls = eoj.slice(0, 4).toLowerCase();
  if (!(cls in polledProperties)) return refused('unknown_payload', `ECHONET Lite class 0x${cls} is not one mimamori reads (0288 meter, 0130 air conditioner, 026b / 0272 water heaters)`);
  const facts: NativeFact[] = [];
  for (const { epc, edt } of properties) {
    if (edt.length === 0) continue; // Get_SNA: the device does not have this property
    const wrongSize = (n: number) => refused('invalid_value', `EPC 0x${epc.toString(16)} of class 0x${cls} must have ${n} byte(s), got ${edt.length}`);
    if (cls === '0288' && epc === 0xe7) {
      if (edt.length !== 4) return wrongSize(4);
      const watts = edt.readInt32BE(0);
      if (watts >= -2147483647 && watts <= 2147483645) facts.push({ fact: 'power', watts: Math.max(0, watts) }); // negative: selling solar power back; no draw
    } else if (cls === '0130' && epc === 0x80) {
      if (edt.length !== 1) return wrongSize(1);
      if (edt[0] !== 0x30 && edt[0] !== 0x31) return refused('invalid_value', `operation status must be 0x30 or 0x31, got 0x${(edt[0] as number).toString(16)}`);
      facts.push({ fact: 'switch', on: edt[0] === 0x30 });
    } else if (cls === '0130' && epc === 0xbb) {
      if (edt.length !== 1) return wrongSize(1);
      const c = edt.readInt8(0);
      if (c >= -60 && c <= 90) facts.push({ fact: 'temperature', celsius: c }); // 0x7E (cannot measure) and out-of-range values carry no reading
    } else if (cls === '0130' && epc === 0xba) {
      if (edt.length !== 1) return wrongSize(1);
      if ((edt[0] as number) <= 100) facts.push({ fact: 'humidity', percent: edt[0] as number });
    } else if ((cls === '026b' && epc === 0xea) || (cls === '0272' && epc === 0xe3)) {
      if (edt.length !== 1) return wrongSize(1);
      facts.push({ fact: 'bath', running: edt[0] === 0x41 });
    }
  }
  return understood(facts);
}

export interface EchonetClientOptions {
  /** Local UDP port to bind (3610 to hear notifications; 0 for any, in tests). */
  bindPort?: number;
  bindAddress?: string;
  /** Where nodes listen (default 3610). */
  port?: number;
  /** Nodes to ask directly: `192.168.1.30` or `127.0.0.1:40123`. */
  addresses: readonly string[];
  multicast?: boolean;
  pollSeconds: number;
  /** Native ids (`<address>[:port]/<eoj>`) of the mapped objects to poll. */
  objects: readonly string[];
  clock: Clock;
  logger: Logger;
  /** A report of one object (Get_Res, Get_SNA, INF, INFC), read into facts. */
  onReport(native: string, result: AdaptResult): void;
  /** An object seen in a node's instance list (mapped or not). */
  onDiscovered(native: string): void;
  /** A datagram that is not a readable ECHONET Lite frame. */
  onMalformed(from: string, detail: string): void;
}

export interface EchonetClient {
  /** Asks every configured node for its instance list. */
  discover(): void;
  /** Asks every mapped object for its properties now (also done every `pollSeconds`). */
  poll(): void;
  /** Polls one more object from now on (a device mapped while the bridge runs). */
  addObject(native: string): void;
  port(): number;
  close(): Promise<void>;
}

/** Splits `addr[:port]` into an address and a port. */
function hostPort(s: string, defaultPort: number): { address: string; port: number } {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(s) as RegExpExecArray;
  return { address: (m[1] as string).replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : defaultPort };
}

/** One spelling per ECHONET Lite object: lower-case EOJ, the port only when it is not the nodes' usual one. */
export function canonicalEchonetNative(native: string, defaultPort = echonetPort): string {
  const m = echonetNativePattern.exec(native);
  if (!m) return native;
  const where = hostPort(native.slice(0, native.lastIndexOf('/')), defaultPort);
  return `${where.port === defaultPort ? where.address : `${where.address}:${where.port}`}/${(m[3] as string).toLowerCase()}`;
}

/** Starts an ECHONET Lite controller on a UDP socket. */
export async function createEchonetClient(opts: EchonetClientOptions): Promise<EchonetClient> {
  const port = opts.port ?? echonetPort;
  const log = opts.logger.child({ component: 'echonet' });
  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  let tid = 0;
  const nativeOf = (rinfo: RemoteInfo, eoj: string) => `${rinfo.port === port ? rinfo.address : `${rinfo.address}:${rinfo.port}`}/${eoj}`;

  function send(address: string, toPort: number, frame: Omit<EchonetFrame, 'tid' | 'seoj'>): void {
    tid = (tid + 1) & 0xffff;
    socket.send(encodeFrame({ ...frame, tid, seoj: CONTROLLER }), toPort, address, (err) => {
      if (err) log.warn({ address, err: err.message }, 'echonet: send failed');
    });
  }

  socket.on('message', (msg, rinfo) => {
    const decoded = decodeFrame(msg);
    if (!decoded.ok) { opts.onMalformed(`${rinfo.address}:${rinfo.port}`, decoded.detail); return; }
    const f = decoded.frame;
    if (f.seoj === NODE_PROFILE) {
      for (const p of f.properties) {
        if (p.epc !== EPC_INSTANCE_LIST && p.epc !== EPC_INSTANCE_LIST_NOTIFICATION) continue;
        const list = decodeInstanceList(p.edt);
        if (!list) { opts.onMalformed(`${rinfo.address}:${rinfo.port}`, 'instance list shorter than its count'); continue; }
        for (const eoj of list) opts.onDiscovered(nativeOf(rinfo, eoj));
      }
      return;
    }
    if (f.esv === ESV.Get_Res || f.esv === ESV.Get_SNA || f.esv === ESV.INF || f.esv === ESV.INFC) {
      opts.onReport(nativeOf(rinfo, f.seoj), readEchonetProperties(f.seoj, f.properties));
      // INFC asks for an acknowledgement (INFC_Res with the EPCs and no data).
      if (f.esv === ESV.INFC) send(rinfo.address, rinfo.port, { deoj: f.seoj, esv: ESV.INFC_Res, properties: f.properties.map((p) => ({ epc: p.epc, edt: Buffer.alloc(0) })) });
    }
  });
  socket.on('error', (err) => log.warn({ err: err.message }, 'echonet: socket error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.bindPort ?? echonetPort, opts.bindAddress, () => { socket.off('error', reject); resolve(); });
  });
  if (opts.multicast) {
    try { socket.addMembership(echonetMulticast); } catch (err) { log.warn({ err: (err as Error).message }, 'echonet: could not join the multicast group; only unicast discovery'); }
  }

  const target = (native: string) => {
    const m = echonetNativePattern.exec(native) as RegExpExecArray;
    const where = hostPort(native.slice(0, native.lastIndexOf('/')), port);
    return { ...where, eoj: (m[3] as string).toLowerCase() };
  };
  const targets = opts.objects.map(target);

  const client: EchonetClient = {
    discover() {
      const ask = { deoj: NODE_PROFILE, esv: ESV.Get, properties: [{ epc: EPC_INSTANCE_LIST, edt: Buffer.alloc(0) }] };
      for (const a of opts.addresses) { const { address, port: p } = hostPort(a, port); send(address, p, ask); }
      if (opts.multicast) send(echonetMulticast, port, ask);
    },
    poll() {
      for (const t of targets) {
        const epcs = polledProperties[t.eoj.slice(0, 4)] ?? [];
        send(t.address, t.port, { deoj: t.eoj, esv: ESV.Get, properties: epcs.map((epc) => ({ epc, edt: Buffer.alloc(0) })) });
      }
    },
    addObject(native) { targets.push(target(native)); },
    port: () => socket.address().port,
    async close() {
      stopPolling();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
  const stopPolling = scheduleEvery(opts.clock, opts.pollSeconds * 1000, () => client.poll());
  return client;
}
