/**
 * `mimamori facility create|enroll|leave|list` and `account create --facility`
 * (docs/cli.md): against a real SQLite store in a temp data folder; each change
 * audited as `cli:<user>`; refused arguments (an unknown facility or home, a
 * home not enrolled) exit 2 with the reason in English and Japanese and change
 * nothing.
 */
import t from 'tap';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { main } from '../../cli/main.js';
import { createSqliteStore } from '../../core/store.js';
import { tempDir } from '../hub/helpers.js';
import { capture } from '../support/cli-io.js';

t.test('register, enrol, list, leave: audited as the command line\'s user', async (t) => {
  const dir = tempDir(t);
  const env = { MIMAMORI_DATA_DIR: dir };
  for (const h of ['h1', 'h2']) t.equal(await main(['provision', 'home', '--id', h, '--name', `Home ${h}`], env, capture()), 0);
  let io = capture();
  t.equal(await main(['facility', 'list'], env, io), 0);
  t.match(io.stdout.join('\n'), /no facilities yet \/ 施設はまだ登録されていません/);

  io = capture();
  t.equal(await main(['facility', 'create', '--id', 'dc1', '--name', 'デイサービスさくら'], env, io), 0);
  t.same(JSON.parse(io.stdout[0]!), { facility: 'dc1', name: 'デイサービスさくら' });
  io = capture();
  t.equal(await main(['facility', 'create', '--id', 'dc1', '--name', 'again'], env, io), 1, 'the id is taken: not a usage error');
  t.match(io.stderr.join('\n'), /facility dc1 exists \/ 施設 dc1 はすでに登録されています/);

  io = capture();
  t.equal(await main(['facility', 'enroll', '--home', 'h2', '--facility', 'dc1'], env, io), 0);
  t.same(JSON.parse(io.stdout[0]!), { facility: 'dc1', home: 'h2', enrolled: true, changed: true });
  t.equal(await main(['facility', 'enroll', '--home', 'h1', '--facility', 'dc1'], env, capture()), 0);
  io = capture();
  t.equal(await main(['facility', 'enroll', '--home', 'h1', '--facility', 'dc1'], env, io), 0, 'again: no change, no error');
  t.same(JSON.parse(io.stdout[0]!), { facility: 'dc1', home: 'h1', enrolled: true, changed: false });

  // A staff account of the facility.
  io = capture();
  t.equal(await main(['account', 'create', '--login', 'sato', '--name', '佐藤', '--role', 'staff', '--facility', 'dc1'], env, io), 0);
  io = capture();
  t.equal(await main(['facility', 'list'], env, io), 0);
  t.same(io.stdout, ['dc1\tデイサービスさくら\thomes: h1, h2\tstaff: 1']);
  io = capture();
  t.equal(await main(['facility', 'list', '--json'], env, io), 0);
  t.same(JSON.parse(io.stdout.join('\n')), [{ id: 'dc1', name: 'デイサービスさくら', homes: ['h1', 'h2'], staff: 1 }]);

  io = capture();
  t.equal(await main(['facility', 'leave', '--home', 'h1', '--facility', 'dc1'], env, io), 0);
  t.same(JSON.parse(io.stdout[0]!), { facility: 'dc1', home: 'h1', enrolled: false });

  const store = createSqliteStore(join(dir, 'mimamori.db'));
  t.teardown(() => store.close());
  t.same(await store.listEnrollments(), [{ facilityId: 'dc1', homeId: 'h2' }]);
  const me = `cli:${userInfo().username}`;
  t.same((await store.listAudit()).filter((a) => a.action.startsWith('facility.')).map((a) => [a.actor, a.action, a.subject]), [
    [me, 'facility.create', 'dc1'], [me, 'facility.enroll', 'h2'], [me, 'facility.enroll', 'h1'], [me, 'facility.leave', 'h1'],
  ]);
});

t.test('refused arguments exit 2 with the reason in both languages and change nothing', async (t) => {
  const dir = tempDir(t);
  const env = { MIMAMORI_DATA_DIR: dir };
  t.equal(await main(['provision', 'home', '--id', 'h1', '--name', 'Home'], env, capture()), 0);
  t.equal(await main(['facility', 'create', '--id', 'dc1', '--name', 'DC'], env, capture()), 0);
  const refused = async (args: string[], said: RegExp) => {
    const io = capture();
    t.equal(await main(args, env, io), 2, args.join(' '));
    t.match(io.stderr.join('\n'), said);
  };
  await refused(['facility', 'enroll', '--home', 'h1', '--facility', 'dc9'], /unknown facility dc9; create it first \(mimamori facility create --id dc9 --name …\) \/ 施設 dc9 は登録されていません/);
  await refused(['facility', 'enroll', '--home', 'h9', '--facility', 'dc1'], /unknown home h9 \/ お宅 h9 は登録されていません/);
  await refused(['facility', 'leave', '--home', 'h1', '--facility', 'dc1'], /home h1 is not enrolled in dc1 \/ お宅 h1 は施設 dc1 に登録されていません/);
  await refused(['facility', 'enroll', '--home', 'h1'], /--facility is required \/ --facility を指定してください/);
  await refused(['facility', 'create', '--id', 'Bad Id', '--name', 'x'], /id: lower-case letters/);
  await refused(['facility', 'create', '--id', 'dc2', '--nmae', 'x'], /Unknown option '--nmae'/);
  await refused(['facility', 'rename'], /mimamori facility create --id ID --name NAME/);
  // A staff account for a facility that does not exist.
  await refused(['account', 'create', '--login', 'sato', '--name', '佐藤', '--role', 'staff', '--facility', 'dc9'], /unknown facility dc9; create it first .* \/ 施設 dc9 は登録されていません/);
  await refused(['account', 'create', '--login', 'sato', '--name', '佐藤', '--role', 'staff'], /a staff account needs --facility/);

  const store = createSqliteStore(join(dir, 'mimamori.db'));
  t.teardown(() => store.close());
  t.same(await store.listEnrollments(), [], 'nothing enrolled');
  t.same((await store.listFacilities()).map((f) => f.id), ['dc1'], 'no facility added');
  t.equal(await store.findAccountByLogin('sato'), undefined, 'no account made for the unknown facility');
});
