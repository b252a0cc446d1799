/**
 * `mimamori alert in`: alert lifecycle changes (opened, acknowledged,
 * resolved) for a home or all homes. `payload` is the change, `topic` is
 * `alert/{change}`.
 */
import { alertChangeKinds, type AlertChangeKind } from '../api.js';
import { connectNode } from './home-config.js';
import type { RedApi, RedNode } from './red.js';

export const alertInType = 'mimamori alert in';

export function registerAlertIn(RED: RedApi): void {
  RED.nodes.registerType(alertInType, function (this: RedNode, config) {
    RED.nodes.createNode(this, config);
    const connected = connectNode(RED, this, config.home);
    if (!connected) return;
    const { api, scope } = connected;
    // Each change is a checkbox in the editor; a node saved without them hears every change.
    const picked = alertChangeKinds.filter((k) => config[k] === true);
    const wanted = new Set<AlertChangeKind>(picked.length > 0 ? picked : alertChangeKinds);
    const off = api.onAlertChange((c) => {
      if (!scope.matches(c.homeId) || !wanted.has(c.change)) return;
      this.status({ fill: c.change === 'resolved' ? 'green' : 'yellow', shape: 'dot', text: `${c.change}: ${c.rule}` });
      this.send({ topic: `alert/${c.change}`, payload: { ...c }, home: c.homeId });
    });
    this.status({ fill: 'green', shape: 'ring', text: 'listening' });
    this.on('close', (_removed, done) => { off(); done(); });
  });
}
