/**
 * A finding is what a rule concludes about a home: raised when a condition
 * starts, cleared when it ends (edge-triggered). The notifier turns findings
 * into alerts; history keeps them all.
 */
export type Severity = 'info' | 'warning' | 'critical';

/**
 * Who a finding is for: family-facing alerts, device health for the operator,
 * or observations for the caregiver (slow trends in the resident's routine —
 * notes for the care manager, never alarms).
 */
export type Audience = 'family' | 'operator' | 'caregiver';

/** User-visible text in both languages. */
export interface Localized { en: string; ja: string }

export interface Finding {
  home: string;
  /** The rule's id in the home's rule set (e.g. `no-sign-of-life`). */
  rule: string;
  /** The rule's type (e.g. `noSignOfLife`). */
  type: string;
  state: 'raised' | 'cleared';
  severity: Severity;
  audience: Audience;
  /** Clock time the rule decided (virtual time in tests and replay), epoch ms. */
  at: number;
  device?: string;
  /** One-line summary. */
  message: Localized;
  /** What was expected, and what happened: the explanation every alert carries. */
  expected: Localized;
  observed: Localized;
  /** Machine-readable facts behind the explanation (times, minutes, values). */
  data?: Record<string, number | string | boolean>;
}

export const severityRank: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
