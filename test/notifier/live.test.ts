import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createLiveBus, createLiveChannel, type LiveEvent } from '../../notifier/channels/live.js';
import { channelContract } from './channel-contract.js';

channelContract(t, 'live (dashboards bus)', async () => {
  const bus = createLiveBus();
  const seen: LiveEvent[] = [];
  const off = bus.subscribe('home-1', (e) => seen.push(e));
  return {
    channel: createLiveChannel({ bus, clock: new VirtualClock(0) }),
    reachable: { language: 'ja', homeId: 'home-1', id: 'c1' },
    refused: { language: 'ja', homeId: 'home-nobody-watches' },
    noAddress: { language: 'ja', phone: '+819011112222' },
    accepted: () => seen.length,
    close: async () => { off(); bus.close(); },
  };
});

t.test('the bus: per-home and all-homes subscribers, unsubscribe, a throwing subscriber does not stop others', async (t) => {
  const bus = createLiveBus({ logger: silentLogger() });
  const one: LiveEvent[] = [];
  const all: LiveEvent[] = [];
  const offOne = bus.subscribe('h1', (e) => one.push(e));
  bus.subscribe('*', (e) => all.push(e));
  bus.subscribe('h1', () => { throw new Error('broken browser stream'); });
  t.equal(bus.publish('h1', { type: 'alert', at: 1 }), 2, 'two reached, the broken one skipped');
  t.equal(bus.publish('h2', { type: 'alert', at: 2 }), 1);
  t.same(one, [{ type: 'alert', at: 1, homeId: 'h1' }]);
  t.same(all.map((e) => e.homeId), ['h1', 'h2']);
  t.equal(bus.listeners('h1'), 3);
  offOne();
  bus.publish('h1', { type: 'ack', at: 3 });
  t.equal(one.length, 1, 'unsubscribed');
  t.equal(bus.listeners('h3'), 1, 'only the all-homes subscriber');

  const clock = new VirtualClock(Date.parse('2026-11-21T10:00:00Z'));
  const live = createLiveChannel({ bus, clock });
  const r = await live.send({ to: { language: 'en', homeId: 'h9', id: 'ken' }, text: 'Bath water running', alertId: 'a1', texts: { ja: '水', en: 'Bath water running' } });
  t.equal(r.status, 'sent', 'the all-homes stream counts as a dashboard');
  t.same(all.at(-1), { type: 'notification', id: r.providerId, homeId: 'h9', at: clock.now(), language: 'en', text: 'Bath water running', alertId: 'a1', contactId: 'ken', texts: { ja: '水', en: 'Bath water running' } });
});

t.test('a relay (a cluster\'s forwarder into Redis) gets every event but is nobody watching: the live channel fails over', async (t) => {
  const bus = createLiveBus({ logger: silentLogger() });
  const relayed: LiveEvent[] = [];
  bus.subscribe('*', (e) => relayed.push(e), { relay: true });
  const live = createLiveChannel({ bus, clock: new VirtualClock(Date.parse('2026-11-21T10:00:00Z')) });
  const r = await live.send({ to: { language: 'ja', homeId: 'h1', id: 'ken' }, text: '浴室の水が流れたままです', alertId: 'a1' });
  t.match(r, { status: 'failed', error: /no dashboard is open/ }, 'with only the relay, not seen: the person\'s next channel is tried');
  t.equal(relayed.length, 1, 'and the relay still passed it on (to pages on other nodes)');
  t.equal(bus.listeners('h1'), 0, 'a relay is not a listener');
  const page: LiveEvent[] = [];
  const off = bus.subscribe('h1', (e) => page.push(e));
  t.match(await live.send({ to: { language: 'ja', homeId: 'h1', id: 'ken' }, text: '2', alertId: 'a1' }), { status: 'sent' }, 'a page open on this node: seen');
  t.equal(bus.listeners('h1'), 1);
  off();
  t.equal(page.length, 1);
  t.equal(relayed.length, 2);
});
