#!/usr/bin/env node
// Set-up shared by `npm start`, `npm test` and `npm run bench` on a fresh
// machine: npm dependencies, and the Debian packages the command needs.
// Plain Node with no dependencies, because it runs before `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const purpose = process.argv.includes('--for') ? process.argv[process.argv.indexOf('--for') + 1] : 'start';
const say = (msg) => console.error(`[setup] ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
}

function has(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 10)) {
  say(`Node ${process.versions.node} is too old: mimamori needs Node 20.10 or newer.`);
  process.exit(1);
}

// 1. npm dependencies: install when missing or when the lock file changed since.
const stamp = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(stamp) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(stamp).mtimeMs + 1000)) {
  say('installing npm dependencies…');
  const args = existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  // `npm test` puts node_modules/.bin first on PATH, and a dependency ships an npm
  // of its own there: `npm ci` run with that one deletes itself part-way and fails.
  // Use the machine's npm.
  const PATH = (process.env.PATH ?? '').split(':').filter((dir) => !dir.includes('node_modules')).join(':');
  if (!run('npm', args, { env: { ...process.env, PATH } })) {
    say('npm could not install the dependencies; see the messages above.');
    process.exit(1);
  }
}

// 2. Debian packages for this purpose.
const wanted = [];
if (!process.env.MIMAMORI_INFLUX_URL && !has(process.env.MIMAMORI_INFLUXD_PATH || 'influxd')) wanted.push({ program: 'influxd', pkg: 'influxdb', required: true });
// mosquitto (Debian installs it in /usr/sbin): the broker reference in the bench, and the home broker
// that carries zigbee2mqtt / Shelly / Tasmota payloads to the device bridge in the tests.
const mosquitto = '/usr/sbin/mosquitto';
if (purpose === 'bench' && !existsSync(mosquitto)) wanted.push({ program: mosquitto, pkg: 'mosquitto', required: false, file: true });
if (purpose === 'test' && !existsSync(mosquitto)) wanted.push({ program: mosquitto, pkg: 'mosquitto', required: true, file: true });
// The demo street through the device bridge (MIMAMORI_DEMO_VIA_BRIDGE=1 npm start) runs a mosquitto as the homes' broker.
const viaBridge = ['1', 'true'].includes(process.env.MIMAMORI_DEMO_VIA_BRIDGE ?? '');
if (purpose === 'start' && viaBridge && !existsSync(mosquitto)) wanted.push({ program: mosquitto, pkg: 'mosquitto', required: true, file: true });
// The web app's browser tests drive Debian's chromium (playwright-core, never `playwright install`),
// and its PDF news sheet needs a font with Japanese glyphs.
const japaneseFont = '/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf';
if (purpose === 'test' && !has('chromium')) wanted.push({ program: 'chromium', pkg: 'chromium', required: true });
if (purpose === 'test' && !existsSync(japaneseFont)) wanted.push({ program: japaneseFont, pkg: 'fonts-ipafont-gothic', required: true, file: true });
// The video relay test starts a local coturn (Debian `coturn`, program `turnserver`) on loopback.
if (purpose === 'test' && !has('turnserver')) wanted.push({ program: 'turnserver', pkg: 'coturn', required: true });
// The store contract suite and the hub-on-PostgreSQL test start a real PostgreSQL 15 in a temp folder
// (test/support/postgres.ts, as the `postgres` user the package creates); the cluster building blocks (cluster/) a redis-server (test/support/redis.ts).
// The bench's cluster part (bench/cluster.ts) starts both the same way.
const postgresBin = process.env.MIMAMORI_POSTGRES_BIN || '/usr/lib/postgresql/15/bin';
if ((purpose === 'test' || purpose === 'bench') && !existsSync(join(postgresBin, 'postgres'))) wanted.push({ program: join(postgresBin, 'postgres'), pkg: 'postgresql', required: true, file: true });
const redisServer = process.env.MIMAMORI_REDIS_SERVER_PATH || '/usr/bin/redis-server';
if ((purpose === 'test' || purpose === 'bench') && !existsSync(redisServer)) wanted.push({ program: redisServer, pkg: 'redis-server', required: true, file: true });

if (wanted.length > 0) {
  const pkgs = wanted.map((w) => w.pkg);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && has('apt-get')) {
    say(`installing Debian packages: ${pkgs.join(' ')}…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
  }
  const missing = wanted.filter((w) => w.required && !(w.file ? existsSync(w.program) : has(w.program)));
  if (missing.length > 0) {
    say(`missing: ${missing.map((w) => w.program).join(', ')}. Install with:`);
    say(`  sudo apt-get update && sudo apt-get install -y ${missing.map((w) => w.pkg).join(' ')}`);
    if (missing.some((w) => w.program === 'influxd')) say('or point the hub at an existing InfluxDB 1.x with MIMAMORI_INFLUX_URL=http://host:8086');
    process.exit(1);
  }
}
