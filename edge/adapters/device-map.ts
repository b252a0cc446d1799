/**
 * The home's device map: which native device (a zigbee2mqtt friendly name, a
 * Shelly or Tasmota id, an ECHONET Lite node and object) is which mimamori
 * device, in which role and room. Installers write it (docs/devices.md); it is
 * validated once, with every problem named.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MimamoriError } from '../../core/errors.js';
import { eventKinds, idSchema } from '../../core/events.js';

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const ecosystems = ['zigbee2mqtt', 'shelly', 'tasmota', 'echonet'] as const;
export type Ecosystem = (typeof ecosystems)[number];

/** An on/off pair with hysteresis: on at or above `on`, off at or below `off`. */
const hysteresis = z.strictObject({ on: z.number().nonnegative(), off: z.number().nonnegative() })
  .refine((h) => h.on > h.off, { message: '"on" must be above "off" (the gap between them stops flapping)' });

/** ECHONET Lite native ids: `<address>[:<port>]/<EOJ as 6 hex digits>`, e.g. `192.168.1.30/028801`. */
export const echonetNativePattern = /^([0-9.]+|\[[0-9a-f:]+\])(?::(\d{1,5}))?\/([0-9a-f]{6})$/i;

export const mappedDeviceSchema = z.strictObject({
  adapter: z.enum(ecosystems),
  /** The ecosystem's own name for the device (friendly name, device id, MQTT topic, `<ip>/<eoj>`). */
  native: z.string().min(1).max(200),
  /** The mimamori device id (as provisioned with `mimamori provision device`). */
  device: idSchema,
  /** What the device is in this home; decides which canonical event its facts become. */
  role: z.enum(eventKinds),
  room: z.string().min(1).max(64).optional(),
  /** For door contacts: which door (`front`, `back`, …). */
  door: z.string().min(1).max(64).optional(),
  /** The device secret from provisioning. Keep this file readable by the bridge only. */
  secret: z.string().min(1).optional(),
  /** kettle: watts (default on ≥ 500 W, off ≤ 50 W); water/gas from flow: litres per minute (default on ≥ 0.5, off ≤ 0.1). */
  threshold: hysteresis.optional(),
  /** power: send a new reading only when it moved by at least this many watts (default 20). */
  minDeltaWatts: z.number().nonnegative().optional(),
  /** water/gas from a pulse counter: litres per pulse (default 1). */
  litresPerPulse: z.number().positive().optional(),
  /** button: which native action means which press (default single/hold/long → help, double → ok). */
  actions: z.record(z.string().min(1).max(64), z.enum(['help', 'ok'])).optional(),
  /** door: the contact reads the other way round (e.g. a normally-closed reed on a Shelly input). */
  invertContact: z.boolean().optional(),
}).superRefine((d, ctx) => {
  if (d.adapter === 'echonet' && !echonetNativePattern.test(d.native)) {
    ctx.addIssue({ code: 'custom', path: ['native'], message: 'an ECHONET Lite device is "<ip address>[:port]/<class group><class><instance>", e.g. "192.168.1.30/028801"' });
  }
});
export type MappedDevice = z.infer<typeof mappedDeviceSchema>;

export const deviceMapSchema = z.strictObject({
  home: idSchema,
  /** The home's IANA time zone; event times are written in it. */
  timezone: z.string().min(1).refine(isTimeZone, { message: 'an IANA time zone such as "Asia/Tokyo"' }).default('Asia/Tokyo'),
  /** zigbee2mqtt's `mqtt.base_topic` (default `zigbee2mqtt`). */
  zigbee2mqttBaseTopic: z.string().min(1).regex(/^[^#+]+$/, 'no MQTT wildcards').default('zigbee2mqtt'),
  /** A device that reports but sends no event is still heard from at least this often (minutes). */
  heartbeatMinutes: z.number().min(1).max(1440).default(10),
  echonet: z.strictObject({
    /** ECHONET Lite nodes to ask (unicast discovery); multicast 224.0.23.0 is tried too unless `multicast: false`. */
    addresses: z.array(z.string().min(1)).default([]),
    port: z.number().int().min(1).max(65_535).default(3610),
    multicast: z.boolean().default(true),
    pollSeconds: z.number().min(1).max(3600).default(60),
  }).optional(),
  devices: z.array(mappedDeviceSchema).min(1, 'map at least one device'),
}).superRefine((map, ctx) => {
  const ids = new Set<string>();
  const natives = new Set<string>();
  map.devices.forEach((d, i) => {
    if (ids.has(d.device)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'device'], message: `device ${d.device} is mapped twice` });
    ids.add(d.device);
    const key = `${d.adapter}\u0000${d.native}`;
    if (natives.has(key)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'native'], message: `${d.adapter} device ${JSON.stringify(d.native)} is mapped twice` });
    natives.add(key);
  });
});
export type DeviceMap = z.infer<typeof deviceMapSchema>;
export type DeviceMapInput = z.input<typeof deviceMapSchema>;

/** Validates a device map, naming every problem (`MIMAMORI_ERR_CONFIG`). */
export function parseDeviceMap(input: unknown): DeviceMap {
  const r = deviceMapSchema.safeParse(input);
  if (!r.success) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `device map: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** Reads and validates a device map file (JSON). */
export function loadDeviceMap(file: string): DeviceMap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `device map ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `device map ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseDeviceMap(json);
}
