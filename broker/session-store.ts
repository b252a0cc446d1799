/**
 * The broker's LevelDB session store, minus the work clean sessions do not
 * need. aedes asks its persistence, on every clean-session CONNECT, to drop
 * the client's stored subscriptions, inbound QoS 2 packets, queued outgoing
 * messages and will, and once more on close — five LevelDB reads, range
 * deletes and deletes per login, each leaving tombstones in the memtable. A
 * device that uses clean sessions (the edge agent does, docs/broker.md) never
 * has any of that state, so every login after its first paid for nothing.
 *
 * This wrapper remembers which client ids are known to have **no** session
 * state in LevelDB and answers those calls for them without touching it:
 *
 * - an id becomes known-empty when a clean session for it is ready (aedes
 *   emits `clientReady` only after it ran the clean-up above against
 *   LevelDB) **and no write of session state for the id happened while that
 *   connect ran** — from its `cleanSubscriptions` to `clientReady`. A QoS 1
 *   message queued for the id's old persistent session can land in LevelDB
 *   in the middle of the clean connect (aedes acknowledges a publish before
 *   it enqueues it); marking the id empty then would skip the clean-up at
 *   close that removes it, and the next persistent session would get it;
 * - any call that writes session state for an id (subscriptions of a
 *   persistent session, queued or in-flight outgoing messages, an inbound
 *   QoS 2 packet) forgets it, both when the write starts and when it ends,
 *   so a write racing a login can never leave state behind that later
 *   logins skip;
 * - wills are tracked apart: the ids holding a stored will are read from
 *   LevelDB at start and kept up to date by `putWill`/`delWill`, so a will
 *   is still stored (and published after a crash, as before) and still
 *   deleted, but a login without one costs no read.
 *
 * - with `holders` (the hub passes a scan of LevelDB's keys), the ids that
 *   hold any session state are read once at start; every other id is empty
 *   from its very first login, until a write of session state for it starts
 *   (which adds it to the holders before the write lands). A device's first
 *   login after a restart then costs no LevelDB read either.
 *
 * Forgetting an id is always safe (the next call just goes to LevelDB), so
 * the set is bounded (`maxKnown`, oldest first out). Everything else goes to
 * aedes-persistence-level unchanged.
 */
import { Readable } from 'node:stream';

interface ClientRef { id: string; clean?: boolean }
interface SubRef { clientId: string }

/** The part of aedes-persistence-level's async class that aedes 1.x calls (typed loosely: aedes owns the shapes). */
export interface AedesPersistence {
  setup(broker: unknown): Promise<void>;
  storeRetained(packet: unknown): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
  addSubscriptions(client: ClientRef, subs: unknown[]): Promise<void>;
  removeSubscriptions(client: ClientRef, topics: string[]): Promise<void>;
  subscriptionsByClient(client: ClientRef): Promise<unknown[]>;
  countOffline(): Promise<unknown>;
  subscriptionsByTopic(pattern: string): Promise<unknown[]>;
  cleanSubscriptions(client: ClientRef): Promise<void>;
  outgoingEnqueue(sub: SubRef, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subs: SubRef[] | undefined, packet: unknown): Promise<unknown>;
  outgoingUpdate(client: ClientRef, packet: unknown): Promise<void>;
  outgoingClearMessageId(client: ClientRef, packet: unknown): Promise<unknown>;
  outgoingStream(client: ClientRef): Readable;
  incomingStorePacket(client: ClientRef, packet: unknown): Promise<void>;
  incomingGetPacket(client: ClientRef, packet: unknown): Promise<unknown>;
  incomingDelPacket(client: ClientRef, packet: unknown): Promise<void>;
  cleanIncoming(client: ClientRef): Promise<void>;
  putWill(client: ClientRef, packet: unknown): Promise<void>;
  getWill(client: ClientRef): Promise<unknown>;
  delWill(client: ClientRef): Promise<unknown>;
  streamWill(brokers?: Record<string, unknown>): Readable;
  getClientList(topic: string): Readable;
  destroy(): Promise<void>;
}

/** What the wrapper did, for tests and stats. */
export interface SessionStoreStats {
  /** Client ids known to hold no session state in LevelDB right now. */
  knownEmpty: number;
  /** Calls answered without LevelDB because the id was known to hold nothing. */
  skipped: number;
  /** Outgoing messages written for offline sessions (one per session), counted when the write finished. */
  queued: number;
}

interface BrokerEvents { on(event: 'clientReady', listener: (client: ClientRef) => void): unknown }

/** Wraps `inner` (aedes-persistence-level's async class); aedes uses the result as its persistence. */
export class CleanSessionShortcut implements AedesPersistence {
  private readonly empty = new Set<string>();
  /**
   * Clean connects in progress: client id → whether session state for it was written
   * since the connect's clean-up began. Only a connect that saw no write marks its id empty.
   */
  private readonly connecting = new Map<string, boolean>();
  /** Client id → putWill calls started, for ids that may have a stored will. */
  private readonly wills = new Map<string, number>();
  private skipped = 0;
  private queued = 0;
  /** Ids that may hold session state in LevelDB (read at start, grown by every write); undefined: not known. */
  private holding: Set<string> | undefined;

  /**
   * `holders` lists, at start, every client id with session state in LevelDB (subscriptions,
   * queued or in-flight outgoing messages, inbound QoS 2 packets); without it only ids seen
   * empty at a clean login are skipped.
   */
  constructor(private readonly inner: AedesPersistence, private readonly maxKnown = 200_000, private readonly holders?: () => AsyncIterable<string>) {}

  stats(): SessionStoreStats {
    return { knownEmpty: this.empty.size, skipped: this.skipped, queued: this.queued };
  }

  // aedes refuses a persistence whose setup is not an async function.
  async setup(broker: unknown): Promise<void> {
    await this.inner.setup(broker);
    if (this.holders) {
      const holding = new Set<string>();
      for await (const id of this.holders()) holding.add(id);
      this.holding = holding;
    }
    for await (const will of this.inner.streamWill() as AsyncIterable<{ clientId?: string }>) {
      if (typeof will.clientId === 'string') this.wills.set(will.clientId, 0);
    }
    (broker as BrokerEvents).on('clientReady', (client) => {
      const clean = this.connecting.get(client.id);
      this.connecting.delete(client.id);
      // Not watched (a persistent session, or the watch was dropped) or written meanwhile: ask LevelDB again next time.
      if (client.clean !== true || clean !== false) return;
      this.empty.delete(client.id);
      this.empty.add(client.id);
      if (this.empty.size > this.maxKnown) {
        const oldest = this.empty.values().next().value;
        if (oldest !== undefined) this.empty.delete(oldest);
      }
    });
  }

  /**
   * Whether `id` holds no session state and no will here, as far as this process knows, without
   * asking LevelDB (and without counting a skip): the device lane serves only such ids, so a
   * clean login that must discard a session still goes through aedes.
   */
  holdsNothing(id: string): boolean {
    return (this.empty.has(id) || (this.holding !== undefined && !this.holding.has(id))) && !this.wills.has(id) && !this.connecting.has(id);
  }

  private known(id: string): boolean {
    if (!this.empty.has(id) && (this.holding === undefined || this.holding.has(id))) return false;
    this.skipped++;
    return true;
  }

  /** Session state for `id` is being written: it is not empty, and a clean connect in progress must not say so. */
  private touch(id: string): void {
    this.holding?.add(id);
    this.empty.delete(id);
    if (this.connecting.has(id)) this.connecting.set(id, true);
  }

  /** Runs a write of session state for `id`: the id is forgotten before and after it. */
  private async writing<T>(id: string, write: () => Promise<T>): Promise<T> {
    this.touch(id);
    try {
      return await write();
    } finally {
      this.touch(id);
    }
  }

  storeRetained(packet: unknown) { return this.inner.storeRetained(packet); }
  createRetainedStream(pattern: string) { return this.inner.createRetainedStream(pattern); }
  createRetainedStreamCombi(patterns: string[]) { return this.inner.createRetainedStreamCombi(patterns); }
  addSubscriptions(client: ClientRef, subs: unknown[]) { return this.writing(client.id, () => this.inner.addSubscriptions(client, subs)); }
  removeSubscriptions(client: ClientRef, topics: string[]) { return this.inner.removeSubscriptions(client, topics); }
  async subscriptionsByClient(client: ClientRef) { return this.known(client.id) ? [] : this.inner.subscriptionsByClient(client); }
  countOffline() { return this.inner.countOffline(); }
  subscriptionsByTopic(pattern: string) { return this.inner.subscriptionsByTopic(pattern); }
  async cleanSubscriptions(client: ClientRef) {
    // aedes calls this only for a clean-session CONNECT: watch the id until its clientReady.
    if (this.connecting.size >= this.maxKnown) this.connecting.clear(); // dropped watches only mean no shortcut
    this.connecting.set(client.id, false);
    if (!this.known(client.id)) await this.inner.cleanSubscriptions(client);
  }
  async outgoingEnqueue(sub: SubRef, packet: unknown) {
    await this.writing(sub.clientId, () => this.inner.outgoingEnqueue(sub, packet));
    this.queued++;
  }

  async outgoingEnqueueCombi(subs: SubRef[] | undefined, packet: unknown) {
    if (!subs || subs.length === 0) return this.inner.outgoingEnqueueCombi(subs, packet);
    for (const s of subs) this.touch(s.clientId);
    try {
      const out = await this.inner.outgoingEnqueueCombi(subs, packet);
      this.queued += subs.length;
      return out;
    } finally {
      for (const s of subs) this.touch(s.clientId);
    }
  }

  outgoingUpdate(client: ClientRef, packet: unknown) { return this.writing(client.id, () => this.inner.outgoingUpdate(client, packet)); }
  async outgoingClearMessageId(client: ClientRef, packet: unknown) { return this.known(client.id) ? undefined : this.inner.outgoingClearMessageId(client, packet); }
  outgoingStream(client: ClientRef) { return this.known(client.id) ? Readable.from([]) : this.inner.outgoingStream(client); }
  incomingStorePacket(client: ClientRef, packet: unknown) { return this.writing(client.id, () => this.inner.incomingStorePacket(client, packet)); }
  incomingGetPacket(client: ClientRef, packet: unknown) { return this.inner.incomingGetPacket(client, packet); }
  incomingDelPacket(client: ClientRef, packet: unknown) { return this.inner.incomingDelPacket(client, packet); }
  async cleanIncoming(client: ClientRef) { if (!this.known(client.id)) await this.inner.cleanIncoming(client); }

  putWill(client: ClientRef, packet: unknown) {
    this.wills.set(client.id, (this.wills.get(client.id) ?? 0) + 1);
    return this.inner.putWill(client, packet);
  }

  getWill(client: ClientRef) { return this.inner.getWill(client); }

  async delWill(client: ClientRef) {
    const puts = this.wills.get(client.id);
    if (puts === undefined) { this.skipped++; return undefined; }
    const will = await this.inner.delWill(client);
    // A putWill that started meanwhile keeps the id (its will may be stored now).
    if (this.wills.get(client.id) === puts) this.wills.delete(client.id);
    return will;
  }

  streamWill(brokers?: Record<string, unknown>) { return this.inner.streamWill(brokers); }
  getClientList(topic: string) { return this.inner.getClientList(topic); }
  destroy() { return this.inner.destroy(); }
}
