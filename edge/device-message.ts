/**
 * Turns a simulated (or recorded) reading back into what the device itself
 * publishes: an event on `…/events` or a heartbeat on `…/heartbeat`.
 */
import type { DeviceEvent, DeviceHeartbeat, Reading } from '../core/events.js';
import { toLocalIso } from '../core/time.js';

export type DeviceMessage = { channel: 'events'; event: DeviceEvent } | { channel: 'heartbeat'; heartbeat: DeviceHeartbeat };

/** The device payload for `reading`, with heartbeat times written in the home's zone. */
export function toDeviceMessage(reading: Reading, timeZone: string): DeviceMessage {
  if (reading.kind === 'heartbeat') {
    const heartbeat: DeviceHeartbeat = { ts: toLocalIso(reading.at, timeZone) };
    if (reading.battery !== undefined) heartbeat.battery = reading.battery;
    if (reading.rssi !== undefined) heartbeat.rssi = reading.rssi;
    return { channel: 'heartbeat', heartbeat };
  }
  const { home: _home, device: _device, at: _at, ...event } = reading;
  return { channel: 'events', event };
}
