/**
 * The ECHONET Lite frame, written from the public specification
 * (ECHONET Lite Specification Version 1.14, Part II, chapter 3 "Frame format"),
 * https://echonet.jp/spec_v114_lite_en/ — format 1 (specified message format) only:
 *
 *   EHD1 0x10 | EHD2 0x81 | TID (2 bytes) | SEOJ (3) | DEOJ (3) | ESV (1) | OPC (1) | OPC × [EPC (1) | PDC (1) | EDT (PDC bytes)]
 *
 * An EOJ is class group code, class code, instance code (e.g. 0x02 0x88 0x01
 * for the first low-voltage smart electric energy meter). SetGet (0x6E and
 * its replies), which carries two property lists, is refused as unsupported.
 */

export const EHD1 = 0x10;
/** Format 1: the specified message format. */
export const EHD2 = 0x81;

/** Service codes (ESV) mimamori sends or reads (Part II, 3.2.5). */
export const ESV = {
  SetI: 0x60, SetC: 0x61, Get: 0x62, INF_REQ: 0x63,
  Set_Res: 0x71, Get_Res: 0x72, INF: 0x73, INFC: 0x74, INFC_Res: 0x7a,
  SetI_SNA: 0x50, SetC_SNA: 0x51, Get_SNA: 0x52, INF_SNA: 0x53,
} as const;
const knownEsv = new Set<number>(Object.values(ESV));
const setGet = new Set([0x6e, 0x7e, 0x5e]);

/** The node profile object (Part II, 6.11) and a controller, as the source of our requests. */
export const NODE_PROFILE = '0ef001';
export const CONTROLLER = '05ff01';
/** Node profile EPC 0xD6: self-node instance list S; 0xD5: instance list notification. */
export const EPC_INSTANCE_LIST = 0xd6;
export const EPC_INSTANCE_LIST_NOTIFICATION = 0xd5;

export interface Property { epc: number; edt: Buffer }

export interface EchonetFrame {
  tid: number;
  /** Source and destination objects as 6 lower-case hex digits, e.g. `028801`. */
  seoj: string;
  deoj: string;
  esv: number;
  properties: Property[];
}

export type Decoded = { ok: true; frame: EchonetFrame } | { ok: false; detail: string };

const eojPattern = /^[0-9a-f]{6}$/;

/** Encodes a frame; throws a RangeError on values that do not fit the format. */
export function encodeFrame(frame: EchonetFrame): Buffer {
  if (!Number.isInteger(frame.tid) || frame.tid < 0 || frame.tid > 0xffff) throw new RangeError(`TID must be 0–65535, got ${frame.tid}`);
  for (const eoj of [frame.seoj, frame.deoj]) if (!eojPattern.test(eoj)) throw new RangeError(`an EOJ is 6 hex digits, got ${JSON.stringify(eoj)}`);
  if (!knownEsv.has(frame.esv)) throw new RangeError(`unsupported ESV 0x${frame.esv.toString(16)}`);
  if (frame.properties.length > 255) throw new RangeError('at most 255 properties (OPC is one byte)');
  const parts: Buffer[] = [Buffer.from([EHD1, EHD2, frame.tid >> 8, frame.tid & 0xff]), Buffer.from(frame.seoj, 'hex'), Buffer.from(frame.deoj, 'hex'), Buffer.from([frame.esv, frame.properties.length])];
  for (const p of frame.properties) {
    if (!Number.isInteger(p.epc) || p.epc < 0 || p.epc > 0xff) throw new RangeError(`EPC must be one byte, got ${p.epc}`);
    if (p.edt.length > 255) throw new RangeError(`EDT of EPC 0x${p.epc.toString(16)} is longer than 255 bytes`);
    parts.push(Buffer.from([p.epc, p.edt.length]), p.edt);
  }
  return Buffer.concat(parts);
}

/** Decodes a datagram; every malformed frame is a `detail`, never an exception. */
export function decodeFrame(datagram: Buffer): Decoded {
  const bad = (detail: string): Decoded => ({ ok: false, detail });
  if (datagram.length < 12) return bad(`frame of ${datagram.length} bytes is shorter than the 12-byte header`);
  if (datagram[0] !== EHD1) return bad(`EHD1 is 0x${(datagram[0] as number).toString(16)}, not 0x10 (not ECHONET Lite)`);
  if (datagram[1] !== EHD2) return bad(`EHD2 is 0x${(datagram[1] as number).toString(16)}; only format 1 (0x81) is supported`);
  const tid = datagram.readUInt16BE(2);
  const seoj = datagram.subarray(4, 7).toString('hex');
  const deoj = datagram.subarray(7, 10).toString('hex');
  const esv = datagram[10] as number;
  if (setGet.has(esv)) return bad(`ESV 0x${esv.toString(16)} (SetGet) is not supported`);
  if (!knownEsv.has(esv)) return bad(`unknown ESV 0x${esv.toString(16)}`);
  const opc = datagram[11] as number;
  const properties: Property[] = [];
  let at = 12;
  for (let i = 0; i < opc; i++) {
    if (at + 2 > datagram.length) return bad(`OPC says ${opc} properties but the frame ends after ${i}`);
    const epc = datagram[at] as number;
    const pdc = datagram[at + 1] as number;
    if (at + 2 + pdc > datagram.length) return bad(`EPC 0x${epc.toString(16)} says PDC ${pdc} but only ${datagram.length - at - 2} bytes follow`);
    properties.push({ epc, edt: Buffer.from(datagram.subarray(at + 2, at + 2 + pdc)) });
    at += 2 + pdc;
  }
  if (at !== datagram.length) return bad(`${datagram.length - at} bytes left over after ${opc} properties`);
  return { ok: true, frame: { tid, seoj, deoj, esv, properties } };
}

/** The EOJs listed in a node profile's instance list (EPC 0xD5 / 0xD6): a count, then 3 bytes each. */
export function decodeInstanceList(edt: Buffer): string[] | undefined {
  if (edt.length < 1) return undefined;
  const n = edt[0] as number;
  if (edt.length < 1 + 3 * Math.min(n, 84)) return undefined;
  const out: string[] = [];
  for (let i = 0; i < Math.min(n, 84); i++) out.push(edt.subarray(1 + 3 * i, 4 + 3 * i).toString('hex'));
  return out;
}

/** The inverse of decodeInstanceList. */
export function encodeInstanceList(eojs: readonly string[]): Buffer {
  return Buffer.concat([Buffer.from([eojs.length]), ...eojs.map((e) => Buffer.from(e, 'hex'))]);
}
