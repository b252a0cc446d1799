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

/** What an installer says about one device to map (the CLI's `--adapter/--native/--kind/...`, the operator's onboarding form). */
export interface MapEntryInput {
  adapter: string; native: string; device: string; kind: string;
  room?: string | undefined; door?: string | undefined;
  /** kettle / water / gas: switch-on and switch-off levels (W or L/min). */
  threshold?: { on: number; off: number } | undefined;
}

/** The field of a map entry a problem is about, as the installer named it (`kind` is the entry's `role`). */
export type MapEntryField = 'adapter' | 'native' | 'device' | 'kind' | 'room' | 'door' | 'threshold';
export interface MapEntryIssue { field: MapEntryField; message: string }

/**
 * Checks one device to map and builds its map entry (without the secret), or names every problem by field.
 * One check for `mimamori provision device --adapter … --native …` and the operator's onboarding page.
 */
export function checkMapEntry(input: MapEntryInput): { ok: true; entry: Omit<MappedDevice, 'secret'> } | { ok: false; issues: MapEntryIssue[] } {
  const entry = {
    adapter: input.adapter, native: input.native, device: input.device, role: input.kind,
    ...(input.room ? { room: input.room } : {}), ...(input.door ? { door: input.door } : {}), ...(input.threshold ? { threshold: input.threshold } : {}),
  };
  const r = mappedDeviceSchema.safeParse(entry);
  const issues: MapEntryIssue[] = r.success ? [] : r.error.issues.map((i) => {
    const key = String(i.path[0] ?? 'native');
    const field = (key === 'role' ? 'kind' : key) as MapEntryField;
    return { field, message: i.message };
  });
  if (input.threshold && !['kettle', 'water', 'gas'].includes(input.kind)) issues.push({ field: 'threshold', message: 'a threshold is for a kettle plug or a water / gas flow only' });
  if (!r.success || issues.length > 0) return { ok: false, issues };
  return { ok: true, entry: r.data };
}

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
  /**
   * The bridge's own login at the hub (a device of kind `bridge`): with it, and the hub's web address, the bridge
   * reports the devices nobody mapped to the operator's onboarding page and takes the mappings made there.
   */
  bridge: z.strictObject({
    device: idSchema,
    secret: z.string().min(1).optional(),
    /** How often the bridge reports to the hub (seconds; also at once when a new unmapped device appears). */
    reportSeconds: z.number().min(5).max(3600).default(60),
  }).optional(),
  devices: z.array(mappedDeviceSchema).default([]),
}).superRefine((map, ctx) => {
  if (map.devices.length === 0 && !map.bridge) ctx.addIssue({ code: 'custom', path: ['devices'], message: 'map at least one device (or give the bridge its own login, "bridge", to map them on the operator page)' });
  if (map.bridge && map.devices.some((d) => d.device === map.bridge?.device)) ctx.addIssue({ code: 'custom', path: ['bridge', 'device'], message: `${map.bridge.device} is the bridge's own login, not a sensor` });
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
