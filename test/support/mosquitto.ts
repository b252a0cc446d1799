/**
 * A real mosquitto (Debian's) on a free loopback port with a temp config: the
 * home broker that zigbee2mqtt, Shelly and Tasmota publish to. Anonymous
 * logins, sessions kept in memory for as long as it runs. The same stand-in
 * as the demo street's (edge/adapters/local-mosquitto.ts), tied to a test.
 */
import { startLocalMosquitto, type LocalMosquitto } from '../../edge/adapters/local-mosquitto.js';
import { tempDir, type Teardown } from './wait.js';

export const mosquittoPath = process.env.MIMAMORI_MOSQUITTO_PATH ?? '/usr/sbin/mosquitto';

export type Mosquitto = LocalMosquitto;

/** Starts mosquitto for this test; stopped (and its folder removed) when the test ends. */
export async function startMosquitto(t: Teardown): Promise<Mosquitto> {
  const m = await startLocalMosquitto({ dir: tempDir(t, 'mimamori-mosquitto-'), mosquittoPath });
  t.teardown(m.stop);
  return m;
}
