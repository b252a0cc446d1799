/**
 * The embedded Node-RED on a real HTTP server (Fastify, like the hub's web
 * app): editor and admin API under /flows, operator-only sign-in, the
 * project's nodes in the palette with bilingual help, the editor's WebSocket
 * next to an app that refuses other upgrades, encrypted credentials, and a
 * broken flow file that is reported and never stops anything.
 */
import t from 'tap';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import WebSocket from 'ws';
import { systemClock, VirtualClock } from '../../core/clock.js';
import { createLogger, silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { createFlows, createOperatorVerifier, type Flows } from '../../flows/index.js';
import { tempDir } from '../support/wait.js';
import { startMiniHub, start, type MiniHub } from './helpers.js';

const examples = ['heatstroke', 'fridge-by-noon', 'alerts-to-webhook'].flatMap((name) =>
  JSON.parse(readFileSync(new URL(`../../flows/examples/${name}.json`, import.meta.url), 'utf8')) as object[]);

interface Server { url: string; server: import('node:http').Server; close(): Promise<void> }

/** A Fastify app with its own route and an upgrade handler that refuses every path it does not know. */
async function startApp(): Promise<Server> {
  const app = Fastify();
  app.get('/hello', async () => 'hello');
  await app.listen({ host: '127.0.0.1', port: 0 });
  app.server.on('upgrade', (req, socket) => {
    if (req.url !== '/app-socket') socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  const addr = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, server: app.server, close: () => app.close() };
}

function captureLogs() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const destination = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

let hub: MiniHub;
let accounts: ReturnType<typeof createSqliteStore>;
t.before(async () => {
  hub = await startMiniHub();
  accounts = hub.store;
  const hash = await hashPassword('correct horse battery');
  await accounts.createAccount({ login: 'op', name: 'Operator', role: 'operator', language: 'ja', passwordHash: hash, createdAt: start });
  await accounts.createAccount({ login: 'fam', name: 'Family', role: 'family', language: 'ja', passwordHash: hash, createdAt: start });
});
t.teardown(() => hub.close());

async function signIn(base: string, username: string, password: string): Promise<{ status: number; token?: string }> {
  const res = await fetch(`${base}/flows/auth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password }),
  });
  const body = await res.json().catch(() => ({})) as { access_token?: string };
  return body.access_token ? { status: res.status, token: body.access_token } : { status: res.status };
}

t.test('editor under /flows: operator sign-in, palette with the mimamori nodes, other routes intact', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'node-red'));
  writeFileSync(join(dir, 'node-red', 'flows.json'), JSON.stringify(examples));
  const app = await startApp();
  t.teardown(() => app.close());
  const clock = new VirtualClock(start);
  const flows = await createFlows({
    dataDir: dir, credentialSecret: 'a credential secret for tests', logger: silentLogger(), clock, server: app.server,
    api: hub.bridge, auth: createOperatorVerifier({ store: accounts, wallClock: systemClock, totpSeedKey: Buffer.alloc(32, 7) }),
  });
  t.teardown(() => flows.close());
  t.same(flows.status(), { running: true, problems: [] }, 'the example flows start: every node type is known');
  t.equal(flows.path, '/flows/');

  await t.rejects(createFlows({ dataDir: tempDir(t), credentialSecret: 'a credential secret for tests', logger: silentLogger(), clock, server: app.server, api: hub.bridge, auth: createOperatorVerifier({ store: accounts, wallClock: systemClock, totpSeedKey: Buffer.alloc(32, 7) }) }),
    { code: 'MIMAMORI_ERR_CONFLICT' }, 'one Node-RED per process');

  const redirect = await fetch(`${app.url}/flows`, { redirect: 'manual' });
  t.equal(redirect.status, 301);
  t.equal(redirect.headers.get('location'), '/flows/');
  const editor = await fetch(`${app.url}/flows/`);
  t.equal(editor.status, 200);
  t.match(await editor.text(), /mimamori flows/, 'the editor page, with our title');
  t.equal(await (await fetch(`${app.url}/hello`)).text(), 'hello', 'the app\'s own routes still answer');
  t.equal((await fetch(`${app.url}/flowsx`)).status, 404, 'a path that only starts with /flows is not ours');

  t.equal((await fetch(`${app.url}/flows/nodes`, { headers: { accept: 'application/json' } })).status, 401, 'the admin API needs a sign-in');
  t.notOk((await signIn(app.url, 'op', 'wrong password here')).token, 'a wrong password is refused');
  t.notOk((await signIn(app.url, 'fam', 'correct horse battery')).token, 'a family account is not an operator');
  const { token } = await signIn(app.url, 'op', 'correct horse battery');
  t.ok(token, 'an operator signs in');
  const auth = { authorization: `Bearer ${token}` };

  const nodes = await (await fetch(`${app.url}/flows/nodes`, { headers: { ...auth, accept: 'application/json' } })).json() as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
  const ours = nodes.find((n) => n.module === 'mimamori-nodes');
  t.ok(ours, 'the mimamori node set is installed');
  t.same(ours?.types.sort(), ['mimamori alert in', 'mimamori event in', 'mimamori finding out', 'mimamori notify', 'mimamori-home'], 'with all five node types');
  t.equal(ours?.enabled, true);
  t.notOk(ours?.err, 'loaded without error');
  const html = await (await fetch(`${app.url}/flows/nodes`, { headers: { ...auth, accept: 'text/html' } })).text();
  t.match(html, /data-template-name="mimamori event in"/, 'editor templates are served');
  t.match(html, /Canonical sensor events/, 'English help');
  const jaHtml = await (await fetch(`${app.url}/flows/nodes`, { headers: { ...auth, accept: 'text/html', 'accept-language': 'ja' } })).text();
  t.match(jaHtml, /センサーイベント/, 'Japanese help for a Japanese editor');

  // The editor's live connection works beside an app that refuses unknown upgrades.
  const comms = new WebSocket(`${app.url.replace('http', 'ws')}/flows/comms`);
  await new Promise<void>((resolve, reject) => { comms.once('open', () => resolve()); comms.once('error', reject); });
  comms.close();
  const other = new WebSocket(`${app.url.replace('http', 'ws')}/elsewhere`);
  const refused = await new Promise<string>((resolve) => { other.once('open', () => resolve('open')); other.once('error', (e) => resolve(e.message)); });
  t.match(refused, /404/, 'other upgrades still go to the app');

  // Deploy with a credential: it is stored encrypted with the configured secret.
  const current = await (await fetch(`${app.url}/flows/flows`, { headers: { ...auth, 'node-red-api-version': 'v2' } })).json() as { flows: Array<Record<string, unknown>>; rev: string };
  t.ok(current.flows.some((n) => n.id === 'heat-finding'), 'the example flows are deployed');
  const withSecret = current.flows.map((n) => (n.id === 'hook-post' ? { ...n, authType: 'basic', credentials: { user: 'bot', password: 'chat-webhook-password' } } : n));
  const deploy = await fetch(`${app.url}/flows/flows`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'node-red-api-version': 'v2', 'node-red-deployment-type': 'full' }, body: JSON.stringify({ flows: withSecret, rev: current.rev }) });
  t.equal(deploy.status, 200, 'deploy accepted');
  const cred = readFileSync(join(dir, 'node-red', 'flows_cred.json'), 'utf8');
  t.notMatch(cred, /chat-webhook-password/, 'credentials are not stored in clear');
  t.match(JSON.parse(cred), { $: String }, 'they are encrypted');
});

t.test('a broken flow file is moved aside, reported, and Node-RED still serves the editor', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'node-red'));
  writeFileSync(join(dir, 'node-red', 'flows.json'), '[{"id": "a", "type": "inject"');
  const app = await startApp();
  t.teardown(() => app.close());
  const { lines, logger } = captureLogs();
  const clock = new VirtualClock(start);
  let flows: Flows | undefined;
  try {
    flows = await createFlows({ dataDir: dir, credentialSecret: 'a credential secret for tests', logger, clock, server: app.server, api: hub.bridge, auth: createOperatorVerifier({ store: accounts, wallClock: systemClock, totpSeedKey: Buffer.alloc(32, 7) }) });
    const status = flows.status();
    t.match(status.problems[0], /flows\.json is not valid JSON .*moved to .*invalid-2026-07-21/, 'the problem in words');
    const moved = /moved to (\S+) /.exec(status.problems[0] ?? '')?.[1];
    t.ok(moved && existsSync(moved), 'the broken file is kept');
    t.equal(moved && readFileSync(moved, 'utf8'), '[{"id": "a", "type": "inject"', 'unchanged');
    t.ok(lines.some((l) => l.level === 50 && /not valid JSON/.test(l.msg)), 'logged as an error');
    const { token } = await signIn(app.url, 'op', 'correct horse battery');
    const res = await fetch(`${app.url}/flows/flows`, { headers: { authorization: `Bearer ${token}` } });
    t.same(await res.json(), [], 'the editor opens with no flows');
  } finally {
    await flows?.close();
  }
});

t.test('a flow with an unknown node type is reported; the runtime keeps serving', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'node-red'));
  writeFileSync(join(dir, 'node-red', 'flows.json'), JSON.stringify([{ id: 't1', type: 'tab', label: 'x' }, { id: 'n1', type: 'no-such-node', z: 't1', wires: [] }]));
  const app = await startApp();
  t.teardown(() => app.close());
  const clock = new VirtualClock(start);
  const flows = await createFlows({ dataDir: dir, credentialSecret: 'a credential secret for tests', logger: silentLogger(), clock, server: app.server, api: hub.bridge, auth: createOperatorVerifier({ store: accounts, wallClock: systemClock, totpSeedKey: Buffer.alloc(32, 7) }) });
  t.teardown(() => flows.close());
  t.equal(flows.status().running, false, 'flows are not running');
  t.match(flows.status().problems, [/no-such-node/], 'and the missing type is named');
  t.equal((await fetch(`${app.url}/flows/`)).status, 200, 'the editor is still there to fix it');
});

t.test('Node-RED failing to start is reported; the hub goes on and nothing is left listening', async (t) => {
  const RED = createRequire(import.meta.url)('node-red') as { start(): Promise<void>; events: { listenerCount(name: string): number } };
  const realStart = RED.start;
  RED.start = () => Promise.reject(new Error('port for the editor is taken'));
  t.teardown(() => { RED.start = realStart; });
  const listeners = RED.events.listenerCount('flows:started');
  const app = await startApp();
  t.teardown(() => app.close());
  const flows = await createFlows({ dataDir: tempDir(t), credentialSecret: 'a credential secret for tests', logger: silentLogger(), clock: new VirtualClock(start), server: app.server, api: hub.bridge, auth: createOperatorVerifier({ store: accounts, wallClock: systemClock, totpSeedKey: Buffer.alloc(32, 7) }) });
  t.equal(flows.status().running, false);
  t.match(flows.status().problems, [/Node-RED did not start: port for the editor is taken/], 'the reason in words');
  t.equal(RED.events.listenerCount('flows:started'), listeners, 'the wait for the flows is not left listening');
  await flows.close();
  RED.start = realStart;
  const again = await createFlows({ dataDir: tempDir(t), credentialSecret: 'a credential secret for tests', logger: silentLogger(), clock: new VirtualClock(start), server: app.server, api: hub.bridge, auth: createOperatorVerifier({ store: accounts, wallClock: systemClock, totpSeedKey: Buffer.alloc(32, 7) }) });
  t.teardown(() => again.close());
  t.equal(again.status().running, true, 'Node-RED starts in this process after the failure');
});

t.test('createFlows refuses a missing or short credential secret and a bad path', async (t) => {
  const app = await startApp();
  t.teardown(() => app.close());
  const clock = new VirtualClock(start);
  const base = { dataDir: tempDir(t), logger: silentLogger(), clock, server: app.server, api: hub.bridge, auth: createOperatorVerifier({ store: accounts, wallClock: systemClock, totpSeedKey: Buffer.alloc(32, 7) }) };
  await t.rejects(createFlows({ ...base, credentialSecret: 'short' }), { code: 'MIMAMORI_ERR_CONFIG' });
  await t.rejects(createFlows({ ...base, credentialSecret: 'a credential secret for tests', path: 'flows' }), { code: 'MIMAMORI_ERR_CONFIG' });
});
