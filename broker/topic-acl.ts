/**
 * Topic access rules, as pure functions of who is asking and for what topic.
 *
 * | who        | PUBLISH                                             | SUBSCRIBE                         |
 * | ---------- | --------------------------------------------------- | --------------------------------- |
 * | device     | its own `.../events` and `.../heartbeat`            | its own `.../commands`            |
 * | service    | any device's `.../commands`, `mimamori/v1/hub/...`   | anything under `mimamori/v1/`     |
 *
 * Everything else is denied, including wildcard publishes and `$SYS`.
 */
import { commandTopic, eventTopic, heartbeatTopic, parseDeviceTopic, topicRoot } from '../core/topics.js';
import type { Identity } from './device-credentials.js';

export type AclDecision = { allowed: true } | { allowed: false; reason: string };

const allow: AclDecision = { allowed: true };
const deny = (reason: string): AclDecision => ({ allowed: false, reason });

const hasWildcard = (topic: string): boolean => topic.includes('+') || topic.includes('#');

/** Whether a topic filter is well formed (MQTT-4.7.1-2, MQTT-4.7.1-3). */
function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

/** May `who` publish to `topic`? */
export function canPublish(who: Identity, topic: string): AclDecision {
  if (hasWildcard(topic)) return deny('wildcards are not allowed in a publish topic');
  if (who.type === 'device') {
    if (topic === eventTopic(who.home, who.device) || topic === heartbeatTopic(who.home, who.device)) return allow;
    return deny('a device may publish only to its own events and heartbeat topics');
  }
  if (parseDeviceTopic(topic)?.channel === 'commands') return allow;
  if (topic.startsWith(`${topicRoot}/hub/`) && topic.length > `${topicRoot}/hub/`.length) return allow;
  return deny('a service may publish only to device commands and under mimamori/v1/hub/');
}

/** May `who` subscribe to `filter`? */
export function canSubscribe(who: Identity, filter: string): AclDecision {
  if (!isValidFilter(filter)) return deny('malformed topic filter');
  if (who.type === 'device') {
    if (filter === commandTopic(who.home, who.device)) return allow;
    return deny('a device may subscribe only to its own commands topic');
  }
  if (filter.startsWith(`${topicRoot}/`)) return allow;
  return deny('a service may subscribe only under mimamori/v1/');
}
