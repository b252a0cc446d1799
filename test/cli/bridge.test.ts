/** `mimamori provision device --adapter … --native …` and `mimamori bridge check`. */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { createSqliteStore } from '../../core/store.js';
import { tempDir } from '../support/wait.js';
import { capture } from '../support/cli-io.js';

t.test('provisioning a real device prints its device-map entry; a bad one stores nothing', async (t) => {
  const dir = tempDir(t);
  const env = { MIMAMORI_DATA_DIR: dir };
  t.equal(await main(['provision', 'home', '--id', 'yamada', '--name', '山田家'], env, capture()), 0);
  let io = capture();
  t.equal(await main(['provision', 'device', '--home', 'yamada', '--device', 'bath-motion', '--kind', 'motion', '--adapter', 'zigbee2mqtt', '--native', '0x00158d0001a2b3c4', '--room', 'bath'], env, io), 0);
  const out = JSON.parse(io.stdout[0] as string) as { secret: string; mapEntry: Record<string, string> };
  t.same(out.mapEntry, { adapter: 'zigbee2mqtt', native: '0x00158d0001a2b3c4', device: 'bath-motion', role: 'motion', room: 'bath', secret: out.secret });

  io = capture();
  t.equal(await main(['provision', 'device', '--home', 'yamada', '--device', 'meter', '--kind', 'power', '--adapter', 'echonet', '--native', 'meter-1'], env, io), 1);
  t.match(io.stderr.join('\n'), /--native: an ECHONET Lite device is/);
  io = capture();
  t.equal(await main(['provision', 'device', '--home', 'yamada', '--device', 'plug', '--kind', 'kettle', '--adapter', 'hue', '--native', 'x'], env, io), 1);
  t.match(io.stderr.join('\n'), /--adapter.*adapters: zigbee2mqtt, shelly, tasmota, echonet/);
  io = capture();
  t.equal(await main(['provision', 'device', '--home', 'yamada', '--device', 'plug', '--kind', 'kettle', '--native', 'x'], env, io), 1);
  t.match(io.stderr.join('\n'), /--adapter and --native go together/);
  const store = createSqliteStore(join(dir, 'mimamori.db'));
  t.teardown(() => store.close());
  t.same((await store.listDevices('yamada')).map((d) => d.deviceId), ['bath-motion'], 'refused devices were not stored');
});

t.test('bridge check validates a device map and lists what it maps', async (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'devices.json');
  writeFileSync(good, JSON.stringify({ home: 'yamada', devices: [
    { adapter: 'zigbee2mqtt', native: 'kettle_plug', device: 'kettle', role: 'kettle', threshold: { on: 800, off: 60 }, secret: 's1' },
    { adapter: 'echonet', native: '192.168.1.30/028801', device: 'meter', role: 'power' },
  ] }));
  let io = capture();
  t.equal(await main(['bridge', 'check', '--map', good], {}, io), 0);
  t.same(io.stdout, ['home yamada: 2 device(s)', 'kettle\tkettle\tzigbee2mqtt\tkettle_plug', 'meter\tpower\techonet\t192.168.1.30/028801\t(no secret in the map: pass it in MIMAMORI_BRIDGE_SECRETS)']);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ home: 'yamada', devices: [{ adapter: 'zigbee2mqtt', native: 'p', device: 'kettle', role: 'kettle', threshold: { on: 10, off: 100 } }] }));
  io = capture();
  t.equal(await main(['bridge', 'check', '--map', bad], {}, io), 1);
  t.match(io.stderr.join('\n'), /devices\.0\.threshold: "on" must be above "off"/);
  io = capture();
  t.equal(await main(['bridge', 'check', '--map', join(dir, 'missing.json')], {}, io), 1);
  t.match(io.stderr.join('\n'), /missing\.json/);
  t.equal(await main(['bridge', 'run', '--map', good], {}, capture()), 2, '--hub is required to run');
  t.equal(await main(['bridge'], {}, capture()), 2);
});
