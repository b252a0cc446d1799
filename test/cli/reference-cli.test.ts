/**
 * `mimamori contacts-pdf` (from the hub's store and from a backup) and
 * `mimamori start --reference` refusing a bad archive, through the real CLI
 * entry point with a real store and a real backup.
 */
import t from 'tap';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { createSqliteStore } from '../../core/store.js';
import { pdfText } from '../support/pdf-text.js';
import { capture } from '../support/cli-io.js';
import { h1Calling, provisionedBackup } from '../backup/reference-fixture.js';

const envFor = (dataDir: string) => ({ MIMAMORI_DATA_DIR: dataDir, MIMAMORI_LOG_LEVEL: 'silent' });

t.test('contacts-pdf from the hub store: one home, contacts in calling order, the read access-logged', async (t) => {
  const f = await provisionedBackup(t);
  const out = join(f.dir, 'h1.pdf');
  const io = capture();
  t.equal(await main(['contacts-pdf', '--home', 'h1', '--out', out], envFor(f.dataDir), io), 0, io.stderr.join('\n'));
  const text = pdfText(readFileSync(out));
  const lines = text.split('\n');
  const at = h1Calling.map((c, i) => lines.indexOf(`${i + 1}. ${c.name} — ${['家族 / family', '介護 / caregiver', '緊急 / emergency'][i]} — ${c.phone}`));
  t.ok(at.every((i) => i >= 0) && at[0]! < at[1]! && at[1]! < at[2]!, `calling order in the PDF (${at.join(' < ')})`);
  t.match(text, '作成日時 / Made at');
  t.notMatch(text, 'Sato Ichiro', 'only h1');
  const store = createSqliteStore(join(f.dataDir, 'mimamori.db'));
  t.teardown(() => store.close());
  t.same((await store.listAccess('h1')).filter((a) => a.what === 'emergency contact list (PDF, command line)').length, 1, 'one access record for h1');
  t.same((await store.listAccess('h2')).length, 0, 'h2 was not read');

  const missing = capture();
  t.equal(await main(['contacts-pdf', '--home', 'nope', '--out', join(f.dir, 'nope.pdf')], envFor(f.dataDir), missing), 1);
  t.match(missing.stderr.join('\n'), /MIMAMORI_ERR_NOT_FOUND .*no home nope/);
  t.notOk(existsSync(join(f.dir, 'nope.pdf')), 'no file for a missing home');
  t.equal(await main(['contacts-pdf', '--home', 'h1'], envFor(f.dataDir), capture()), 2, '--out is required');
});

t.test('contacts-pdf --from-backup: every home, the backup date, logged in the reference access log', async (t) => {
  const f = await provisionedBackup(t);
  const out = join(f.dir, 'all.pdf');
  const accessLog = join(f.dir, 'usb-log');
  const io = capture();
  // Another machine: no data folder of its own.
  const env = envFor(join(f.dir, 'elsewhere'));
  const temps = () => readdirSync(tmpdir()).filter((n) => n.startsWith('mimamori-reference-')).sort();
  const tempsBefore = temps();
  t.equal(await main(['contacts-pdf', '--out', out, '--from-backup', f.archive, '--passphrase-file', f.passphraseFile, '--access-log', accessLog], env, io), 0, io.stderr.join('\n'));
  const text = pdfText(readFileSync(out));
  t.match(text, /バックアップの日時 \/ Backup of: /);
  t.match(text, `1. ${h1Calling[0]!.name}`);
  t.match(text, '1. Sato Ichiro — 家族 / family — +819044440004');
  const printed = JSON.parse(io.stdout[0]!) as { homes: string[]; accessLog: string };
  t.same(printed.homes, ['h1', 'h2']);
  t.equal(printed.accessLog, join(accessLog, 'mimamori.db'));
  t.same(temps(), tempsBefore, 'the decrypted copy and its temp folder are gone');
  const log = createSqliteStore(printed.accessLog);
  t.teardown(() => log.close());
  t.equal((await log.readTrail('access')).length, 2, 'one record per home in the reference access log');
  const verify = capture();
  t.equal(await main(['audit', 'verify'], envFor(accessLog), verify), 0, 'the reference access log is a hash chain audit verify checks');
  t.match(verify.stdout.join('\n'), /access/);
});

t.test('start --reference and contacts-pdf refuse a wrong passphrase with a clear message', async (t) => {
  const f = await provisionedBackup(t);
  const wrong = join(f.dir, 'wrong.txt');
  writeFileSync(wrong, 'not the passphrase at all\n');
  const io = capture();
  t.equal(await main(['start', '--reference', f.archive, '--passphrase-file', wrong], envFor(join(f.dir, 'elsewhere')), io), 1);
  t.match(io.stderr.join('\n'), /MIMAMORI_ERR_BACKUP_WRONG_KEY .*passphrase does not open this archive .*パスフレーズ/);
  const pdf = capture();
  t.equal(await main(['contacts-pdf', '--out', join(f.dir, 'x.pdf'), '--from-backup', f.archive, '--passphrase-file', wrong], envFor(join(f.dir, 'elsewhere')), pdf), 1);
  t.match(pdf.stderr.join('\n'), /MIMAMORI_ERR_BACKUP_WRONG_KEY/);
  t.notOk(existsSync(join(f.dir, 'x.pdf')));
  t.equal(await main(['start', '--reference'], envFor(f.dataDir), capture()), 2, 'a missing archive is a usage error');
});
