/**
 * The hub's side of the flows bridge: readings, findings and alert changes
 * out to the nodes; findings and messages from the nodes back in through
 * the same paths the built-in rules use. Everything a flow sends in is
 * validated here, because a flow is user-written code.
 */
import type { Observable } from 'rxjs';
import { Subject } from 'rxjs';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { idSchema, type Reading } from '../core/events.js';
import type { Finding, Localized } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import type { AlertStore, AuditStore, HomeStore } from '../core/store.js';
import { MimamoriError } from '../core/errors.js';
import type { Channel } from '../notifier/index.js';
import { createRateLimiter } from '../notifier/index.js';
import type { AlertChange, AlertChangeKind, ContactGroup, FlowsApi, NotifyResult, RaiseResult } from './api.js';

/** What the notifier mirrors to history on every alert change (`NotifierHistory.writeAlert`). */
export interface AlertRecord { id: string; homeId: string; rule: string; severity: string; status: string; at: number }

export interface FlowsBridgeOptions {
  store: HomeStore & AlertStore & AuditStore;
  clock: Clock;
  logger: Logger;
  /** Validated readings, as the rule engine receives them. */
  readings: Observable<Reading>;
  /** The built-in rules' findings. */
  findings: Observable<Finding>;
  /** Alert changes (tee of the notifier's `history.writeAlert`). */
  alertChanges: Observable<AlertRecord>;
  /** The hub's finding path (notifier, history, recent findings), as for a built-in rule's finding. */
  handleFinding(f: Finding): Promise<{ alertId?: string; created: boolean }>;
  /** The notifier's channels: SMS for contacts with a phone, e-mail for the others. */
  channels: { sms: Channel; email?: Channel };
  /** Messages from `notify` per home per hour (default 6). */
  maxNotifyPerHour?: number;
}

export interface FlowsBridge extends FlowsApi {
  /** Resolves when every alert change received so far has reached the nodes. */
  idle(): Promise<void>;
  close(): void;
}

const text = z.string().min(1).max(1000);
const localizedSchema = z.object({ en: text, ja: text });
const flowFindingSchema = z.object({
  home: idSchema,
  rule: z.string().regex(/^flow-[a-z0-9][a-z0-9_-]{0,57}$/, 'a flow rule is "flow-" then lower-case letters, digits, "-" or "_"'),
  type: z.literal('flow'),
  state: z.enum(['raised', 'cleared']),
  severity: z.enum(['info', 'warning', 'critical']),
  audience: z.enum(['family', 'operator', 'caregiver']),
  at: z.number().finite(),
  device: idSchema.optional(),
  message: localizedSchema,
  expected: localizedSchema,
  observed: localizedSchema,
  data: z.record(z.string(), z.union([z.number(), z.string().max(200), z.boolean()])).optional(),
});

const changeFor: Record<string, AlertChangeKind | undefined> = { open: 'opened', acknowledged: 'acknowledged', resolved: 'resolved' };
const maxTracked = 5000;
const actor = 'flows';

/** Creates the bridge; `close()` stops every subscription. */
export function createFlowsBridge(opts: FlowsBridgeOptions): FlowsBridge {
  const { store, clock, logger: log } = opts;
  const flowFindings = new Subject<Finding>();
  const changes = new Subject<AlertChange>();
  const limiter = createRateLimiter({ max: opts.maxNotifyPerHour ?? 6, windowMs: 3600_000 });
  /** Last status seen per alert: the notifier mirrors repeats too, a flow hears each step once. */
  const lastStatus = new Map<string, string>();
  let queue: Promise<void> = Promise.resolve();

  async function toChange(r: AlertRecord): Promise<AlertChange | undefined> {
    const change = changeFor[r.status];
    if (!change || lastStatus.get(r.id) === r.status) return undefined;
    const alert = await store.getAlert(r.id);
    // A repeat of an open alert is mirrored as `open` too; only the opening itself counts.
    if (change === 'opened' && alert && alert.openedAt !== r.at) return undefined;
    lastStatus.delete(r.id);
    lastStatus.set(r.id, r.status);
    if (lastStatus.size > maxTracked) lastStatus.delete(lastStatus.keys().next().value!);
    const out: AlertChange = { change, alertId: r.id, homeId: r.homeId, rule: r.rule, severity: r.severity, at: r.at };
    const m = (alert?.finding as Partial<Finding> | undefined)?.message;
    if (m && typeof m.en === 'string' && typeof m.ja === 'string') out.message = { en: m.en, ja: m.ja };
    return out;
  }

  const alertSub = opts.alertChanges.subscribe((r) => {
    // One after another, so a flow hears opened before acknowledged.
    queue = queue.then(() => toChange(r)).then((c) => { if (c) changes.next(c); }, (err: unknown) => log.warn({ err, alertId: r.id }, 'alert change not passed to flows'));
  });

  /** Subscribes `fn`; a node that throws is logged and never breaks the stream for the others. */
  function listen<T>(source: Observable<T>, fn: (v: T) => void, what: string): () => void {
    const sub = source.subscribe((v) => {
      try { fn(v); } catch (err) { log.warn({ err, what }, 'a flow node threw on a hub event'); }
    });
    return () => sub.unsubscribe();
  }

  async function send(channel: Channel, msg: Parameters<Channel['send']>[0]): Promise<boolean> {
    try { return (await channel.send(msg)).status !== 'failed'; } catch { return false; }
  }

  return {
    onReading: (fn) => listen(opts.readings, fn, 'reading'),
    onFinding: (fn) => {
      const a = listen(opts.findings, fn, 'finding');
      const b = listen(flowFindings, fn, 'finding');
      return () => { a(); b(); };
    },
    onAlertChange: (fn) => listen(changes, fn, 'alert change'),
    now: () => clock.now(),

    async raiseFinding(finding): Promise<RaiseResult> {
      const parsed = flowFindingSchema.safeParse(finding);
      if (!parsed.success) {
        throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', parsed.error.issues.map((i) => `${i.path.join('.') || '(finding)'}: ${i.message}`).join('; '));
      }
      const f = parsed.data as Finding;
      if (!(await store.getHome(f.home))) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `no home "${f.home}" on this hub`);
      await store.audit({ at: clock.now(), actor, action: 'flows.finding', subject: f.home, detail: { rule: f.rule, state: f.state, severity: f.severity, audience: f.audience } });
      const result = await opts.handleFinding(f);
      flowFindings.next(f);
      const out: RaiseResult = { created: result.created };
      if (result.alertId) out.alertId = result.alertId;
      return out;
    },

    async notify(homeId: string, group: ContactGroup, message: Localized): Promise<NotifyResult> {
      const home = idSchema.safeParse(homeId);
      const body = localizedSchema.safeParse(message);
      if (!home.success || !body.success) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', !home.success ? 'home must be a home id' : 'text must be { ja, en } with 1–1000 characters each');
      if (!(await store.getHome(homeId))) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `no home "${homeId}" on this hub`);
      const at = clock.now();
      if (!limiter.take(homeId, at)) {
        log.warn({ home: homeId, group }, 'flow message held back: too many for this home this hour');
        await store.audit({ at, actor, action: 'flows.notify-limited', subject: homeId, detail: { group } });
        return { sent: 0, failed: 0, limited: true };
      }
      const contacts = (await store.listContacts(homeId)).filter((c) => c.role === group);
      let sent = 0;
      let failed = 0;
      for (const c of contacts) {
        const to = { id: c.id, homeId, language: c.language, ...(c.phone ? { phone: c.phone } : {}), ...(c.email ? { email: c.email } : {}) };
        const msg = { to, text: body.data[c.language], texts: body.data };
        const channel = c.phone ? opts.channels.sms : c.email ? opts.channels.email : undefined;
        if (channel && (await send(channel, msg))) sent += 1; else failed += 1;
      }
      await store.audit({ at, actor, action: 'flows.notify', subject: homeId, detail: { group, sent, failed } });
      log.info({ home: homeId, group, sent, failed }, 'flow message sent');
      return { sent, failed, limited: false };
    },

    idle: async () => { let seen: Promise<void> | undefined; while (seen !== queue) { seen = queue; await queue; } },

    close() {
      alertSub.unsubscribe();
      flowFindings.complete();
      changes.complete();
    },
  };
}
