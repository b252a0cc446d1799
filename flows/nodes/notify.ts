/**
 * `mimamori notify`: sends a message to a home's contact group (family,
 * caregivers, …) through the notifier's channels, each person in their own
 * language. Sends are rate limited per home so a looping flow cannot flood
 * anyone's phone.
 */
import { contactGroups, type ContactGroup } from '../api.js';
import { localized } from './finding-out.js';
import { connectNode, messageTarget } from './home-config.js';
import type { RedApi, RedNode } from './red.js';

export const notifyType = 'mimamori notify';

export function registerNotify(RED: RedApi): void {
  RED.nodes.registerType(notifyType, function (this: RedNode, config) {
    RED.nodes.createNode(this, config);
    const connected = connectNode(RED, this, config.home);
    this.on('input', (msg, send, done) => {
      const target = messageTarget(notifyType, connected, msg);
      if (target instanceof Error) { done(target); return; }
      const { api, home } = target;
      // msg.group, when sent, replaces the node's: a wrong one is an error, not a message to someone else.
      const wanted = msg.group !== undefined ? msg.group : config.group;
      const group = typeof wanted === 'string' && (contactGroups as readonly string[]).includes(wanted) ? wanted as ContactGroup : undefined;
      if (!group) { done(new Error(`mimamori notify: group must be one of ${contactGroups.join(', ')}`)); return; }
      const text = localized(msg.payload) ?? localized({ en: config.textEn, ja: config.textJa });
      if (!text) { done(new Error('mimamori notify: no text: set it on the node or send msg.payload as { ja, en } or a string')); return; }
      api.notify(home, group, text).then((result) => {
        this.status(result.limited ? { fill: 'red', shape: 'ring', text: 'rate limited' } : { fill: result.failed > 0 ? 'yellow' : 'green', shape: 'dot', text: `sent ${result.sent}` });
        send({ ...msg, payload: result, home, group });
        done();
      }, (err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
    });
  });
}
