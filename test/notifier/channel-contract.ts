/**
 * The contract every notification channel must meet, as one suite that any
 * implementation runs (like MQTT.js's abstract store tests). The channel
 * under test is real; `make` also says which recipients the provider will
 * deliver to and which it will refuse.
 */
import type { Test } from 'tap';
import type { Channel, Recipient } from '../../notifier/channel.js';

export interface ChannelUnderTest {
  channel: Channel;
  /** A recipient the provider accepts. */
  reachable: Recipient;
  /** A recipient whose address the provider refuses. */
  refused: Recipient;
  /** A recipient with no address for this channel at all. */
  noAddress: Recipient;
  /** Provider-side messages accepted so far (to prove nothing was sent). */
  accepted(): number;
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
      const before = c.accepted();
      const r = await c.channel.send({ to: c.reachable, text: 'contract: こんにちは', alertId: 'alert-1' });
      t.ok(r.status === 'queued' || r.status === 'sent', `status ${r.status}`);
      t.type(r.providerId, 'string');
      t.notOk(r.error);
      t.equal(c.accepted(), before + 1, 'the provider got exactly one message');
    });

    t.test('a refused recipient: failed with a reason, no throw', async (t) => {
      const r = await c.channel.send({ to: c.refused, text: 'contract' });
      t.equal(r.status, 'failed');
      t.type(r.error, 'string');
    });

    t.test('no address: failed with a reason, nothing sent', async (t) => {
      const before = c.accepted();
      const r = await c.channel.send({ to: c.noAddress, text: 'contract' });
      t.equal(r.status, 'failed');
      t.type(r.error, 'string');
      t.equal(c.accepted(), before);
    });

    t.test('concurrent sends get distinct provider ids', async (t) => {
      const results = await Promise.all([1, 2, 3, 4].map((i) => c.channel.send({ to: c.reachable, text: `contract ${i}` })));
      const ids = new Set(results.map((r) => r.providerId));
      t.equal(ids.size, 4);
    });

    t.test('receipt verification refuses an unsigned request', async (t) => {
      if (!c.channel.verifyReceipt) return t.pass('channel has no receipts');
      t.equal(c.channel.verifyReceipt({ url: 'http://127.0.0.1/x', signature: undefined, params: { MessageSid: 'x', MessageStatus: 'delivered' } }), undefined);
    });
  });
}
