/**
 * Live updates the web app pushes to open pages (server-sent events). The
 * hub's live bus (notifier/channels/live.ts) satisfies `LiveFeed`
 * structurally; `createLocalLiveFeed` is the in-process one the web app uses
 * for its own changes (news, attendance, responses) and in tests.
 */
import { EventEmitter } from 'node:events';

export interface LiveEvent { type: string; homeId: string; alertId?: string; at: number }

export interface LiveFeed {
  /** Events for one home, or every home with `'*'`; returns an unsubscribe function. */
  subscribe(home: string | '*', fn: (e: LiveEvent) => void): () => void;
}

export interface LocalLiveFeed extends LiveFeed {
  publish(e: LiveEvent): void;
}

/** An EventEmitter-backed feed: publish delivers synchronously to subscribers of the home and of `'*'`. */
export function createLocalLiveFeed(): LocalLiveFeed {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(e) { emitter.emit(e.homeId, e); emitter.emit('*', e); },
    subscribe(home, fn) {
      emitter.on(home, fn);
      return () => { emitter.off(home, fn); };
    },
  };
}
