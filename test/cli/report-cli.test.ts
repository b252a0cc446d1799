/**
 * `mimamori report` through the real CLI entry point and a real store: the
 * report is made and kept on the first run, the kept one is written on the
 * second, each read is access-logged, and bad input is a readable refusal
 * that writes nothing. (The month's activity from a real influxd is covered
 * in test/dashboards/monthly-report.test.ts; here the data folder has none.)
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { createSqliteStore } from '../../core/store.js';
import { pdfText } from '../support/pdf-text.js';
import { capture } from '../support/cli-io.js';
import { tempDir } from '../support/wait.js';

const envFor = (dataDir: string) => ({ MIMAMORI_DATA_DIR: dataDir, MIMAMORI_LOG_LEVEL: 'silent' });

t.test('report: made and kept, then the kept one; access-logged; bad input refused', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const seed = createSqliteStore(join(dataDir, 'mimamori.db'));
  await seed.createHome({ id: 'h1', name: 'Sato home', timezone: 'Asia/Tokyo' });
  await seed.addResident({ homeId: 'h1', name: 'Sato Hana', language: 'en' });
  await seed.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'Help', finding: { message: { ja: '緊急ボタン', en: 'Help button pressed' } }, openedAt: Date.parse('2026-11-14T06:30:00+09:00') });
  await seed.close();

  const out = join(dir, 'november.pdf');
  const io = capture();
  t.equal(await main(['report', '--home', 'h1', '--month', '2026-11', '--lang', 'en', '--out', out], envFor(dataDir), io), 0, io.stderr.join('\n'));
  const first = JSON.parse(io.stdout[0]!) as { report: string; made: boolean; pages: number; history: string; sha256: string };
  t.match(first, { made: true, pages: 3, history: /^none/ });
  const text = pdfText(readFileSync(out));
  t.ok(text.includes('Monthly report November 2026'), 'English title');
  t.ok(text.includes('No activity was recorded this month.'), 'says so when there is no history');
  t.ok(text.includes('11/14 06:30 Help button pressed — not handled yet'), 'the alert');
  t.ok(existsSync(join(dataDir, 'reports', 'h1')), 'kept in the reports folder');

  const again = capture();
  const out2 = join(dir, 'again.pdf');
  t.equal(await main(['report', '--home', 'h1', '--month', '2026-11', '--lang', 'en', '--out', out2], envFor(dataDir), again), 0);
  t.match(JSON.parse(again.stdout[0]!), { report: first.report, made: false, sha256: first.sha256 }, 'the kept report');
  t.same(readFileSync(out2), readFileSync(out), 'the same bytes');

  const bad = capture();
  t.equal(await main(['report', '--home', 'h1', '--month', '2026-11', '--lang', 'fr', '--out', join(dir, 'x.pdf')], envFor(dataDir), bad), 2);
  t.match(bad.stderr.join('\n'), /--lang is ja or en/);
  t.equal(await main(['report', '--home', 'h1', '--out', join(dir, 'x.pdf')], envFor(dataDir), capture()), 2, '--month is required');
  const missing = capture();
  t.equal(await main(['report', '--home', 'nope', '--month', '2026-11', '--out', join(dir, 'x.pdf')], envFor(dataDir), missing), 1);
  t.match(missing.stderr.join('\n'), /MIMAMORI_ERR_NOT_FOUND .*no home nope/);
  const future = capture();
  t.equal(await main(['report', '--home', 'h1', '--month', '2099-01', '--out', join(dir, 'x.pdf')], envFor(dataDir), future), 1);
  t.match(future.stderr.join('\n'), /MIMAMORI_ERR_INVALID_INPUT .*has not begun/);
  t.notOk(existsSync(join(dir, 'x.pdf')), 'nothing written for refused requests');

  const store = createSqliteStore(join(dataDir, 'mimamori.db'));
  t.teardown(() => store.close());
  t.equal((await store.listAccess('h1')).filter((a) => a.what === 'monthly report (PDF, command line)').length, 2, 'each run that wrote a report is access-logged');
  t.equal((await store.listReports({ homeIds: ['h1'] })).length, 1, 'one kept report');
});
