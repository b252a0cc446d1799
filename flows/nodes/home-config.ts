/**
 * `mimamori-home`: the config node the other nodes share. It names one home
 * (its id) or all homes (`*`).
 */
import { idPattern } from '../../core/events.js';
import { bridgeFrom, type RedApi, type RedNode } from './red.js';
import { settingsKey, type FlowsApi } from '../api.js';

export const homeConfigType = 'mimamori-home';
export const allHomes = '*';

/** What the other nodes need from a home config node. */
export interface HomeScope {
  /** The one home, or undefined for all homes. */
  home?: string;
  matches(homeId: string): boolean;
}

interface HomeConfigNode extends RedNode { scope?: HomeScope }

export function registerHomeConfig(RED: RedApi): void {
  RED.nodes.registerType(homeConfigType, function (this: HomeConfigNode, config) {
    RED.nodes.createNode(this, config);
    const raw = typeof config.home === 'string' ? config.home.trim() : '';
    if (raw === allHomes || raw === '') {
      this.scope = { matches: () => true };
    } else if (idPattern.test(raw)) {
      this.scope = { home: raw, matches: (h) => h === raw };
    } else {
      this.error(`mimamori-home: "${raw}" is not a home id (lower-case letters, digits, "-" or "_")`);
    }
  });
}

/** The scope of the config node `id`, or undefined when it is missing or invalid. */
export function homeScope(RED: RedApi, id: unknown): HomeScope | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  return (RED.nodes.getNode(id) as HomeConfigNode | null)?.scope;
}

/** The home a message is about: the config's home, else `msg.home`, else `msg.payload.home`. */
export function homeOf(scope: HomeScope, msg: Record<string, unknown>): string | undefined {
  if (scope.home) return scope.home;
  const payload = msg.payload as Record<string, unknown> | undefined;
  const h = typeof msg.home === 'string' ? msg.home : typeof payload?.home === 'string' ? payload.home : undefined;
  return h !== undefined && idPattern.test(h) ? h : undefined;
}

/**
 * What every mimamori node needs: the hub bridge and the home(s) it is for.
 * When either is missing the node shows a red status and gets undefined.
 */
export function connectNode(RED: RedApi, node: RedNode, homeConfigId: unknown): { api: FlowsApi; scope: HomeScope } | undefined {
  const api = bridgeFrom(RED, settingsKey);
  const scope = homeScope(RED, homeConfigId);
  if (!api || !scope) {
    node.status({ fill: 'red', shape: 'ring', text: !api ? 'hub not connected' : 'no home' });
    return undefined;
  }
  return { api, scope };
}

/**
 * For one input message of an output node: the hub bridge and the home the
 * message is about, or an Error (prefixed with the node's type) for `done()`.
 */
export function messageTarget(nodeType: string, connected: { api: FlowsApi; scope: HomeScope } | undefined, msg: Record<string, unknown>): { api: FlowsApi; home: string } | Error {
  if (!connected) return new Error(`${nodeType}: not connected to the hub or no home configured`);
  const home = homeOf(connected.scope, msg);
  if (!home) return new Error(`${nodeType}: which home? Pick one on the node or send msg.home`);
  return { api: connected.api, home };
}
