/**
 * The hub side of a bridge test: a real mosquitto as the home broker, the
 * hub's broker with home `h1` and these devices provisioned, and the hub's
 * ingest collecting what reaches it.
 */
import type { Test } from 'tap';
import type { Clock } from '../../core/clock.js';
import type { HomeEvent, Reading } from '../../core/events.js';
import { silentLogger } from '../../core/logger.js';
import { provisionDevice, provisionService } from '../../broker/device-credentials.js';
import { createIngest, type Ingest } from '../../broker/ingest.js';
import { startBroker } from '../broker/helpers.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';

export interface BridgeHub {
  mosquitto: Mosquitto;
  h: Awaited<ReturnType<typeof startBroker>>;
  ingest: Ingest;
  /** Device secrets by device id. */
  secrets: Record<string, string>;
  /** Every reading the ingest took in, in order. */
  got: Reading[];
  events(): HomeEvent[];
}

/** `devices`: device id → kind. `ingestClock`: what the ingest bounds event time against (default the broker's virtual clock). */
export async function startBridgeHub(t: Test, devices: Record<string, string>, o: { ingestClock?: Clock } = {}): Promise<BridgeHub> {
  const mosquitto = await startMosquitto(t);
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const secrets: Record<string, string> = {};
  for (const [device, kind] of Object.entries(devices)) secrets[device] = (await provisionDevice(h.store, { homeId: 'h1', deviceId: device, kind })).secret;
  const svc = await provisionService(h.store, 'ingest');
  const ingest = await createIngest({ url: h.url(), username: svc.username, password: svc.secret, store: h.store, logger: silentLogger(), clock: o.ingestClock ?? h.clock });
  t.teardown(() => ingest.close());
  const got: Reading[] = [];
  ingest.readings.subscribe((r) => got.push(r));
  return { mosquitto, h, ingest, secrets, got, events: () => got.filter((r): r is HomeEvent => r.kind !== 'heartbeat') };
}
