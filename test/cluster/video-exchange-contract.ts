/**
 * The contract every video exchange (dashboards/video-exchange.ts) keeps:
 * two web apps — two nodes — over one store, each given its node's
 * exchange; real WebSocket clients signed in through the real routes; a
 * caregiver connected to node A and the home's tablet to node B set up,
 * run and end a call, and a home is in one call across both nodes.
 * Run against the in-memory network and against Redis.
 */
import { join } from 'node:path';
import type { Test } from 'tap';
import { silentLogger } from '../../core/logger.js';
import { createWebApp, type VideoExchange, type WebApp } from '../../dashboards/index.js';
import { setup, signIn, testSeedKey, type Fixture, type Session } from '../dashboards/helpers.js';
import { createStoreResponder } from '../dashboards/store-responder.js';
import { openClient, type Client } from '../video/helpers.js';

/** Makes node A's and node B's exchanges for one test (and closes them at its end). */
export type MakeExchanges = (t: Test) => Promise<[VideoExchange, VideoExchange]>;

/** Generous: only against hangs on a busy machine. */
const wait = 30_000;

interface TwoNodes {
  f: Fixture;
  /** Connects `login` to node `node` (sessions live in the shared store, so either node accepts them). */
  connect(node: 'a' | 'b', login: string): Promise<Client>;
}

async function twoNodes(t: Test, make: MakeExchanges): Promise<TwoNodes> {
  const [a, b] = await make(t);
  const f = await setup({ video: { exchange: a } });
  t.teardown(() => f.close());
  const webB: WebApp = await createWebApp({
    store: f.store, clock: f.clock, wallClock: f.clock, logger: silentLogger(), responder: createStoreResponder(f.store, f.clock),
    engine: { setAway: () => undefined, lastSignOfLife: (h) => f.engine.lastSignOfLife(h), awayUntil: (h) => f.engine.awayUntil(h) },
    publishButton: async () => undefined, photosDir: join(f.dir, 'photos-b'), totpSeedKey: testSeedKey,
    video: { exchange: b },
  });
  t.teardown(() => webB.close());
  const bases = { a: await f.web.listen('127.0.0.1', 0), b: await webB.listen('127.0.0.1', 0) };
  const sessions: Record<string, Session> = {};
  const clients: Client[] = [];
  t.teardown(async () => { for (const c of clients) await c.close(); });
  return {
    f,
    async connect(node, login) {
      sessions[login] ??= await signIn(f, login);
      const base = bases[node];
      const client = await openClient(`${base.replace('http', 'ws')}/video/ws`, sessions[login].cookie, base, `${login}@${node}`);
      clients.push(client);
      return client;
    },
  };
}

export function videoExchangeContract(t: Test, make: MakeExchanges): void {
  t.test('a caregiver on node A calls the tablet on node B: ring, answer, signals both ways, hang up', async (t) => {
    const n = await twoNodes(t, make);
    const tablet = await n.connect('b', 'resident1');
    const care = await n.connect('a', 'care1');
    care.send({ type: 'call', home: 'h1' });
    const { callId } = await care.next('ringing', wait);
    const incoming = await tablet.next('incoming', wait);
    t.equal(incoming.callId, callId, 'the tablet on the other node rings for the call');
    t.equal(incoming.from.id, 'care1', 'it shows who is calling');

    tablet.send({ type: 'answer', callId, auto: false });
    const callerJoined = await care.next('joined', wait);
    const tabletJoined = await tablet.next('joined', wait);
    t.same(callerJoined.offerTo, [tablet.welcome.peerId], 'the caller makes the offer to the tablet on node B');
    t.same(tabletJoined.offerTo, [], 'the tablet waits for the offer');

    care.send({ type: 'signal', callId, to: tablet.welcome.peerId, data: { description: { type: 'offer', sdp: 'v=0 offer' } } });
    care.send({ type: 'signal', callId, to: tablet.welcome.peerId, data: { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0' } } });
    const offer = await tablet.next('signal', wait);
    const candidate = await tablet.next('signal', wait);
    t.same([offer.from, offer.data.description?.sdp], [care.welcome.peerId, 'v=0 offer'], 'the offer crossed from A to B');
    t.ok(candidate.data.candidate, 'then its candidate, in order');
    tablet.send({ type: 'signal', callId, to: care.welcome.peerId, data: { description: { type: 'answer', sdp: 'v=0 answer' } } });
    const answer = await care.next('signal', wait);
    t.same([answer.from, answer.data.description?.sdp], [tablet.welcome.peerId, 'v=0 answer'], 'the answer crossed from B to A');

    care.send({ type: 'hangup', callId });
    t.equal((await tablet.next('ended', wait)).reason, 'ended', 'the tablet on node B hears the call ended');
    t.equal((await care.next('ended', wait)).reason, 'ended', 'so does the caller');
    const record = await n.f.store.getCall(callId);
    t.equal(record?.outcome, 'connected', 'the call is recorded once, as connected');
    t.equal(record?.answeredBy, 'resident', 'answered by the resident');
    t.equal(tablet.received.filter((m) => m.type === 'ended').length, 1, 'the tablet got exactly one "ended"');
    t.equal(tablet.received.filter((m) => m.type === 'error').length + care.received.filter((m) => m.type === 'error').length, 0, 'no errors on either side');
  });

  t.test('a home is in one call across nodes; a tablet opened later still rings; "not now" crosses back', async (t) => {
    const n = await twoNodes(t, make);
    const care = await n.connect('a', 'care1');
    care.send({ type: 'call', home: 'h1' });
    const { callId } = await care.next('ringing', wait);
    // The same caregiver's second browser, on node B, cannot start a second call to the home.
    const careOnB = await n.connect('b', 'care1');
    careOnB.send({ type: 'call', home: 'h1' });
    t.equal((await careOnB.next('error', wait)).code, 'busy', 'node B refuses a second call to a home ringing on node A');

    const tablet = await n.connect('b', 'resident1');
    t.equal((await tablet.next('incoming', wait)).callId, callId, 'a tablet that opens on node B while the call rings on A rings too');
    // Someone who is not this home's tablet cannot answer from node B.
    const fam2 = await n.connect('b', 'family2');
    fam2.send({ type: 'answer', callId, auto: false });
    t.equal((await fam2.next('error', wait)).code, 'forbidden', 'the call rules on node A refuse a forwarded answer from another account');
    tablet.send({ type: 'decline', callId });
    t.equal((await care.next('ended', wait)).reason, 'declined', 'the caller on A hears "not now" from the tablet on B');
    t.equal((await tablet.next('ended', wait)).reason, 'declined', 'the tablet stops ringing');
    t.equal((await n.f.store.getCall(callId))?.outcome, 'declined', 'recorded as declined');

    // The home is free again: now node B's caregiver browser may call.
    careOnB.send({ type: 'call', home: 'h1' });
    const second = await careOnB.next('ringing', wait);
    t.not(second.callId, callId, 'a new call rings from node B');
    t.equal((await tablet.next('incoming', wait)).callId, second.callId, 'the tablet rings for it');
    careOnB.send({ type: 'hangup', callId: second.callId });
    t.equal((await tablet.next('ended', wait)).reason, 'cancelled', 'cancelled before an answer');
  });

  t.test('a tablet on node B that goes away ends the call held on node A', async (t) => {
    const n = await twoNodes(t, make);
    const tablet = await n.connect('b', 'resident1');
    const care = await n.connect('a', 'care1');
    care.send({ type: 'call', home: 'h1' });
    const { callId } = await care.next('ringing', wait);
    await tablet.next('incoming', wait);
    tablet.send({ type: 'answer', callId, auto: false });
    await care.next('joined', wait);
    await tablet.close();
    t.equal((await care.next('ended', wait)).reason, 'ended', 'the caller hears the call ended');
    t.equal((await n.f.store.getCall(callId))?.outcome, 'connected', 'recorded once, as connected');
    // And the home is free for the next call.
    care.send({ type: 'call', home: 'h1' });
    const next = await care.next('ringing', wait);
    t.not(next.callId, callId, 'the home takes a new call');
    care.send({ type: 'hangup', callId: next.callId });
    t.equal((await care.next('ended', wait)).reason, 'cancelled', 'and it can be cancelled');
  });
}
