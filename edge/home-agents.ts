/**
 * One edge agent per device of a home, as a real installation has (each
 * sensor bridge authenticates as its own device). Used by the demo street to
 * feed simulated homes into the hub.
 */
import { join } from 'node:path';
import type { Reading } from '../core/events.js';
import { MimamoriError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type mqtt from 'mqtt';
import { createEdgeAgent, type EdgeAgent } from './agent.js';
import { toDeviceMessage } from './device-message.js';

export interface HomeAgentsOptions {
  url: string;
  home: string;
  devices: Array<{ device: string; secret: string }>;
  /** Each device's queue lives in `{queueRoot}/{home}/{device}`. */
  queueRoot: string;
  /** Time zone for heartbeat timestamps (default Asia/Tokyo). */
  timezone?: string;
  ca?: string;
  logger: Logger;
  clientOptions?: Partial<mqtt.IClientOptions>;
}

export interface HomeAgents {
  agents: ReadonlyMap<string, EdgeAgent>;
  /** Starts the agent of one more device (a device mapped while the bridge runs). */
  add(device: { device: string; secret: string }): Promise<void>;
  /** Queues a reading on its device's agent; readings of unknown devices are refused. */
  publishReading(reading: Reading): Promise<void>;
  pending(): number;
  /** True when every device is connected. */
  connected(): boolean;
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** Starts an agent for every device of `home`. */
export async function createHomeAgents(opts: HomeAgentsOptions): Promise<HomeAgents> {
  const timezone = opts.timezone ?? 'Asia/Tokyo';
  const agents = new Map<string, EdgeAgent>();
  const start = async (d: { device: string; secret: string }) => {
    agents.set(d.device, await createEdgeAgent({
      url: opts.url, home: opts.home, device: d.device, secret: d.secret,
      queueDir: join(opts.queueRoot, opts.home, d.device),
      logger: opts.logger, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.clientOptions ? { clientOptions: opts.clientOptions } : {}),
    }));
  };
  try {
    for (const d of opts.devices) await start(d);
  } catch (err) {
    await Promise.all([...agents.values()].map((a) => a.close().catch(() => undefined)));
    throw err;
  }
  return {
    agents,
    async add(d) {
      if (agents.has(d.device)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `device ${d.device} already has an agent`);
      await start(d);
    },
    async publishReading(reading) {
      if (reading.home !== opts.home) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `reading of home ${reading.home} sent to agents of ${opts.home}`);
      const agent = agents.get(reading.device);
      if (!agent) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `no agent for device ${reading.device}`);
      const msg = toDeviceMessage(reading, timezone);
      if (msg.channel === 'heartbeat') await agent.publishHeartbeat(msg.heartbeat);
      else await agent.publishEvent(msg.event);
    },
    pending: () => [...agents.values()].reduce((n, a) => n + a.pending(), 0),
    connected: () => [...agents.values()].every((a) => a.connected()),
    async drained() { await Promise.all([...agents.values()].map((a) => a.drained())); },
    async close() { await Promise.all([...agents.values()].map((a) => a.close())); },
  };
}
