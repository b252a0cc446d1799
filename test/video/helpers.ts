/**
 * Video tests over the real web app (SQLite, virtual clock) listening on a
 * loopback port, with real WebSocket clients signed in through the real routes.
 */
import WebSocket from 'ws';
import type { Test } from 'tap';
import type { Finding } from '../../core/findings.js';
import type { CallQuality, CheckinReminder, VideoOptions, WebAppOptions } from '../../dashboards/index.js';
import type { ServerMessage } from '../../dashboards/video-protocol.js';
import { setup, signIn, type Fixture, type Session } from '../dashboards/helpers.js';
import { hangGuardMs } from '../support/wait.js';

export interface Client {
  ws: WebSocket;
  welcome: Extract<ServerMessage, { type: 'welcome' }>;
  /** The next message of this type (earlier ones of other types are kept). */
  next<T extends ServerMessage['type']>(type: T, ms?: number): Promise<Extract<ServerMessage, { type: T }>>;
  send(m: unknown): void;
  received: ServerMessage[];
  close(): Promise<void>;
}

export interface Rig {
  f: Fixture; base: string; findings: Finding[]; reminders: CheckinReminder[]; qualities: CallQuality[];
  sessions: Record<string, Session>;
  connect(login: string, o?: { origin?: string }): Promise<Client>;
  /** The HTTP status an upgrade is refused with (0 when it was accepted). */
  refusal(headers: Record<string, string>): Promise<number>;
  /** care1 calls h1's tablet for the check-in, the tablet answers, and the call has connected. */
  checkinCallConnected(checkinId: string): Promise<{ tablet: Client; care: Client; callId: string }>;
}

/** `web` overrides web app options (e.g. a separate `wallClock`; by default the fixture's clock is both). */
export async function videoRig(t: Test, video: VideoOptions = {}, web: Partial<WebAppOptions> = {}): Promise<Rig> {
  const findings: Finding[] = [];
  const reminders: CheckinReminder[] = [];
  const qualities: CallQuality[] = [];
  const f = await setup({ video: { raiseFinding: (x) => { findings.push(x); }, remindCaregiver: (r) => { reminders.push(r); }, writeCallQuality: (q) => { qualities.push(q); }, ...video }, ...web });
  t.teardown(() => f.close());
  const base = await f.web.listen('127.0.0.1', 0);
  const wsUrl = `${base.replace('http', 'ws')}/video/ws`;
  const sessions: Record<string, Session> = {};
  const clients: Client[] = [];
  t.teardown(async () => { for (const c of clients) await c.close(); });

  async function connect(login: string, o: { origin?: string } = {}): Promise<Client> {
    sessions[login] ??= await signIn(f, login);
    const client = await openClient(wsUrl, sessions[login].cookie, o.origin ?? base, login);
    clients.push(client);
    return client;
  }

  async function refusal(headers: Record<string, string>): Promise<number> {
    const { origin, ...rest } = headers;
    const ws = new WebSocket(wsUrl, { headers: rest, ...(origin ? { origin } : {}) });
    return new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? -1); res.resume(); ws.terminate(); });
      ws.once('open', () => { resolve(0); ws.close(); });
      ws.once('error', () => undefined);
    });
  }

  async function checkinCallConnected(checkinId: string): Promise<{ tablet: Client; care: Client; callId: string }> {
    const tablet = await connect('resident1');
    const care = await connect('care1');
    care.send({ type: 'call', home: 'h1', checkin: checkinId });
    const { callId } = await care.next('ringing');
    tablet.send({ type: 'answer', callId, auto: false });
    await care.next('joined');
    return { tablet, care, callId };
  }

  return { f, base, findings, reminders, qualities, sessions, connect, refusal, checkinCallConnected };
}

/** Opens a signalling socket with a session cookie and waits for its `welcome` (`label` names it in failures). */
export async function openClient(wsUrl: string, cookie: string, origin: string, label: string): Promise<Client> {
  const ws = new WebSocket(wsUrl, { headers: { cookie }, origin });
  const received: ServerMessage[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (raw) => { received.push(JSON.parse(String(raw)) as ServerMessage); for (const w of waiters.splice(0)) w(); });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  let cursor = 0;
  const client: Client = {
    ws, received, welcome: undefined as never,
    async next(type, ms = 5000) {
      const deadline = Date.now() + Math.max(ms, hangGuardMs);
      for (;;) {
        const i = received.findIndex((m, k) => k >= cursor && m.type === type);
        if (i >= 0) { cursor = i + 1; return received[i] as never; }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${type} message for ${label}; got ${JSON.stringify(received.slice(cursor))}`);
        await new Promise<void>((resolve) => { const timer = setTimeout(resolve, left); waiters.push(() => { clearTimeout(timer); resolve(); }); });
      }
    },
    send(m) { ws.send(JSON.stringify(m)); },
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      await new Promise<void>((resolve) => { ws.once('close', () => resolve()); ws.close(); });
    },
  };
  client.welcome = await client.next('welcome');
  return client;
}

/** Marks `accountId` trusted (auto-answer) and so on for home h1, as the resident would. */
export async function permit(r: Rig, accountId: string, p: { trusted?: boolean; maySchedule?: boolean; lookIn?: boolean }): Promise<void> {
  await r.f.store.setVideoPermission({ homeId: 'h1', accountId, trusted: p.trusted ?? false, maySchedule: p.maySchedule ?? false, lookIn: p.lookIn ?? false, updatedAt: r.f.clock.now(), updatedBy: 'resident1' });
}
