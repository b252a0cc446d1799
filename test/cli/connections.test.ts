/** `mimamori connections`: every external system the configuration and the flows reach, ja/en. */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { tempDir } from '../support/wait.js';
import { capture } from '../support/cli-io.js';

t.test('lists Twilio, SMTP, InfluxDB, TURN, STUN and the flows\' outbound nodes with purpose and owner', async (t) => {
  const dataDir = tempDir(t);
  mkdirSync(join(dataDir, 'node-red'));
  writeFileSync(join(dataDir, 'node-red', 'flows.json'), JSON.stringify([
    { id: 'a', type: 'tab' },
    { id: 'b', type: 'http request', name: 'weather', url: 'https://weather.example.jp/api' },
    { id: 'c', type: 'mqtt-broker', broker: 'mqtt.example.jp', port: '8883' },
    { id: 'd', type: 'e-mail', server: 'smtp.example.jp', port: '465' },
    { id: 'e', type: 'function' },
  ]));
  const config = join(dataDir, 'config.json');
  writeFileSync(config, JSON.stringify({
    dataDir, twilio: { accountSid: 'AC123', authToken: 'token' }, email: { host: 'mail.example.jp', port: 587 },
    influx: { url: 'http://influx.example.jp:8086' }, video: { turnUrls: ['turn:turn.example.jp:3478'], turnSecret: 'a-turn-secret-of-16+', stun: ['stun:turn.example.jp:3478'] },
    http: { publicUrl: 'https://hub.example.jp' }, line: { channelAccessToken: 'line-token-secret', channelSecret: 'line-channel-secret' },
  }));
  const io = capture();
  t.equal(await main(['connections'], { MIMAMORI_CONFIG: config }, io), 0);
  const lines = io.stdout.slice(1);
  t.same(lines.map((l) => `${l.split(' — ')[0]} — ${l.split(' — ')[1]}`), [
    'Twilio (SMS, voice) — https://api.twilio.com',
    'Public URL (inbound) — https://hub.example.jp',
    'SMTP (e-mail) — smtp://mail.example.jp:587',
    'InfluxDB — http://influx.example.jp:8086',
    'TURN — turn:turn.example.jp:3478',
    'STUN — stun:turn.example.jp:3478',
    'Twilio Network Traversal — https://api.twilio.com',
    'LINE Messaging API — https://api.line.me',
    'Web push — each subscribed browser\'s push service (VAPID mailto:mimamori-hub@example.invalid); a local stand-in records the demo\'s',
    'Node-RED http request — https://weather.example.jp/api',
    'Node-RED MQTT broker — mqtt.example.jp:8883',
    'Node-RED e-mail — smtp.example.jp:465',
  ], 'every external system, once, in order');
  t.match(lines[0], /アラートのSMS・音声電話 \/ alert SMS and voice calls — 運用者（Twilioアカウント） \/ the operator \(Twilio account\)/, 'purpose and owner in Japanese and English');
  t.match(lines[9], /フロー作成者（運用者） "weather" \/ the flow's author \(operator\) "weather"/);
  t.notOk(io.stdout.join('\n').includes('token'), 'no secret printed');
  t.notOk(io.stdout.join('\n').includes('line-channel-secret'), 'no LINE secret printed');
});

t.test('the default configuration reaches nothing outside the hub but the push services of browsers people subscribe', async (t) => {
  const io = capture();
  t.equal(await main(['connections'], { MIMAMORI_DATA_DIR: tempDir(t) }, io), 0);
  const targets = io.stdout.slice(1).map((l) => l.split(' — ')[1]);
  t.equal(targets.length, 5, 'Twilio, SMTP, InfluxDB, LINE and web push');
  t.same(targets.filter((x) => !x!.startsWith('local stand-in')), ['each subscribed browser\'s push service (VAPID mailto:mimamori-hub@example.invalid); a local stand-in records the demo\'s'],
    'all local stand-ins but web push: a real browser that subscribes is reached through its vendor');
  t.match(io.stdout[3], /managed influxd/);
});
