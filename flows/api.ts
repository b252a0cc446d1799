/**
 * The bridge between the hub and the project's Node-RED nodes. The hub
 * implements it (bridge.ts); the nodes only ever talk to the hub through it,
 * so a flow sees exactly what the rule engine sees and its findings take the
 * same path as a built-in rule's.
 */
import type { Reading } from '../core/events.js';
import type { Finding, Localized } from '../core/findings.js';
import type { ContactRole } from '../core/store.js';

/** A home's contact group a flow may message. */
export type ContactGroup = ContactRole;
export const contactGroups: readonly ContactGroup[] = ['family', 'caregiver', 'resident', 'emergency'];

/** Alert lifecycle steps a flow can listen to. */
export type AlertChangeKind = 'opened' | 'acknowledged' | 'resolved';
export const alertChangeKinds: readonly AlertChangeKind[] = ['opened', 'acknowledged', 'resolved'];

/** One step in an alert's life, as the `alert in` node emits it. */
export interface AlertChange {
  change: AlertChangeKind;
  alertId: string;
  homeId: string;
  rule: string;
  severity: string;
  /** Clock time of the change, epoch ms. */
  at: number;
  /** The alert's one-line summary in both languages (from the finding that opened it). */
  message?: Localized;
}

export interface RaiseResult { alertId?: string; created: boolean }
export interface NotifyResult { sent: number; failed: number; limited: boolean }

export interface FlowsApi {
  /** Every validated reading (events and heartbeats) the rule engine receives; returns the unsubscribe. */
  onReading(fn: (r: Reading) => void): () => void;
  /** Every finding from the built-in rules and from flows. */
  onFinding(fn: (f: Finding) => void): () => void;
  /** Alert lifecycle changes (opened, acknowledged, resolved). */
  onAlertChange(fn: (c: AlertChange) => void): () => void;
  /**
   * Raises (or clears) a finding through the same alert lifecycle and escalation as
   * the built-in rules. Refuses (MIMAMORI_ERR_INVALID_INPUT) unknown homes and invalid findings.
   */
  raiseFinding(finding: Finding): Promise<RaiseResult>;
  /** Sends a message to a home's contact group through the notifier's channels (rate limited per home). */
  notify(homeId: string, group: ContactGroup, text: Localized): Promise<NotifyResult>;
  /** The hub's clock (virtual in tests): nodes stamp findings with it. */
  now(): number;
}

/** The Node-RED settings key the nodes read the bridge from. */
export const settingsKey = 'mimamori';
