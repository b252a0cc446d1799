import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createBroker, provisionDevice, provisionService } from '../../broker/index.js';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { createTabletChannel, type TabletPrompt } from '../../notifier/channels/tablet.js';
import { channelContract } from './channel-contract.js';
import { homeId, until } from './helpers.js';

/** A real broker with logins and ACL; the hub's notifier service and the home's tablet as real MQTT clients. */
async function homeWithTablet() {
  const store = createSqliteStore(':memory:');
  await store.createHome({ id: homeId, name: 'h', timezone: 'Asia/Tokyo' });
  const clock = new VirtualClock(Date.parse('2026-11-21T10:00:00Z'));
  const dataDir = mkdtempSync(join(tmpdir(), 'mimamori-tablet-'));
  const broker = await createBroker({ host: '127.0.0.1', tcpPort: 0, tlsPort: 0, wsPort: 0, maxPacketSize: 65536, lockout: { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 }, dataDir, store, logger: silentLogger(), clock });
  const url = `mqtt://127.0.0.1:${broker.ports.tcp}`;
  const svc = await provisionService(store, 'notifier');
  const dev = await provisionDevice(store, { homeId, deviceId: 'tablet', kind: 'tablet' });
  const service = await mqtt.connectAsync(url, { username: svc.username, password: svc.secret, clientId: 'mimamori-notifier', reconnectPeriod: 0 });
  const tablet = await mqtt.connectAsync(url, { username: dev.username, password: dev.secret, clientId: `${homeId}/tablet`, reconnectPeriod: 0 });
  const received: Array<{ topic: string; prompt: TabletPrompt }> = [];
  tablet.on('message', (topic, payload) => received.push({ topic, prompt: JSON.parse(payload.toString()) as TabletPrompt }));
  await tablet.subscribeAsync(`mimamori/v1/homes/${homeId}/devices/tablet/commands`, { qos: 1 });
  let sent = 0;
  const channel = createTabletChannel({ client: service, logger: silentLogger(), clock });
  const counting = { ...channel, send: async (m: Parameters<typeof channel.send>[0]) => { const r = await channel.send(m); if (r.status !== 'failed') sent += 1; return r; } };
  return {
    clock, service, received, channel: counting,
    /** What the tablet got, once it has caught up with every prompt the broker acknowledged. */
    accepted: async () => { await until(() => received.length >= sent, 5000, 'the tablet to receive'); return received.length; },
    close: async () => { await tablet.endAsync(); await service.endAsync(true); await broker.close(); await store.close(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

channelContract(t, 'tablet (MQTT service client → broker → the home tablet)', async () => {
  const h = await homeWithTablet();
  return {
    channel: h.channel,
    reachable: { language: 'ja', homeId },
    refused: { language: 'ja', homeId: 'Not A Home!' },
    noAddress: { language: 'ja', phone: '+819011112222' },
    accepted: h.accepted,
    close: h.close,
  };
});

t.test('the "are you OK?" prompt and an alert reach the tablet in both languages with buttons', async (t) => {
  const h = await homeWithTablet();
  t.teardown(h.close);
  const r = await h.channel.send({ to: { language: 'ja', homeId }, prompt: 'are-you-ok', text: '大丈夫ですか？', texts: { ja: '大丈夫ですか？', en: 'Are you OK?' }, alertId: 'a1' });
  t.equal(r.status, 'sent');
  await h.channel.send({ to: { language: 'en', homeId }, text: 'Help is on the way' });
  t.equal(await h.accepted(), 2);
  const [ask, alert] = h.received;
  t.equal(ask?.topic, `mimamori/v1/homes/${homeId}/devices/tablet/commands`);
  t.same(ask?.prompt, {
    type: 'are-you-ok', id: r.providerId, alertId: 'a1', at: '2026-11-21T10:00:00.000Z', text: { ja: '大丈夫ですか？', en: 'Are you OK?' },
    buttons: [{ id: 'ok', label: { ja: '大丈夫です', en: "I'm OK" } }, { id: 'help', label: { ja: '助けて', en: 'Help' } }],
  });
  t.equal(alert?.prompt.type, 'alert');
  t.same(alert?.prompt.buttons.map((b) => b.id), ['ok']);
  t.same(alert?.prompt.text, { ja: 'Help is on the way', en: 'Help is on the way' }, 'one text only: shown as is');

  // Broker gone: failed at once, not queued for later.
  await h.service.endAsync(true);
  const down = await h.channel.send({ to: { language: 'ja', homeId }, text: 'x' });
  t.equal(down.status, 'failed');
  t.match(down.error, /not connected/);
});
