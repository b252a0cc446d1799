/**
 * The small part of Node-RED's node API the project's nodes use (Node-RED
 * ships no TypeScript types; @types/node-red would drag in express types).
 */
import type { FlowsApi } from '../api.js';

export interface NodeMessage { _msgid?: string; topic?: string; payload?: unknown; [key: string]: unknown }

export interface NodeStatus { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string }

export interface RedNode {
  id: string;
  on(event: 'input', fn: (msg: NodeMessage, send: (msg: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => void): void;
  on(event: 'close', fn: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | Array<NodeMessage | null>): void;
  status(s: NodeStatus): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(text: unknown): void;
  log(text: unknown): void;
}

/** A node's saved properties (from the editor). */
export type NodeConfig = Record<string, unknown> & { id: string; type: string; name?: string };

export interface RedApi {
  nodes: {
    createNode(node: object, config: NodeConfig): void;
    registerType(type: string, ctor: (this: RedNode, config: NodeConfig) => void, opts?: object): void;
    getNode(id: string): unknown;
  };
  settings: Record<string, unknown>;
}

/** The hub bridge from Node-RED's settings; missing only when the runtime was started without it. */
export function bridgeFrom(RED: RedApi, settingsKey: string): FlowsApi | undefined {
  return RED.settings[settingsKey] as FlowsApi | undefined;
}
