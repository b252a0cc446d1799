import t from 'tap';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { createSqliteStore } from '../../core/store.js';
import { verifySecret } from '../../broker/device-credentials.js';
import { tempDir } from '../hub/helpers.js';
import { capture } from '../support/cli-io.js';

t.test('provision a home, contact and device; the secret is shown once and stored hashed', async (t) => {
  const dir = tempDir(t);
  const env = { MIMAMORI_DATA_DIR: dir };
  let io = capture();
  t.equal(await main(['provision', 'home', '--id', 'yamada', '--name', '山田家', '--timezone', 'Asia/Tokyo'], env, io), 0);
  io = capture();
  t.equal(await main(['provision', 'home', '--id', 'yamada', '--name', 'again'], env, io), 1, 'a second home with the same id is refused');
  t.match(io.stderr.join('\n'), /exists/);
  io = capture();
  t.equal(await main(['provision', 'home', '--id', 'Bad/Id', '--name', 'x'], env, io), 1, 'ids are validated');
  io = capture();
  t.equal(await main(['provision', 'contact', '--home', 'yamada', '--name', '太郎', '--role', 'family', '--phone', '090-1234'], env, io), 1, 'a phone number that is not one is refused');
  t.match(io.stderr.join('\n'), /Check the phone number .* \/ 電話番号を確認してください/);
  t.equal(await main(['provision', 'contact', '--home', 'yamada', '--name', '太郎', '--role', 'family', '--phone', '+819012345678'], env, capture()), 0);
  t.equal(await main(['provision', 'contact', '--home', 'yamada', '--name', '次郎', '--role', 'family', '--phone', '０８０－１２３４－５６７８'], env, capture()), 0, 'the domestic form, full-width');
  io = capture();
  t.equal(await main(['provision', 'device', '--home', 'nowhere', '--device', 'kettle', '--kind', 'kettle'], env, io), 1, 'device for an unknown home');
  t.match(io.stderr.join('\n'), /create it first/);
  io = capture();
  t.equal(await main(['provision', 'device', '--home', 'yamada', '--device', 'kettle', '--kind', 'kettle'], env, io), 0);
  const out = JSON.parse(io.stdout[0]!) as { username: string; secret: string };
  t.equal(out.username, 'yamada/kettle');
  const store = createSqliteStore(join(dir, 'mimamori.db'));
  t.teardown(() => store.close());
  const device = await store.getDevice('yamada', 'kettle');
  t.not(device?.secretHash, out.secret, 'the secret is not stored in clear');
  t.notMatch(device?.secretHash ?? '', out.secret);
  t.ok(await verifySecret(out.secret, device!.secretHash), 'but verifies against its hash');
  t.same((await store.listContacts('yamada')).map((c) => c.phone), ['+819012345678', '+818012345678'], 'both stored, in E.164');
});

t.test('provision file: a whole home, validated before anything is written', async (t) => {
  const dir = tempDir(t);
  const env = { MIMAMORI_DATA_DIR: dir };
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ home: { id: 'x', name: 'X', timezone: 'Mars/Olympus' }, contacts: [{ name: 'a', role: 'boss' }] }));
  let io = capture();
  t.equal(await main(['provision', 'file', bad], env, io), 1);
  t.match(io.stderr.join('\n'), /time zone/);
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({
    home: { id: 'suzuki', name: '鈴木家', timezone: 'Asia/Tokyo', address: '東京都…', entryNotes: 'key box' },
    residents: [{ name: '鈴木 トメ', birthYear: 1936 }],
    contacts: [{ name: 'Mary', role: 'family', phone: '+819011112222', language: 'en', priority: 1 }],
    devices: [{ device: 'kettle', kind: 'kettle' }, { device: 'front-door', kind: 'door' }],
    rules: [{ id: 'help', type: 'helpButton' }],
  }));
  io = capture();
  t.equal(await main(['provision', 'file', good], env, io), 0);
  const out = JSON.parse(io.stdout.join('\n')) as { devices: Array<{ secret: string }> };
  t.equal(out.devices.length, 2);
  const store = createSqliteStore(join(dir, 'mimamori.db'));
  t.teardown(() => store.close());
  t.equal(await store.getHome('x'), undefined, 'nothing written for the bad file');
  t.same(await store.getRuleConfig('suzuki'), [{ id: 'help', type: 'helpButton' }]);
});

t.test('rules check reports bad rules and keeps the good ones', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'rules.json');
  writeFileSync(file, JSON.stringify([{ id: 'help', type: 'helpButton' }, { id: 'x', type: 'noSuchRule' }]));
  const io = capture();
  t.equal(await main(['rules', 'check', file], {}, io), 1);
  t.match(io.stderr.join('\n'), /rule 1 \(x\)/);
  t.match(io.stderr.join('\n'), /1 valid rule/);
});

t.test('simulate then replay: NDJSON findings with the documented fields', async (t) => {
  const dir = tempDir(t);
  const events = join(dir, 'events.ndjson');
  const truth = join(dir, 'truth.json');
  t.equal(await main(['simulate', '--homes', '2', '--days', '5', '--seed', '7', '--out', events, '--truth', truth], {}, capture()), 0);
  const incidents = JSON.parse(readFileSync(truth, 'utf8')) as Array<{ type: string; home: string }>;
  t.ok(incidents.length > 0, 'ground truth written');
  // A malformed line in the middle is reported and skipped, nothing else lost.
  const lines = readFileSync(events, 'utf8').trim().split('\n');
  lines.splice(10, 0, '{broken', JSON.stringify({ home: 'h', device: 'd', id: '1', ts: '2026-01-05T00:00:00+09:00', kind: 'toaster' }));
  writeFileSync(events, `${lines.join('\n')}\n`);
  const io = capture();
  t.equal(await main(['replay', events], {}, io), 0);
  t.match(io.stderr.join('\n'), /:11: skipped \(malformed_json\)/);
  t.match(io.stderr.join('\n'), /:12: skipped \(unknown_kind\)/);
  t.ok(io.stdout.length > 0, 'findings printed');
  for (const line of io.stdout) {
    const f = JSON.parse(line) as Record<string, unknown>;
    t.type(f.home, 'string');
    t.type(f.rule, 'string');
    t.ok(['info', 'warning', 'critical'].includes(f.severity as string), 'severity');
    t.ok(Number.isFinite(Date.parse(f.ts as string)), 'ts is a time');
    t.match(f.ts as string, /[+-]\d\d:\d\d$|Z$/, 'ts has an offset');
    t.type(f.message, 'string');
  }
  const raised = io.stdout.map((l) => JSON.parse(l) as { rule: string; state: string; home: string }).filter((f) => f.state === 'raised');
  t.ok(raised.some((f) => /help/.test(f.rule)), 'the injected help-button press is found');
  const again = capture();
  await main(['replay', events], {}, again);
  t.same(again.stdout, io.stdout, 'replay is deterministic');
});

t.test('usage errors', async (t) => {
  const io = capture();
  t.equal(await main(['frobnicate'], {}, io), 2);
  t.match(io.stderr.join('\n'), /unknown command/);
  t.equal(await main(['replay'], {}, capture()), 2);
  t.equal(await main(['help'], {}, capture()), 0);
});

t.test('every command answers --help and -h with its usage, and does nothing else', async (t) => {
  const dir = tempDir(t);
  const env = { MIMAMORI_DATA_DIR: dir };
  const general = capture();
  await main(['help'], env, general);
  const commands = [...new Set(general.stdout.join('\n').split('\n').map((l) => /^ {2}mimamori (\S+)/.exec(l)?.[1]).filter((c): c is string => c !== undefined))];
  t.ok(commands.length >= 15, `the usage names the commands (${commands.join(', ')})`);
  for (const command of commands) {
    for (const flag of ['--help', '-h']) {
      const io = capture();
      t.equal(await main([command, flag], env, io), 0, `${command} ${flag}: exit 0`);
      t.same(io.stderr, [], `${command} ${flag}: nothing on stderr`);
      t.match(io.stdout.join('\n'), new RegExp(`mimamori ${command}\\b`), `${command} ${flag}: its usage`);
    }
  }
  // A subcommand's own arguments before --help: still help, nothing provisioned.
  const io = capture();
  t.equal(await main(['provision', 'home', '--id', 'x', '--name', 'X', '--help'], env, io), 0);
  t.match(io.stdout.join('\n'), /mimamori provision home --id ID/);
  t.notOk(existsSync(join(dir, 'mimamori.db')), 'no store was created: --help ran nothing');
});

t.test('account create: the first operator of a fresh hub, password shown once and stored hashed', async (t) => {
  const dir = tempDir(t);
  const env = { MIMAMORI_DATA_DIR: dir };
  let io = capture();
  t.equal(await main(['account', 'create', '--login', 'ops', '--name', 'Operator', '--role', 'operator'], env, io), 0);
  const out = JSON.parse(io.stdout[0]!) as { login: string; password: string };
  t.ok(out.password.length >= 12, 'a long generated password');
  t.match(io.stderr.join('\n'), /TOTP/, 'the operator is told about the second factor');
  io = capture();
  t.equal(await main(['account', 'create', '--login', 'fam', '--name', 'F', '--role', 'family'], env, io), 2, 'family needs a home: a usage error');
  t.match(io.stderr.join('\n'), /needs --home/);
  io = capture();
  t.equal(await main(['account', 'create', '--login', 'fam', '--name', 'F', '--role', 'family', '--home', 'nowhere'], env, io), 2, 'an unknown home: a usage error');
  t.match(io.stderr.join('\n'), /home nowhere/);
  io = capture();
  t.equal(await main(['account', 'create', '--login', 'ops', '--name', 'Again', '--role', 'operator'], env, io), 1, 'a login taken is not a usage error');
  t.match(io.stderr.join('\n'), /account ops exists/);
  const store = createSqliteStore(join(dir, 'mimamori.db'));
  t.teardown(() => store.close());
  const { verifyPassword } = await import('../../dashboards/passwords.js');
  const account = await store.findAccountByLogin('ops');
  t.ok(account, 'stored');
  t.notMatch(account!.passwordHash, out.password, 'not in clear');
  t.ok(await verifyPassword(out.password, account!.passwordHash), 'verifies against its hash');
});

t.test('contacts can be given their own quiet hours and digest times', async (t) => {
  const dir = tempDir(t);
  const env = { MIMAMORI_DATA_DIR: dir };
  t.equal(await main(['provision', 'home', '--id', 'h1', '--name', 'x'], env, capture()), 0);
  let io = capture();
  t.equal(await main(['provision', 'contact', '--home', 'h1', '--name', '太郎', '--role', 'family', '--phone', '+819012345678', '--digest', '07:30,19:00', '--quiet', '22:00-07:00'], env, io), 0);
  const { contact } = JSON.parse(io.stdout[0]!) as { contact: string };
  t.match(io.stderr.join('\n'), /next starts/);
  io = capture();
  t.equal(await main(['provision', 'contact', '--home', 'h1', '--name', 'x', '--role', 'family', '--digest', '25:00'], env, io), 1, 'an impossible time is refused');
  t.match(io.stderr.join('\n'), /contact preferences/);
  io = capture();
  t.equal(await main(['provision', 'contact', '--home', 'h1', '--name', 'x', '--role', 'family', '--quiet', 'late'], env, io), 1);
  const store = createSqliteStore(join(dir, 'mimamori.db'));
  t.teardown(() => store.close());
  t.same(await store.getContactPreferences(contact), { quietHours: { from: '22:00', to: '07:00' }, digest: { times: ['07:30', '19:00'], channel: 'sms' } }, 'stored as the notifier reads them');
  t.equal((await store.listContacts('h1')).length, 1, 'nothing stored for the refused ones');
});
