/**
 * ICE servers from configuration: coturn's TURN REST-API credentials (checked
 * against a known HMAC-SHA1 and against a real coturn in the browser relay
 * test), STUN, bad configuration refused, and Twilio tokens mapped to
 * RTCIceServer (Twilio's own client is exercised only with real credentials).
 */
import t from 'tap';
import { createHmac } from 'node:crypto';
import { createIceProvider, turnCredentials } from '../../dashboards/video-ice.js';

t.test('coturn REST-API credentials: expiry:user and base64 HMAC-SHA1', async (t) => {
  const now = Date.parse('2026-11-21T00:00:00Z');
  const c = turnCredentials('a-long-shared-secret', 'care1', now, 3600);
  t.equal(c.username, `${now / 1000 + 3600}:care1`);
  t.equal(c.credential, createHmac('sha1', 'a-long-shared-secret').update(c.username).digest('base64'));
  const ice = createIceProvider({ stun: ['stun:127.0.0.1:3478'], turn: { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 'a-long-shared-secret', ttlSeconds: 600 } }, () => now);
  const servers = await ice.iceServers('care1');
  t.same(servers[0], { urls: ['stun:127.0.0.1:3478'] });
  t.equal(servers[1]?.username, `${now / 1000 + 600}:care1`, 'time-limited');
  t.notMatch(JSON.stringify(servers), /a-long-shared-secret/, 'the shared secret never reaches a browser');
});

t.test('bad ICE configuration is refused with reasons', async (t) => {
  t.throws(() => createIceProvider({ turn: { urls: ['http://x'], secret: 'short' } }), { code: 'MIMAMORI_ERR_CONFIG' });
  t.throws(() => createIceProvider({ stun: ['turn:x'] }), /stun/);
});

t.test('Twilio Network Traversal tokens become RTCIceServers', async (t) => {
  const asked: unknown[] = [];
  const client = { tokens: { create: async (o: unknown) => { asked.push(o); return { iceServers: [{ url: 'stun:global.stun.twilio.com:3478', urls: 'stun:global.stun.twilio.com:3478' }, { url: 'turn:global.turn.twilio.com:3478?transport=udp', urls: 'turn:global.turn.twilio.com:3478?transport=udp', username: 'u', credential: 'c' }] }; } } };
  const ice = createIceProvider({ twilio: { client: client as never, ttlSeconds: 900 }, turn: { urls: ['turn:127.0.0.1:3478'], secret: 'a-long-shared-secret' } });
  const servers = await ice.iceServers('care1');
  t.same(asked, [{ ttl: 900 }]);
  t.same(servers, [{ urls: 'stun:global.stun.twilio.com:3478' }, { urls: 'turn:global.turn.twilio.com:3478?transport=udp', username: 'u', credential: 'c' }], 'Twilio is preferred when configured');
});
