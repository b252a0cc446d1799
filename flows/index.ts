/**
 * Node-RED inside the hub (issue 6): `createFlows` embeds Node-RED 4.1 with
 * the project's nodes (flows/nodes/), its files under `{dataDir}/node-red`,
 * the editor and admin API under one path of the hub's HTTP server, and the
 * editor open to operator accounts only. A broken flow file or a runtime
 * that fails to start is reported and never stops the hub.
 *
 * Node-RED's runtime is one per process: a second `createFlows` while one is
 * open is refused.
 *
 * @example
 * const flows = await createFlows({ dataDir, credentialSecret, logger, clock, server: app.server, api, auth });
 * // editor at http://127.0.0.1:8080/flows/
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { MimamoriError } from '../core/errors.js';
import type { FlowsApi } from './api.js';
import { expireEditorSessions } from './editor-sessions.js';
import { checkFlowFile, flowFileTypes } from './flow-file.js';
import { mountAt, type ConnectApp } from './http-mount.js';
import { writeNodePackage } from './node-package.js';
import { nodeRedSettings, type OperatorAuth } from './settings.js';

export type { AlertChange, AlertChangeKind, ContactGroup, FlowsApi, NotifyResult, RaiseResult } from './api.js';
export type { OperatorAuth } from './settings.js';
export { createFlowsBridge, type AlertRecord, type FlowsBridge, type FlowsBridgeOptions } from './bridge.js';
export { createOperatorVerifier } from './operator-auth.js';

export interface FlowsOptions {
  /** The hub's data folder; Node-RED's files go to `{dataDir}/node-red`. */
  dataDir: string;
  /** Encrypts the flows' credentials file (from configuration, never logged). */
  credentialSecret: string;
  logger: Logger;
  /** Names moved-aside broken flow files. */
  clock: Clock;
  /** The hub's HTTP server; the editor is served under `path` on it. */
  server: Server;
  /** Default `/flows`. */
  path?: string;
  /** The hub side of the custom nodes. */
  api: FlowsApi;
  /** Who may open the editor: operator accounts. */
  auth: OperatorAuth;
  /** Start with flows stopped (Node-RED's safe mode): the editor opens, nothing runs until a deploy. */
  safeMode?: boolean;
  /** Editor sign-in lifetime (default 12 h). */
  sessionExpirySeconds?: number;
}

export interface FlowsStatus {
  /** Node-RED started and its flows are running (false in safe mode or after a start failure). */
  running: boolean;
  /** Problems found at start, in words (bad flow file, missing node types, start failure). */
  problems: string[];
}

export interface Flows {
  /** The editor's path with a trailing slash, e.g. `/flows/`. */
  readonly path: string;
  status(): FlowsStatus;
  close(): Promise<void>;
}

interface NodeRedModule {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: ConnectApp;
  version(): string;
  nodes: { getType(type: string): unknown };
  /** The runtime's events: `flows:started` once every flow's nodes exist and listen. */
  events: { once(event: string, fn: () => void): void; removeListener(event: string, fn: () => void): void };
}

/** How long a start waits for the flows to be running before it goes on without that promise (real time). */
const flowsStartBoundMs = 60_000;

/** Types in a flow file that are Node-RED's structure, not nodes from a module. */
const structuralTypes = new Set(['tab', 'subflow', 'group', 'junction', 'comment']);
/** Marks Node-RED (a process-wide singleton) as taken by a running `createFlows`. */
const inUse = Symbol.for('mimamori.flows.inUse');

/**
 * Starts the embedded Node-RED; resolves once it is serving and its flows
 * are running — every node created and listening, so a reading the hub
 * passes on from now is seen by the flows — or once it has reported why
 * it cannot.
 */
export async function createFlows(opts: FlowsOptions): Promise<Flows> {
  if (!opts.dataDir || !opts.logger || !opts.clock || !opts.server || !opts.api || !opts.auth) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'flows need dataDir, logger, clock, server, api and auth');
  if (typeof opts.credentialSecret !== 'string' || opts.credentialSecret.length < 16) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'flows need a credential secret of at least 16 characters');
  const path = (opts.path ?? '/flows').replace(/\/+$/, '');
  if (!/^\/[a-z0-9/_-]+$/i.test(path)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `flows path must look like /flows, got ${JSON.stringify(opts.path)}`);
  const log = opts.logger;

  const RED = createRequire(import.meta.url)('node-red') as NodeRedModule & { [inUse]?: boolean };
  if (RED[inUse]) throw new MimamoriError('MIMAMORI_ERR_CONFLICT', 'Node-RED is already running in this process');
  RED[inUse] = true;

  const userDir = join(opts.dataDir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const flowFile = join(userDir, 'flows.json');
  const problems: string[] = [];

  const check = checkFlowFile(flowFile, opts.clock.now());
  if (!check.ok) {
    const problem = `flow file ${flowFile} is ${check.problem}; it was moved to ${check.movedTo} and Node-RED starts with no flows`;
    problems.push(problem);
    log.error({ part: 'flows', movedTo: check.movedTo }, problem);
  }

  const nodesDir = writeNodePackage(userDir, RED.version().replace(/-git$/, ''));
  const settings = nodeRedSettings({
    userDir, flowFile, credentialSecret: opts.credentialSecret, adminRoot: `${path}/`, nodesDir,
    logger: log, auth: opts.auth, api: opts.api, safeMode: opts.safeMode === true,
    sessionExpirySeconds: opts.sessionExpirySeconds ?? 12 * 3600,
  });

  let running = false;
  let started = false;
  let unmount: (() => void) | undefined;
  // RED.start() resolves before the flows start (Node-RED starts them right after): listen first, wait below.
  let onStarted!: () => void;
  const flowsStarted = new Promise<boolean>((resolve) => { onStarted = () => resolve(true); });
  try {
    RED.init(opts.server, settings);
    unmount = mountAt(opts.server, path, RED.httpAdmin, (err) => log.error({ part: 'flows', err }, 'Node-RED admin request failed'));
    RED.events.once('flows:started', onStarted);
    await RED.start();
    started = true;
    running = opts.safeMode !== true;
    const missing = flowFileTypes(flowFile).filter((t) => !structuralTypes.has(t) && !t.startsWith('subflow:') && !RED.nodes.getType(t));
    if (missing.length > 0) {
      running = false;
      const problem = `flows are not running: the flow file uses node types no installed module provides (${missing.join(', ')})`;
      problems.push(problem);
      log.error({ part: 'flows', missing }, problem);
    }
    if (running) {
      let bound: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([flowsStarted, new Promise<boolean>((resolve) => { bound = setTimeout(() => resolve(false), flowsStartBoundMs); })]);
      clearTimeout(bound);
      if (!inTime) log.warn({ part: 'flows', waitedMs: flowsStartBoundMs }, 'flows not started yet; the hub goes on (readings before they start are not seen by them)');
    }
    log.info({ part: 'flows', path: `${path}/`, running, safeMode: opts.safeMode === true }, 'Node-RED editor is served');
  } catch (err) {
    // The hub runs on without flows; the reason is in the log and in status().
    const problem = `Node-RED did not start: ${(err as Error).message}`;
    problems.push(problem);
    log.error({ part: 'flows', err }, problem);
  } finally {
    // Also when Node-RED failed to start: nothing is left waiting for its flows.
    RED.events.removeListener('flows:started', onStarted);
  }

  let closed = false;
  return {
    path: `${path}/`,
    status: () => ({ running: running && !closed, problems: [...problems] }),
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (started) {
          await RED.stop();
          await expireEditorSessions(userDir);
        }
      } catch (err) {
        log.warn({ part: 'flows', err }, 'error while stopping Node-RED');
      } finally {
        unmount?.();
        RED[inUse] = false;
      }
    },
  };
}
