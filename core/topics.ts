/**
 * The MQTT topic contract. Every device lives under
 * `mimamori/v1/homes/{home}/devices/{device}/`.
 */
import { idPattern } from './events.js';

export const topicRoot = 'mimamori/v1';

export type Channel = 'events' | 'heartbeat' | 'commands';

/** The prefix a device may publish under (and nothing else). */
export function devicePrefix(home: string, device: string): string {
  return `${topicRoot}/homes/${home}/devices/${device}/`;
}
export const eventTopic = (home: string, device: string): string => `${devicePrefix(home, device)}events`;
export const heartbeatTopic = (home: string, device: string): string => `${devicePrefix(home, device)}heartbeat`;
export const commandTopic = (home: string, device: string): string => `${devicePrefix(home, device)}commands`;

/** Subscriptions used by the hub's own ingest service. */
export const allEventsFilter = `${topicRoot}/homes/+/devices/+/events`;
export const allHeartbeatsFilter = `${topicRoot}/homes/+/devices/+/heartbeat`;

export interface DeviceTopic { home: string; device: string; channel: Channel }

/** Splits a device topic; returns undefined for anything that is not one. */
export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 7 || `${parts[0]}/${parts[1]}` !== topicRoot || parts[2] !== 'homes' || parts[4] !== 'devices') return undefined;
  const [, , , home, , device, channel] = parts as [string, string, string, string, string, string, string];
  if (!idPattern.test(home) || !idPattern.test(device)) return undefined;
  if (channel !== 'events' && channel !== 'heartbeat' && channel !== 'commands') return undefined;
  return { home, device, channel };
}
