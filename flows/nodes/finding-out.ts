/**
 * `mimamori finding out`: raises (or, with `msg.clear`, clears) a custom
 * finding. It takes the same path as a built-in rule's finding: an alert,
 * escalation through the home's policy, history. The rule id is the node's
 * `rule` prefixed with `flow-`, so a flow can never merge into a built-in
 * rule's alert.
 */
import type { Audience, Finding, Localized, Severity } from '../../core/findings.js';
import { connectNode, messageTarget } from './home-config.js';
import type { NodeMessage, RedApi, RedNode } from './red.js';

export const findingOutType = 'mimamori finding out';
const severities: readonly Severity[] = ['info', 'warning', 'critical'];
const audiences: readonly Audience[] = ['family', 'caregiver', 'operator'];

/** `{ ja, en }`, or one string used for both languages; undefined otherwise. */
export function localized(value: unknown): Localized | undefined {
  if (typeof value === 'string' && value.trim() !== '') return { ja: value, en: value };
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    const en = typeof v.en === 'string' && v.en !== '' ? v.en : undefined;
    const ja = typeof v.ja === 'string' && v.ja !== '' ? v.ja : undefined;
    if (en || ja) return { en: en ?? ja!, ja: ja ?? en! };
  }
  return undefined;
}

const pick = <T extends string>(allowed: readonly T[], ...values: unknown[]): T | undefined =>
  values.find((v): v is T => typeof v === 'string' && (allowed as readonly string[]).includes(v));

/** Builds the finding a message asks for; a string says why it cannot. */
export function findingFromMessage(config: Record<string, unknown>, msg: NodeMessage, home: string, at: number): Finding | string {
  const ruleName = typeof msg.rule === 'string' && msg.rule !== '' ? msg.rule : config.rule;
  if (typeof ruleName !== 'string' || ruleName === '') return 'no rule id: set one on the node or in msg.rule';
  const rule = ruleName.startsWith('flow-') ? ruleName : `flow-${ruleName}`;
  const message = localized(msg.message) ?? localized(msg.payload) ?? localized({ en: config.messageEn, ja: config.messageJa });
  if (!message) return 'no message: set one on the node, or send msg.message as { ja, en } or a string';
  const finding: Finding = {
    home, rule, type: 'flow',
    state: msg.clear === true || msg.state === 'cleared' ? 'cleared' : 'raised',
    severity: pick(severities, msg.severity, config.severity) ?? 'warning',
    audience: pick(audiences, config.audience) ?? 'family',
    at: typeof msg.at === 'number' && Number.isFinite(msg.at) ? msg.at : at,
    message,
    expected: localized(msg.expected) ?? localized({ en: config.expectedEn, ja: config.expectedJa }) ?? { en: `Nothing for the flow rule "${ruleName}" to report`, ja: `フロー「${ruleName}」の条件に当てはまらないこと` },
    observed: localized(msg.observed) ?? message,
  };
  if (typeof msg.device === 'string') finding.device = msg.device;
  if (msg.data && typeof msg.data === 'object') {
    const data: Record<string, number | string | boolean> = {};
    for (const [k, v] of Object.entries(msg.data as Record<string, unknown>)) {
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') data[k] = v;
    }
    finding.data = data;
  }
  return finding;
}

export function registerFindingOut(RED: RedApi): void {
  RED.nodes.registerType(findingOutType, function (this: RedNode, config) {
    RED.nodes.createNode(this, config);
    const connected = connectNode(RED, this, config.home);
    this.on('input', (msg, send, done) => {
      const target = messageTarget(findingOutType, connected, msg);
      if (target instanceof Error) { done(target); return; }
      const { api, home } = target;
      const finding = findingFromMessage(config, msg, home, api.now());
      if (typeof finding === 'string') { done(new Error(`mimamori finding out: ${finding}`)); return; }
      api.raiseFinding(finding).then((result) => {
        this.status({ fill: finding.state === 'raised' ? 'yellow' : 'green', shape: 'dot', text: `${finding.state}: ${finding.rule}` });
        send({ ...msg, payload: { ...result, rule: finding.rule, state: finding.state, home } });
        done();
      }, (err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
    });
  });
}
