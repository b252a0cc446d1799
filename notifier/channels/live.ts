/**
 * Live updates for the dashboards: an in-process publish/subscribe bus the
 * web app streams to browsers over server-sent events, and a `Channel` on
 * top of it so a dashboard viewer can be an escalation tier's target. A
 * message counts as sent only when some open dashboard received it; with
 * nobody watching it fails, so the person's next channel is tried.
 */
import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../../core/logger.js';
import { newId } from '../../core/ids.js';
import type { Channel, ChannelMessage, SendResult } from '../channel.js';

/** One live event; `type` says what it is (`notification`, `alert`, `ack`, …), the rest is the event's own. */
export interface LiveEvent { type: string; homeId: string; at: number; [field: string]: unknown }

export interface LiveBus {
  /** Hands `event` to every subscriber of `homeId` and of `'*'`; returns how many viewers received it (relays not counted). */
  publish(homeId: string, event: Omit<LiveEvent, 'homeId'> & { homeId?: string }): number;
  /**
   * Subscribes to one home's events, or `'*'` for all; returns the unsubscribe function.
   * `relay: true` marks a subscriber that only passes events on (a cluster's forwarder into
   * Redis): it gets every event but is not somebody watching, so it never makes the live
   * channel count a notification as seen.
   */
  subscribe(homeId: string, fn: (e: LiveEvent) => void, opts?: { relay?: boolean }): () => void;
  /** Viewers (not relays) that would receive an event for `homeId` now. */
  listeners(homeId: string): number;
  close(): void;
}

/**
 * Creates the bus. A subscriber that throws is logged and skipped; it never
 * stops the others.
 *
 * @example
 * const bus = createLiveBus({ logger });
 * const off = bus.subscribe('home-1', (e) => sse.write(`data: ${JSON.stringify(e)}\n\n`));
 */
export function createLiveBus(opts: { logger?: Logger } = {}): LiveBus {
  const byHome = new Map<string, Set<(e: LiveEvent) => void>>();
  const relays = new WeakSet<(e: LiveEvent) => void>();
  const setFor = (home: string) => byHome.get(home) ?? new Set<(e: LiveEvent) => void>();
  const viewers = (set: Set<(e: LiveEvent) => void>) => { let n = 0; for (const fn of set) if (!relays.has(fn)) n += 1; return n; };
  return {
    publish(homeId, event) {
      const e = { ...event, homeId } as LiveEvent;
      let reached = 0;
      for (const fn of [...setFor(homeId), ...(homeId === '*' ? [] : setFor('*'))]) {
        try { fn(e); if (!relays.has(fn)) reached += 1; } catch (err) { opts.logger?.warn({ err: (err as Error).message, type: e.type }, 'live subscriber threw'); }
      }
      return reached;
    },
    subscribe(homeId, fn, subOpts) {
      // One subscription per call, even for the same function: a wrapper keeps them apart.
      const own = (e: LiveEvent) => fn(e);
      if (subOpts?.relay) relays.add(own);
      const set = setFor(homeId);
      set.add(own);
      byHome.set(homeId, set);
      return () => {
        set.delete(own);
        if (set.size === 0 && byHome.get(homeId) === set) byHome.delete(homeId);
      };
    },
    listeners: (homeId) => viewers(setFor(homeId)) + (homeId === '*' ? 0 : viewers(setFor('*'))),
    close() { byHome.clear(); },
  };
}

/**
 * The dashboards as a channel: publishes `{ type: 'notification', id,
 * alertId, contactId, language, text, texts }` to the recipient's home.
 */
export function createLiveChannel(opts: { bus: LiveBus; clock: SchedulerLike }): Channel {
  return {
    name: 'live',
    async send(msg: ChannelMessage): Promise<SendResult> {
      const homeId = msg.to.homeId;
      if (!homeId) return { status: 'failed', error: 'recipient has no home for the dashboards' };
      const at = opts.clock.now();
      const id = newId(at);
      const event: LiveEvent = { type: 'notification', id, homeId, at, language: msg.to.language, text: msg.text };
      if (msg.alertId) event.alertId = msg.alertId;
      if (msg.to.id) event.contactId = msg.to.id;
      if (msg.texts) event.texts = msg.texts;
      const reached = opts.bus.publish(homeId, event);
      return reached > 0 ? { providerId: id, status: 'sent' } : { status: 'failed', error: 'no dashboard is open for this home' };
    },
  };
}
