/**
 * The contract every notification channel must meet, as one suite that any
 * implementation runs (like MQTT.js's abstract store tests). The channel
 * under test is real; `make` also says which recipients the provider will
 * deliver to and which it will refuse.
 */
import type { Test } from 'tap';
import type { Alert } from '../../core/store.js';
import type { Channel, Recipient } from '../../notifier/channel.js';
import type { AlertResponder, ResponseInput, ResponseResult } from '../../notifier/responder.js';

export interface ChannelUnderTest {
  channel: Channel;
  /** A recipient the provider accepts. */
  reachable: Recipient;
  /** A recipient whose address the provider refuses. */
  refused: Recipient;
  /** A recipient with no address for this channel at all. */
  noAddress: Recipient;
  /**
   * Provider-side messages accepted so far (to prove nothing was sent). May
   * wait for real I/O (an MQTT subscriber, an SMTP server) to catch up.
   */
  accepted(): number | Promise<number>;
  close(): Promise<void>;
}

export function channelContract(t: Test, label: string, make: () => Promise<ChannelUnderTest>): void {
  t.test(`${label}: channel contract`, async (t) => {
    const c = await make();
    t.teardown(() => c.close());

    t.test('has a name for the notification records', async (t) => {
      t.match(c.channel.name, /^[a-z][a-z0-9-]*$/);
    });

    t.test('a reachable recipient: queued or sent, with a provider id', async (t) => {
      const before = await c.accepted();
      const r = await c.channel.send({ to: c.reachable, text: 'contract: こんにちは', alertId: 'alert-1' });
      t.ok(r.status === 'queued' || r.status === 'sent', `status ${r.status}`);
      t.type(r.providerId, 'string');
      t.notOk(r.error);
      t.equal(await c.accepted(), before + 1, 'the provider got exactly one message');
    });

    t.test('a refused recipient: failed with a reason, no throw', async (t) => {
      const r = await c.channel.send({ to: c.refused, text: 'contract' });
      t.equal(r.status, 'failed');
      t.type(r.error, 'string');
    });

    t.test('no address: failed with a reason, nothing sent', async (t) => {
      const before = await c.accepted();
      const r = await c.channel.send({ to: c.noAddress, text: 'contract' });
      t.equal(r.status, 'failed');
      t.type(r.error, 'string');
      t.equal(await c.accepted(), before);
    });

    t.test('concurrent sends get distinct provider ids', async (t) => {
      const results = await Promise.all([1, 2, 3, 4].map((i) => c.channel.send({ to: c.reachable, text: `contract ${i}` })));
      const ids = new Set(results.map((r) => r.providerId));
      t.equal(ids.size, 4);
    });

    t.test('an empty text gets an answer (sent or failed), never a throw', async (t) => {
      const r = await c.channel.send({ to: c.reachable, text: '' }).catch((err: unknown) => ({ status: 'threw', error: String(err) }));
      t.not(r.status, 'threw', 'send never throws');
    });

    t.test('receipt verification refuses an unsigned request', async (t) => {
      if (!c.channel.verifyReceipt) return t.pass('channel has no receipts');
      t.equal(c.channel.verifyReceipt({ url: 'http://127.0.0.1/x', signature: undefined, params: { MessageSid: 'x', MessageStatus: 'delivered' } }), undefined);
    });
  });
}

/**
 * A small AlertResponder that records what it was asked and answers from a
 * table (the escalation engine implements the real one). Shared by the
 * webhook, voice and e-mail tests.
 */
export interface RecordedResponse { action: 'acknowledge' | 'onMyWay' | 'arrived' | 'resolve'; input: ResponseInput & { etaMinutes?: number; note?: string } }

export function recordingResponder(phones: Record<string, { alertId: string; contactId: string }> = {}, refuse: ResponseResult | undefined = undefined): AlertResponder & { calls: RecordedResponse[] } {
  const calls: RecordedResponse[] = [];
  const answer = (action: RecordedResponse['action'], input: RecordedResponse['input']): Promise<ResponseResult> => {
    calls.push({ action, input });
    if (refuse) return Promise.resolve(refuse);
    const alert: Alert = { id: input.alertId, homeId: 'home-1', rule: 'r', severity: 'critical', status: action === 'resolve' ? 'resolved' : 'acknowledged', message: 'm', finding: {}, repeats: 0, openedAt: 0, updatedAt: 0 };
    return Promise.resolve({ ok: true, alert });
  };
  return {
    calls,
    acknowledge: (i) => answer('acknowledge', i),
    onMyWay: (i) => answer('onMyWay', i),
    arrived: (i) => answer('arrived', i),
    resolve: (i) => answer('resolve', i),
    bindReply: (phone) => Promise.resolve(phones[phone] ? { kind: 'one' as const, ...phones[phone] } : { kind: 'none' as const }),
    bindReplyFrom: (from) => { const hit = phones[from.address]; return Promise.resolve(hit ? { kind: 'one' as const, ...hit } : { kind: 'none' as const }); },
  };
}
