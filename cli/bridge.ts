/**
 * `mimamori bridge`: run the device bridge of one home (docs/devices.md), or
 * check a device map; and the device-map entry `mimamori provision device
 * --adapter … --native …` prints for the installer to paste into the map.
 */
import { parseArgs } from 'node:util';
import { systemClock } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { checkMapEntry, createDeviceBridge, ecosystems, loadDeviceMap, type DeviceMap, type MappedDevice } from '../edge/index.js';
import type { CliIo } from './cli-io.js';

/** The map entry for a device being provisioned with `--adapter` and `--native`; validated before anything is stored. */
export function deviceMapEntry(input: { adapter?: string; native?: string; device: string; kind: string; room?: string; door?: string }): Omit<MappedDevice, 'secret'> | undefined {
  if (input.adapter === undefined && input.native === undefined) return undefined;
  if (input.adapter === undefined || input.native === undefined) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', '--adapter and --native go together');
  const r = checkMapEntry({ adapter: input.adapter, native: input.native, device: input.device, kind: input.kind, room: input.room, door: input.door });
  if (!r.ok) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `${r.issues.map((i) => `--${i.field}: ${i.message}`).join('; ')} (adapters: ${ecosystems.join(', ')})`);
  return r.entry;
}

/** What a checked map says, for the installer. */
function describeMap(map: DeviceMap): string[] {
  return map.devices.map((d) => `${d.device}\t${d.role}\t${d.adapter}\t${d.native}${d.room ? `\t${d.room}` : ''}${d.secret ? '' : '\t(no secret in the map: pass it in MIMAMORI_BRIDGE_SECRETS)'}`);
}

/**
 * mimamori bridge check --map FILE
 * mimamori bridge run --map FILE --hub URL [--local URL] [--state DIR] [--ca FILE] [--web URL]
 */
export async function bridgeCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [what, ...rest] = args;
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: rest, strict: true, options: { map: { type: 'string' }, hub: { type: 'string' }, local: { type: 'string' }, state: { type: 'string' }, ca: { type: 'string' }, web: { type: 'string' } } }).values;
  } catch (err) {
    io.err(`mimamori bridge: ${(err as Error).message}`);
    return 2;
  }
  if ((what !== 'check' && what !== 'run') || !values.map) {
    io.err('usage: mimamori bridge check --map FILE | mimamori bridge run --map FILE --hub URL [--local URL] [--state DIR] [--ca FILE] [--web URL]');
    return 2;
  }
  let map: DeviceMap;
  try {
    map = loadDeviceMap(values.map);
  } catch (err) {
    io.err(`mimamori bridge: ${(err as Error).message}`);
    return 1;
  }
  if (what === 'check') {
    io.out(`home ${map.home}: ${map.devices.length} device(s)${map.bridge ? `; the bridge reports to the hub as ${map.home}/${map.bridge.device}` : ''}`);
    for (const line of describeMap(map)) io.out(line);
    return 0;
  }
  if (!values.hub) { io.err('mimamori bridge run: --hub URL is required (e.g. mqtts://hub.local:8883)'); return 2; }
  let secrets: Record<string, string> = {};
  if (env.MIMAMORI_BRIDGE_SECRETS) {
    try { secrets = JSON.parse(env.MIMAMORI_BRIDGE_SECRETS) as Record<string, string>; } catch { io.err('mimamori bridge: MIMAMORI_BRIDGE_SECRETS must be a JSON object {"device": "secret"}'); return 1; }
  }
  const logger = createLogger({ level: env.MIMAMORI_LOG_LEVEL ?? 'info' });
  try {
    const bridge = await createDeviceBridge({
      map, hubUrl: values.hub, secrets, stateDir: values.state ?? `data/bridge/${map.home}`, clock: systemClock, logger,
      ...(values.local ? { localUrl: values.local } : {}), ...(values.ca ? { ca: values.ca } : {}), ...(values.web ? { webUrl: values.web } : {}),
    });
    logger.info({ devices: map.devices.length }, 'mimamori bridge running — Ctrl-C to stop');
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
    const unmapped = bridge.unmapped();
    if (unmapped.length > 0) io.err(`devices seen but not mapped:\n${unmapped.map((u) => `  ${u.adapter}\t${u.native}\t${u.messages} message(s)`).join('\n')}`);
    await bridge.close();
    return 0;
  } catch (err) {
    io.err(`mimamori bridge: ${(err as Error).message}`);
    return 1;
  }
}
