/**
 * A development-only ECHONET Lite node on loopback UDP: it answers Get with
 * Get_Res (or Get_SNA for properties it lacks, with PDC 0), lists its objects
 * in its node profile (0x0EF001, EPC 0xD6), and sends INF when told to —
 * enough to stand in for a smart meter, an air conditioner or a water heater.
 */
import { createSocket, type Socket } from 'node:dgram';
import { ESV, EPC_INSTANCE_LIST, NODE_PROFILE, decodeFrame, encodeFrame, encodeInstanceList, type Property } from '../../edge/adapters/echonet-frame.js';

export interface EchonetEmulator {
  port: number;
  /** Sets a property (its EDT bytes). */
  set(eoj: string, epc: number, edt: Buffer): void;
  /** Sends an INF of these properties to a controller. */
  notify(eoj: string, epcs: number[], toPort: number): Promise<void>;
  /** Sends arbitrary bytes to a controller (for garbage tests). */
  sendRaw(bytes: Buffer, toPort: number): Promise<void>;
  /** Get requests answered so far, per object. */
  gets(eoj: string): number;
  close(): Promise<void>;
}

/** Starts a node with these objects (EOJ → EPC → EDT) on 127.0.0.1, a free port. */
export async function startEchonetEmulator(objects: Record<string, Record<number, Buffer>>): Promise<EchonetEmulator> {
  const props = new Map(Object.entries(objects).map(([eoj, p]) => [eoj, new Map(Object.entries(p).map(([epc, edt]) => [Number(epc), edt]))]));
  const getCounts = new Map<string, number>();
  const socket: Socket = createSocket('udp4');
  let tid = 0;
  const send = (bytes: Buffer, port: number) => new Promise<void>((resolve, reject) => socket.send(bytes, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));

  socket.on('message', (msg, rinfo) => {
    const decoded = decodeFrame(msg);
    if (!decoded.ok || decoded.frame.esv !== ESV.Get) return;
    const f = decoded.frame;
    let answer: Property[];
    let ok = true;
    if (f.deoj === NODE_PROFILE) {
      answer = f.properties.map((p) => (p.epc === EPC_INSTANCE_LIST ? { epc: p.epc, edt: encodeInstanceList([...props.keys()]) } : (ok = false, { epc: p.epc, edt: Buffer.alloc(0) })));
    } else {
      const object = props.get(f.deoj);
      if (!object) return; // no such object: a real node stays silent
      getCounts.set(f.deoj, (getCounts.get(f.deoj) ?? 0) + 1);
      answer = f.properties.map((p) => {
        const edt = object.get(p.epc);
        if (edt === undefined) ok = false;
        return { epc: p.epc, edt: edt ?? Buffer.alloc(0) };
      });
    }
    void send(encodeFrame({ tid: f.tid, seoj: f.deoj, deoj: f.seoj, esv: ok ? ESV.Get_Res : ESV.Get_SNA, properties: answer }), rinfo.port);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));

  return {
    port: socket.address().port,
    set(eoj, epc, edt) {
      const object = props.get(eoj);
      if (!object) throw new Error(`no object ${eoj}`);
      object.set(epc, edt);
    },
    async notify(eoj, epcs, toPort) {
      const object = props.get(eoj);
      if (!object) throw new Error(`no object ${eoj}`);
      tid = (tid + 1) & 0xffff;
      await send(encodeFrame({ tid, seoj: eoj, deoj: '05ff01', esv: ESV.INF, properties: epcs.map((epc) => ({ epc, edt: object.get(epc) ?? Buffer.alloc(0) })) }), toPort);
    },
    sendRaw: send,
    gets: (eoj) => getCounts.get(eoj) ?? 0,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
