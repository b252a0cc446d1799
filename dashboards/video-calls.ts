/**
 * Video calls between a caregiver and a home's tablet (family may join, up to
 * four people in all): who may call, ring, answer, join and relay signalling
 * to whom. Independent of the transport: each connected browser is a `Peer`
 * with a `send`. Decisions are made here, on the hub, never trusted from a
 * browser: an auto-answer is accepted only for callers the resident or a
 * guardian marked trusted (and for consented emergency look-ins); a ring
 * times out in wall-clock time (people answer calls in real seconds, also in
 * the sped-up demo); outcomes feed the check-in schedule.
 *
 * Across a cluster (video-exchange.ts) a call lives on its caller's node;
 * a browser on another node takes part through a stand-in `Peer` whose
 * `send` goes through the exchange, and its messages about the call are
 * forwarded to the call's node — the same rules decide, in one place.
 */
import type { WallClock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Store, VideoCall, WebAccount } from '../core/store.js';
import type { AccessRules } from './access.js';
import type { Checkins } from './checkins.js';
import type { ClientMessage, EndReason, ServerMessage } from './video-protocol.js';
import { createLocalVideoExchange, type PeerRef, type VideoEnvelope, type VideoExchange } from './video-exchange.js';

export interface Peer { id: string; account: WebAccount; send(m: ServerMessage): void }

/** One call's quality as the browser measured it (getStats), for history. */
export interface CallQuality {
  callId: string; homeId: string; accountId: string; role: string;
  rttMs?: number; packetLossPct?: number; durationMs: number; framesDecoded?: number; at: number;
}

export interface VideoCallsOptions {
  store: Store;
  /** Calls ring, start and end in wall-clock time. */
  wallClock: WallClock;
  logger: Logger;
  access: AccessRules;
  checkins: Checkins;
  /** The tablet's on-screen and audible warning before an auto-answer (default 10 s). */
  autoAnswerWarningMs: number;
  /** An unanswered call stops ringing after this (default 60 s): "no answer". */
  ringTimeoutMs: number;
  /** Most people in one call, tablet included (default 4). */
  maxParticipants: number;
  writeCallQuality?: (q: CallQuality) => unknown;
  /** The home's pages should refresh (a call started or ended). */
  changed?: (homeId: string) => void;
  /** The other nodes of a cluster (default: none — a network of one). */
  exchange?: VideoExchange;
}

interface LiveCall {
  record: VideoCall;
  caller: Peer;
  state: 'ringing' | 'connected';
  autoAnswer: boolean;
  participants: Map<string, Peer>;
  stopRinging?: () => void;
}

class Refused extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

/** Creates the call registry for one web app. */
export function createVideoCalls(opts: VideoCallsOptions) {
  const { store, wallClock: clock, logger, access, checkins } = opts;
  const peers = new Map<string, Peer>();
  const tablets = new Map<string, Set<Peer>>(); // home → tablet pages signed in as its resident
  const calls = new Map<string, LiveCall>();
  const homeOfTablet = new Map<string, string>(); // peer id → home
  // Check-ins whose call just ended and whose outcome is still being recorded (the deadline must wait for it).
  const settling = new Set<string>();
  const exchange = opts.exchange ?? createLocalVideoExchange();
  const ownExchange = !opts.exchange;
  /** Stand-ins for browsers on other nodes that take part in this node's calls, by peer id. */
  const remotes = new Map<string, Peer>();

  function refOf(peer: Peer): PeerRef {
    const ref: PeerRef = { id: peer.id, accountId: peer.account.id, node: exchange.nodeId };
    const home = homeOfTablet.get(peer.id);
    if (home) ref.tabletHome = home;
    return ref;
  }

  function relay(node: string, e: VideoEnvelope): void {
    exchange.send(node, e).catch((err: unknown) => logger.warn({ err, node, kind: e.kind }, 'video envelope not sent'));
  }

  /** The stand-in for a browser on another node (its account read from the shared store). */
  async function remotePeer(ref: PeerRef): Promise<Peer | undefined> {
    const known = remotes.get(ref.id);
    if (known) return known;
    const account = await store.getAccount(ref.accountId);
    if (!account) return undefined;
    const peer: Peer = { id: ref.id, account, send: (m) => relay(ref.node, { kind: 'to-peer', peerId: ref.id, message: m }) };
    remotes.set(ref.id, peer);
    if (ref.tabletHome) homeOfTablet.set(ref.id, ref.tabletHome);
    return peer;
  }

  /** `m` to every tablet page of a home, on every node, but those in `except`. */
  function toTablets(homeId: string, m: ServerMessage, except: readonly Peer[] = []): void {
    for (const t of tablets.get(homeId) ?? []) if (!except.includes(t)) t.send(m);
    exchange.broadcast({ kind: 'to-tablets', homeId, message: m, except: except.map((p) => p.id) })
      .catch((err: unknown) => logger.warn({ err, home: homeId }, 'video tablets on other nodes not told'));
  }

  function incoming(call: LiveCall): ServerMessage {
    return { type: 'incoming', callId: call.record.id, from: { id: call.caller.account.id, name: call.caller.account.name }, autoAnswerMs: call.autoAnswer ? opts.autoAnswerWarningMs : null, lookIn: call.record.kind === 'look-in' };
  }

  async function end(call: LiveCall, reason: EndReason): Promise<void> {
    if (!calls.has(call.record.id)) return;
    calls.delete(call.record.id);
    const checkinId = call.record.checkinId;
    if (checkinId) settling.add(checkinId);
    try {
      // The home is free for a next call before anyone hears this one ended (and with the check-in already settling).
      await exchange.releaseHome(call.record.homeId, call.record.id).catch((err: unknown) => logger.warn({ err, call: call.record.id }, 'video home claim not released'));
      await finishCall(call, reason);
    } finally {
      if (checkinId) settling.delete(checkinId);
    }
  }

  async function finishCall(call: LiveCall, reason: EndReason): Promise<void> {
    call.stopRinging?.();
    const now = clock.now();
    const outcome: VideoCall['outcome'] = reason === 'ended' ? (call.record.answeredAt !== undefined ? 'connected' : 'cancelled') : reason;
    call.record = { ...call.record, endedAt: now, outcome };
    await store.saveCall(call.record);
    const notified = new Set<Peer>([call.caller, ...call.participants.values()]);
    const ended: ServerMessage = { type: 'ended', callId: call.record.id, reason };
    for (const p of notified) p.send(ended);
    toTablets(call.record.homeId, ended, [...notified]);
    logger.info({ call: call.record.id, home: call.record.homeId, outcome }, 'video call ended');
    if (call.record.checkinId) {
      if (reason === 'declined') await checkins.callDeclined(call.record.checkinId);
      if (reason === 'no-answer') await checkins.callUnanswered(call.record.checkinId);
    }
    opts.changed?.(call.record.homeId);
  }

  async function startCall(peer: Peer, m: Extract<ClientMessage, { type: 'call' }>): Promise<void> {
    if (peer.account.role !== 'caregiver') throw new Refused('forbidden', 'only caregivers start calls');
    const rel = await access.relation(peer.account, m.home);
    if (!rel || rel.kind !== 'caregiver') throw new Refused('forbidden', 'not a caregiver of this home');
    if ([...calls.values()].some((c) => c.record.homeId === m.home)) throw new Refused('busy', 'this home is already in a call');
    const now = clock.now();
    const record: VideoCall = { id: newId(now), homeId: m.home, callerId: peer.account.id, kind: m.lookIn ? 'look-in' : 'call', startedAt: now };
    const permission = await store.getVideoPermission(m.home, peer.account.id);
    if (m.checkin) {
      const c = await store.getCheckin(m.checkin);
      if (!c || c.homeId !== m.home || c.status !== 'scheduled') throw new Refused('bad-checkin', 'no such scheduled check-in for this home');
      record.checkinId = c.id;
    }
    let alertId: string | undefined;
    if (m.lookIn) {
      // Emergency look-in: only with the resident's consent, only for a critical alert nobody has acknowledged.
      const alert = await store.getAlert(m.lookIn);
      if (!permission?.lookIn) throw new Refused('forbidden', 'no consent for emergency look-in');
      if (!alert || alert.homeId !== m.home || alert.severity !== 'critical' || alert.status !== 'open') throw new Refused('forbidden', 'look-in needs a critical, unacknowledged alert');
      alertId = alert.id;
    }
    // A home is in one call at a time across every node (claimed last: a refused call claims nothing).
    if (!(await exchange.claimHome(m.home, record.id))) throw new Refused('busy', 'this home is already in a call');
    if (alertId) {
      record.alertId = alertId;
      await store.recordAccess({ at: now, viewerId: peer.account.id, homeId: m.home, what: 'emergency video look-in' });
      await store.audit({ at: now, actor: peer.account.id, action: 'video.look-in', subject: alertId, detail: { home: m.home, call: record.id } });
    }
    const call: LiveCall = { record, caller: peer, state: 'ringing', autoAnswer: record.kind === 'look-in' || permission?.trusted === true, participants: new Map() };
    calls.set(record.id, call);
    await store.saveCall(record);
    // Only on a check-in still scheduled (as read above): one cancelled or missed meanwhile keeps its record as it is.
    if (record.checkinId) await store.updateCheckin(record.checkinId, { callId: record.id }, { status: 'scheduled' });
    const sub = clock.schedule(() => { void end(call, 'no-answer').catch((err: unknown) => logger.error({ err }, 'video ring timeout failed')); }, opts.ringTimeoutMs);
    call.stopRinging = () => sub.unsubscribe();
    logger.info({ call: record.id, home: m.home, kind: record.kind, auto: call.autoAnswer }, 'video call ringing');
    peer.send({ type: 'ringing', callId: record.id, home: m.home });
    toTablets(m.home, incoming(call));
    opts.changed?.(m.home);
  }

  function callFor(peer: Peer, callId: string): LiveCall {
    const call = calls.get(callId);
    if (!call) throw new Refused('no-call', 'no such call');
    return call;
  }

  function tabletOf(peer: Peer, call: LiveCall): void {
    if (homeOfTablet.get(peer.id) !== call.record.homeId) throw new Refused('forbidden', 'not this home\'s tablet');
  }

  async function answer(peer: Peer, m: Extract<ClientMessage, { type: 'answer' }>): Promise<void> {
    const call = callFor(peer, m.callId);
    tabletOf(peer, call);
    if (call.state !== 'ringing') throw new Refused('not-ringing', 'the call is not ringing');
    if (m.auto && !call.autoAnswer) throw new Refused('not-trusted', 'auto-answer is only for trusted callers');
    call.stopRinging?.();
    call.state = 'connected';
    const now = clock.now();
    call.record = { ...call.record, answeredAt: now, answeredBy: m.auto ? 'auto' : 'resident' };
    call.participants.set(call.caller.id, call.caller);
    call.participants.set(peer.id, peer);
    await store.saveCall(call.record);
    if (call.record.checkinId) await checkins.callConnected(call.record.checkinId, call.record.id);
    // Other tablet pages of the same home stop ringing.
    toTablets(call.record.homeId, { type: 'ended', callId: call.record.id, reason: 'ended' }, [peer]);
    logger.info({ call: call.record.id, home: call.record.homeId, auto: m.auto }, 'video call answered');
    const names = { [call.caller.id]: call.caller.account.name, [peer.id]: peer.account.name };
    peer.send({ type: 'joined', callId: call.record.id, home: call.record.homeId, offerTo: [], names });
    call.caller.send({ type: 'joined', callId: call.record.id, home: call.record.homeId, offerTo: [peer.id], names });
    opts.changed?.(call.record.homeId);
  }

  async function join(peer: Peer, m: Extract<ClientMessage, { type: 'join' }>): Promise<void> {
    const call = callFor(peer, m.callId);
    const rel = await access.relation(peer.account, call.record.homeId);
    // Seeing the resident live is detailed personal data: family need detailed consent.
    if (!rel || !['family', 'guardian', 'caregiver'].includes(rel.kind) || !access.allows(rel, rel.kind === 'caregiver' ? 'coarse' : 'detailed')) throw new Refused('forbidden', 'not allowed to join this call');
    if (call.state !== 'connected') throw new Refused('not-connected', 'the call has not been answered');
    if (call.participants.has(peer.id)) return;
    if (call.participants.size >= opts.maxParticipants) throw new Refused('full', `at most ${opts.maxParticipants} people in a call`);
    const names: Record<string, string> = { [peer.id]: peer.account.name };
    for (const p of call.participants.values()) names[p.id] = p.account.name;
    const offerTo = [...call.participants.keys()];
    call.participants.set(peer.id, peer);
    await store.recordAccess({ at: clock.now(), viewerId: peer.account.id, homeId: call.record.homeId, what: 'video call' });
    for (const id of offerTo) call.participants.get(id)?.send({ type: 'peer-joined', callId: call.record.id, peer: peer.id, name: peer.account.name });
    peer.send({ type: 'joined', callId: call.record.id, home: call.record.homeId, offerTo, names });
  }

  async function leave(peer: Peer, call: LiveCall): Promise<void> {
    if (call.state === 'ringing') {
      if (peer === call.caller) await end(call, 'cancelled');
      return;
    }
    if (!call.participants.delete(peer.id)) return;
    const essential = peer === call.caller || homeOfTablet.get(peer.id) === call.record.homeId;
    if (essential || call.participants.size < 2) return end(call, 'ended');
    for (const p of call.participants.values()) p.send({ type: 'peer-left', callId: call.record.id, peer: peer.id });
  }

  async function handle(peer: Peer, m: ClientMessage): Promise<void> {
    switch (m.type) {
      case 'call': return startCall(peer, m);
      case 'answer': return answer(peer, m);
      case 'decline': {
        const call = callFor(peer, m.callId);
        tabletOf(peer, call);
        if (call.state !== 'ringing') throw new Refused('not-ringing', 'the call is not ringing');
        return end(call, 'declined');
      }
      case 'join': return join(peer, m);
      case 'signal': {
        const call = callFor(peer, m.callId);
        const to = call.participants.get(m.to);
        if (!call.participants.has(peer.id) || !to) throw new Refused('forbidden', 'not in this call');
        to.send({ type: 'signal', callId: m.callId, from: peer.id, data: m.data });
        return;
      }
      case 'hangup': return leave(peer, callFor(peer, m.callId));
      case 'quality': {
        // Reported after the call ended, so look at the record rather than the live call.
        const record = calls.get(m.callId)?.record ?? (await store.getCall(m.callId));
        if (!record) throw new Refused('no-call', 'no such call');
        const rel = await access.relation(peer.account, record.homeId);
        if (!rel) throw new Refused('forbidden', 'not this home');
        const q: CallQuality = { callId: record.id, homeId: record.homeId, accountId: peer.account.id, role: peer.account.role, durationMs: m.durationMs, at: clock.now() };
        if (m.rttMs !== undefined) q.rttMs = m.rttMs;
        if (m.packetLossPct !== undefined) q.packetLossPct = m.packetLossPct;
        if (m.framesDecoded !== undefined) q.framesDecoded = m.framesDecoded;
        logger.info({ call: record.id, home: record.homeId, rttMs: q.rttMs, packetLossPct: q.packetLossPct, durationMs: q.durationMs }, 'video call quality');
        await opts.writeCallQuality?.(q);
        return;
      }
    }
  }

  /** Handles `m`; a refusal goes back to the sender as `{ type: 'error' }`. */
  async function handleOrRefuse(peer: Peer, m: ClientMessage): Promise<void> {
    try {
      await handle(peer, m);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      logger.info({ peer: peer.account.id, type: m.type, code: err.code }, 'video request refused');
      peer.send({ type: 'error', code: err.code, message: err.message, ...('callId' in m ? { callId: m.callId } : {}) });
    }
  }

  async function leaveAll(peer: Peer): Promise<void> {
    const home = homeOfTablet.get(peer.id);
    for (const call of [...calls.values()]) if (call.caller === peer || call.participants.has(peer.id)) await leave(peer, call);
    if (home) { tablets.get(home)?.delete(peer); homeOfTablet.delete(peer.id); }
  }

  async function received(e: VideoEnvelope): Promise<void> {
    switch (e.kind) {
      case 'client': {
        const peer = await remotePeer(e.from);
        if (!peer) { logger.warn({ account: e.from.accountId }, 'video message from an unknown account dropped'); return; }
        return handleOrRefuse(peer, e.message);
      }
      case 'to-peer': peers.get(e.peerId)?.send(e.message); return;
      case 'to-tablets':
        for (const t of tablets.get(e.homeId) ?? []) if (!e.except.includes(t.id)) t.send(e.message);
        return;
      case 'tablet-here': {
        const ringing = [...calls.values()].filter((c) => c.record.homeId === e.peer.tabletHome && c.state === 'ringing');
        if (ringing.length === 0) return;
        const peer = await remotePeer(e.peer);
        for (const call of ringing) peer?.send(incoming(call));
        return;
      }
      case 'gone': {
        const peer = remotes.get(e.peerId);
        if (!peer) return;
        remotes.delete(e.peerId);
        return leaveAll(peer);
      }
    }
  }
  // Envelopes are handled one at a time, in arrival order (an offer before its candidates).
  let inbox: Promise<void> = Promise.resolve();
  const stopReceiving = exchange.receive((e) => {
    inbox = inbox.then(() => received(e)).catch((err: unknown) => logger.error({ err, kind: e.kind }, 'video envelope failed'));
  });

  return {
    /** A browser connected; tablets get any call already ringing for their home, on any node. */
    async connect(peer: Peer): Promise<void> {
      peers.set(peer.id, peer);
      if (peer.account.role !== 'resident') return;
      const home = (await access.visibleHomes(peer.account)).find((r) => r.kind === 'resident')?.homeId;
      if (!home) return;
      homeOfTablet.set(peer.id, home);
      let set = tablets.get(home);
      if (!set) { set = new Set(); tablets.set(home, set); }
      set.add(peer);
      for (const call of calls.values()) if (call.record.homeId === home && call.state === 'ringing') peer.send(incoming(call));
      await exchange.broadcast({ kind: 'tablet-here', peer: refOf(peer) });
    },

    /** A browser went away: it leaves every call it was in, on any node. */
    async disconnect(peer: Peer): Promise<void> {
      peers.delete(peer.id);
      await leaveAll(peer);
      await exchange.broadcast({ kind: 'gone', peerId: peer.id });
    },

    /**
     * One validated message from a browser on this node; a refusal goes back
     * to it as `{ type: 'error' }`. A message about a call held by another
     * node is forwarded there.
     */
    async handle(peer: Peer, m: ClientMessage): Promise<void> {
      if ('callId' in m && m.type !== 'quality' && !calls.has(m.callId)) {
        const node = await exchange.nodeOfCall(m.callId);
        if (node !== undefined && node !== exchange.nodeId) {
          await exchange.send(node, { kind: 'client', from: refOf(peer), message: m });
          return;
        }
      }
      await handleOrRefuse(peer, m);
    },

    /** Whether a call for this check-in is ringing or connected now. */
    callInProgress(checkinId: string): boolean {
      return settling.has(checkinId) || [...calls.values()].some((c) => c.record.checkinId === checkinId);
    },

    /** The live call of a home, if any (pages show "in a call"). */
    activeCall(homeId: string): { id: string; state: 'ringing' | 'connected'; participants: number } | undefined {
      const c = [...calls.values()].find((x) => x.record.homeId === homeId);
      return c && { id: c.record.id, state: c.state, participants: c.participants.size };
    },

    async close(): Promise<void> {
      for (const call of [...calls.values()]) await end(call, 'ended');
      stopReceiving();
      await inbox;
      if (ownExchange) await exchange.close();
    },
  };
}

export type VideoCalls = ReturnType<typeof createVideoCalls>;
