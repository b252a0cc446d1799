/**
 * How people act on an alert, whatever way they reach the hub: an SMS reply,
 * a voice keypress, a signed one-time web link, the dashboards, the home
 * tablet, or the front door sensor confirming an arrival. Webhooks and HTTP
 * routes depend on this interface; the escalation engine implements it.
 */
import type { AddressKind, Alert } from '../core/store.js';

/**
 * How an answer came in. Open: a new channel (LINE, push) names itself; the
 * known words are listed so editors suggest them.
 */
export type ResponseChannel = 'sms' | 'voice' | 'web-link' | 'dashboard' | 'tablet' | 'door' | 'app' | 'system' | 'line' | 'push' | (string & {});

export interface ResponseInput {
  alertId: string;
  /** The contact acting (SMS reply, keypress, e-mail link); absent for sensors (door) and the system. */
  contactId?: string;
  /**
   * A web account acting from the dashboards. The web app has already checked
   * that this account may act for the alert's home, so no contact check applies.
   */
  account?: { id: string; name: string };
  via: ResponseChannel;
  /** Clock time; defaults to the responder's clock. */
  at?: number;
}

export type ResponseResult =
  | { ok: true; alert: Alert }
  | { ok: false; reason: 'not_found' | 'already_resolved' | 'not_a_recipient' | 'invalid'; message: string };

export interface AlertResponder {
  /** "I've seen it, I'm handling it": stops escalation to further tiers; everyone already told hears who. */
  acknowledge(input: ResponseInput): Promise<ResponseResult>;
  /** "On my way", with an expected arrival; escalation resumes if nobody arrives within ETA + grace. */
  onMyWay(input: ResponseInput & { etaMinutes?: number }): Promise<ResponseResult>;
  /** Someone is with the resident (app / tablet button, or the front door opening after "on my way"). */
  arrived(input: ResponseInput): Promise<ResponseResult>;
  /** Closed by a person, with an optional note. */
  resolve(input: ResponseInput & { note?: string }): Promise<ResponseResult>;
  /**
   * Which alert an SMS reply from this phone is about. The person's alerts
   * are the unresolved ones they were sent a message about (a group sent as
   * one message counts once). With a reply code: the alert with that code, or
   * `unknown-code`. Without one: their only alert, `ambiguous` when they have
   * several (nothing is acknowledged; they are asked which), `none` when none.
   */
  bindReply(phone: string, code?: string): Promise<ReplyBinding>;
  /** The same for an answer from another address (a LINE user id): the contacts with that address are the sender. */
  bindReplyFrom(from: { kind: AddressKind; address: string }, code?: string): Promise<ReplyBinding>;
}

/** What an SMS reply is bound to (see `AlertResponder.bindReply`). */
export type ReplyBinding =
  | { kind: 'one'; alertId: string; contactId: string }
  | { kind: 'none' }
  | { kind: 'ambiguous'; choices: ReplyChoice[] }
  | { kind: 'unknown-code'; code: string; choices: ReplyChoice[] };

/** One of a person's open alerts: its reply code and a short label (who, what) per language. */
export interface ReplyChoice { code: string; label: { ja: string; en: string } }
