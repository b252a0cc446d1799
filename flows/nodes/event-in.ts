/**
 * `mimamori event in`: canonical sensor events as they reach the rule engine,
 * filtered by home and kind. One message per event: `payload` is the event
 * (with `home`, `device` and `at`), `topic` is `{home}/{device}/{kind}`.
 */
import type { Reading } from '../../core/events.js';
import { connectNode } from './home-config.js';
import type { RedApi, RedNode } from './red.js';

export const eventInType = 'mimamori event in';

/** The kinds a node listens to: a list, or every event kind (not heartbeats) when empty. */
export function kindFilter(kinds: unknown): (r: Reading) => boolean {
  const list = Array.isArray(kinds) ? kinds.filter((k): k is string => typeof k === 'string' && k !== '') : typeof kinds === 'string' && kinds !== '' ? kinds.split(',').map((k) => k.trim()) : [];
  if (list.length === 0) return (r) => r.kind !== 'heartbeat';
  const set = new Set(list);
  return (r) => set.has(r.kind);
}

export function registerEventIn(RED: RedApi): void {
  RED.nodes.registerType(eventInType, function (this: RedNode, config) {
    RED.nodes.createNode(this, config);
    const connected = connectNode(RED, this, config.home);
    if (!connected) return;
    const { api, scope } = connected;
    const wanted = kindFilter(config.kinds);
    let count = 0;
    const off = api.onReading((r) => {
      if (!scope.matches(r.home) || !wanted(r)) return;
      count += 1;
      this.status({ fill: 'green', shape: 'dot', text: `${r.kind} (${count})` });
      this.send({ topic: `${r.home}/${r.device}/${r.kind}`, payload: { ...r }, home: r.home, device: r.device, kind: r.kind });
    });
    this.status({ fill: 'green', shape: 'ring', text: 'listening' });
    this.on('close', (_removed, done) => { off(); done(); });
  });
}
