import t from 'tap';
import type { ContactAddress } from '../../core/store.js';
import type { Channel } from '../../notifier/channel.js';
import { canReach, channelOrder, defaultFollowUpChannels } from '../../notifier/contact-channels.js';
import { validateContactPreferences } from '../../notifier/contact-preferences.js';

const ch = (name: string, addressKind?: Channel['addressKind']): Channel => ({ name, ...(addressKind ? { addressKind } : {}), send: () => Promise.resolve({ status: 'failed', error: 'not used' }) });
const channels = new Map([ch('sms', 'phone'), ch('voice', 'phone'), ch('email', 'email'), ch('line', 'line'), ch('push', 'push'), ch('tablet')].map((c) => [c.name, c]));
const addr = (kind: ContactAddress['kind'], verification: ContactAddress['verification'] = 'operator'): ContactAddress => ({ id: kind, contactId: 'c', kind, address: `${kind}-1`, verification, createdAt: 0 });

t.test('a channel reaches a person only through an address of its kind that is not pending', async (t) => {
  t.equal(canReach(channels, 'sms', [addr('phone')]), true);
  t.equal(canReach(channels, 'voice', [addr('email')]), false);
  t.equal(canReach(channels, 'line', [addr('line', 'pending')]), false, 'a LINE account not linked yet');
  t.equal(canReach(channels, 'line', [addr('line', 'verified')]), true);
  t.equal(canReach(channels, 'tablet', []), true, 'the tablet is the home itself');
  t.equal(canReach(channels, 'fax', [addr('phone')]), false, 'a channel the hub does not have');
});

t.test('follow-ups: the default order, only where the person can be reached', async (t) => {
  t.same(defaultFollowUpChannels, ['line', 'push', 'sms', 'email']);
  t.same(channelOrder({ channels, addresses: [addr('phone')] }), ['sms']);
  t.same(channelOrder({ channels, addresses: [addr('email')] }), ['email'], 'no phone: e-mail (was hard-coded)');
  t.same(channelOrder({ channels, addresses: [addr('phone'), addr('email'), addr('line', 'verified')] }), ['line', 'sms', 'email']);
  t.same(channelOrder({ channels, addresses: [] }), [], 'nobody to reach');
  t.same(channelOrder({ channels, addresses: [addr('phone'), addr('email')], fallback: ['email', 'sms'] }), ['email', 'sms'], 'the notifier option replaces the default');
});

t.test("a person's own order comes first; a tier's channels follow as written", async (t) => {
  const addresses = [addr('phone'), addr('line', 'verified')];
  t.same(channelOrder({ own: ['line'], tier: ['voice', 'sms'], channels, addresses }), ['line', 'voice', 'sms']);
  t.same(channelOrder({ own: ['push', 'sms'], tier: ['voice', 'sms'], channels, addresses }), ['sms', 'voice'], 'a chosen channel without an address is skipped; no repeats');
  t.same(channelOrder({ tier: ['voice', 'email'], channels, addresses }), ['voice', 'email'], 'the tier as the operator wrote it (a channel without an address fails fast and is recorded)');
});

t.test('preferences name any channel, each once', async (t) => {
  t.same(validateContactPreferences({ channels: ['line', 'sms'], digest: { times: ['19:00'], channel: 'line' } }), { channels: ['line', 'sms'], digest: { times: ['19:00'], channel: 'line' } });
  t.throws(() => validateContactPreferences({ channels: ['sms', 'sms'] }), { code: 'MIMAMORI_ERR_INVALID_INPUT', message: /channels: each channel once/ });
  t.throws(() => validateContactPreferences({ channels: ['SMS!'] }), { message: /channels.0: a channel name/ });
  t.throws(() => validateContactPreferences({ channels: [] }), { message: /pick at least one channel/ });
});
