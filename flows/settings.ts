/**
 * The embedded Node-RED's settings: files under the hub's data folder, the
 * editor under one path and protected by operator accounts, nothing that
 * reaches the network by itself (no telemetry, update checks, palette or npm
 * installs), and logs through the hub's logger.
 */
import type { Logger } from '../core/logger.js';
import { settingsKey, type FlowsApi } from './api.js';

export interface OperatorAuth {
  /** Whether `username` / `password` sign in an operator account. */
  verifyOperator(username: string, password: string): Promise<boolean>;
  /** Whether `username` is (still) an operator; checked on every editor request's token. Default: trust the token. */
  isOperator?(username: string): Promise<boolean>;
  /**
   * The operator a pass from the web app stands for (dashboards/editor-pass.ts), or null.
   * Node-RED asks on every editor request and socket whose token is not one of its own sessions.
   */
  editorPass?(pass: string): Promise<string | null>;
}

export interface SettingsInput {
  userDir: string;
  flowFile: string;
  credentialSecret: string;
  /** With a trailing slash, e.g. `/flows/`. */
  adminRoot: string;
  nodesDir: string;
  logger: Logger;
  auth: OperatorAuth;
  api: FlowsApi;
  safeMode: boolean;
  sessionExpirySeconds: number;
}

/** Node-RED's numeric log levels. */
const nodeRedLevels: Record<number, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'> = { 10: 'fatal', 20: 'error', 30: 'warn', 40: 'info', 50: 'debug', 60: 'trace' };

interface NodeRedLogMessage { level: number; msg?: unknown; type?: string; id?: string; name?: string }

/** Forwards Node-RED's log lines to the hub's logger (audit and metric lines are dropped: they name users). */
export function logHandler(logger: Logger): (m: NodeRedLogMessage) => void {
  return (m) => {
    const level = nodeRedLevels[m.level];
    if (!level) return;
    const text = m.msg instanceof Error ? m.msg.message : typeof m.msg === 'string' ? m.msg : JSON.stringify(m.msg);
    const fields: Record<string, unknown> = { part: 'node-red' };
    if (m.type) fields.nodeType = m.type;
    if (m.id) fields.nodeId = m.id;
    logger[level](fields, text);
  };
}

/** Node-RED's `adminAuth.tokens`: a web-app pass → the operator it stands for; anything else → no user. */
function passCheck(check: (pass: string) => Promise<string | null>, operator: (username: string) => { username: string; permissions: string }) {
  return async (token: unknown) => {
    if (typeof token !== 'string') return null;
    const login = await check(token).catch(() => null);
    return login === null ? null : operator(login);
  };
}

/** Builds the settings object for `RED.init`. */
export function nodeRedSettings(s: SettingsInput): Record<string, unknown> {
  const operator = (username: string) => ({ username, permissions: '*' });
  return {
    userDir: s.userDir,
    flowFile: s.flowFile,
    flowFilePretty: true,
    credentialSecret: s.credentialSecret,
    httpAdminRoot: s.adminRoot,
    // Flows cannot open HTTP endpoints on the hub: http-in would be unauthenticated.
    httpNodeRoot: false,
    httpStatic: undefined,
    nodesDir: [s.nodesDir],
    safeMode: s.safeMode,
    adminAuth: {
      type: 'credentials',
      sessionExpiryTime: s.sessionExpirySeconds,
      users: async (username: string) => (!s.auth.isOperator || (await s.auth.isOperator(username)) ? operator(username) : null),
      authenticate: async (username: string, password: string) => ((await s.auth.verifyOperator(username, password)) ? operator(username) : null),
      ...(s.auth.editorPass ? { tokens: passCheck(s.auth.editorPass, operator), tokenHeader: 'authorization' } : {}),
    },
    logging: {
      console: { level: 'off' },
      mimamori: { level: 'info', metrics: false, audit: false, handler: () => logHandler(s.logger) },
    },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    externalModules: {
      autoInstall: false,
      palette: { allowInstall: false, allowUpload: false },
      modules: { allowInstall: false },
    },
    functionExternalModules: false,
    editorTheme: {
      page: { title: 'mimamori flows' },
      header: { title: 'mimamori flows / 見守りフロー' },
      projects: { enabled: false },
      tours: false,
      palette: { editable: false, catalogues: [] },
      codeEditor: { lib: 'monaco' },
    },
    [settingsKey]: s.api,
  };
}
