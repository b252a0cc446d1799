/**
 * A provisioned hub's data folder and a real backup of it, for the reference
 * hub and `contacts-pdf` tests: two homes, contacts stored out of calling
 * order, an operator with TOTP, a family member, a facility, news and an alert.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret } from '../../dashboards/totp.js';
import { runBackup } from '../../backup/index.js';
import { tempDir, type Teardown } from '../support/wait.js';

export const passphrase = 'correct horse battery staple 見守り';
/** A cheap scrypt so the tests stay quick; production uses the default cost. */
export const kdf = { N: 1 << 10, r: 8, p: 1 };
export const password = 'a long enough password 1';

/** h1's contacts in calling order (stored 3, 1, 2). */
export const h1Calling = [
  { name: '山田一郎', phone: '+819011110001', priority: 1 },
  { name: 'Care Centre Sato', phone: '+819022220002', priority: 2 },
  { name: '警備会社', phone: '+81333330003', priority: 3 },
];

export interface ReferenceFixture {
  dir: string;
  dataDir: string;
  archive: string;
  passphraseFile: string;
  operatorTotp: string;
  alertId: string;
  /** Store rows a test can count before and after. */
  backupAt: number;
}

/** `alter` may change the store's file directly (through SQLite) before the backup is taken. */
export async function provisionedBackup(t: Teardown, alter?: (db: Database.Database) => void): Promise<ReferenceFixture> {
  const dir = tempDir(t, 'mimamori-ref-');
  const dataDir = join(dir, 'data');
  const store = createSqliteStore(join(dataDir, 'mimamori.db'));
  const now = Date.now();
  await store.createHome({ id: 'h1', name: '山田さん宅', timezone: 'Asia/Tokyo', address: '東京都中央区1-2-3', entryNotes: 'キーボックス 玄関右 番号 4821', createdAt: now });
  await store.createHome({ id: 'h2', name: 'Sato home', timezone: 'Asia/Tokyo', address: '2-3-4 Minato', createdAt: now });
  await store.addResident({ homeId: 'h1', name: '山田花子', language: 'ja', birthYear: 1938 });
  await store.addResident({ homeId: 'h2', name: 'Sato Jiro', language: 'en' });
  for (const i of [2, 0, 1]) {
    const c = h1Calling[i]!;
    await store.addContact({ homeId: 'h1', name: c.name, role: i === 0 ? 'family' : i === 1 ? 'caregiver' : 'emergency', phone: c.phone, language: 'ja', priority: c.priority });
  }
  await store.addContact({ homeId: 'h2', name: 'Sato Ichiro', role: 'family', phone: '+819044440004', language: 'en', priority: 1 });
  const hash = await hashPassword(password);
  const operatorTotp = newTotpSecret();
  await store.createAccount({ id: 'op1', login: 'op1', name: 'Operator One', role: 'operator', language: 'ja', passwordHash: hash, totpSecret: operatorTotp, createdAt: now });
  await store.createAccount({ id: 'fam1', login: 'fam1', name: 'Family One', role: 'family', language: 'en', passwordHash: hash, createdAt: now });
  await store.linkAccount({ accountId: 'fam1', kind: 'home', targetId: 'h1' });
  await store.createAccount({ id: 'staff1', login: 'staff1', name: 'Staff One', role: 'staff', language: 'ja', passwordHash: hash, totpSecret: newTotpSecret(), createdAt: now });
  await store.linkAccount({ accountId: 'staff1', kind: 'facility', targetId: 'dc-sakura' });
  await store.enrollHome('dc-sakura', 'h1');
  await store.addNews({ homeId: 'h1', authorId: 'staff1', body: '今日はお花見に行きました', createdAt: now - 3600_000 });
  const alertId = (await store.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'Help button', finding: { message: { en: 'Help button pressed', ja: '緊急ボタンが押されました' }, audience: 'family' }, openedAt: now - 600_000 })).alert.id;
  mkdirSync(join(dataDir, 'photos'), { recursive: true });
  writeFileSync(join(dataDir, 'photos', 'p1.jpg'), Buffer.from([0xff, 0xd8, 0xff, 1, 2, 3]));
  if (alter) {
    const db = new Database(join(dataDir, 'mimamori.db'));
    try { alter(db); } finally { db.close(); }
  }
  const targets = join(dir, 'usb');
  mkdirSync(targets);
  const record = await runBackup({ dataDir, store, targets: [targets], passphrase, kdf, clock: systemClock, logger: silentLogger(), verify: false });
  await store.close();
  if (record.status !== 'ok' || !record.file) throw new Error(`backup failed: ${record.error}`);
  const passphraseFile = join(dir, 'passphrase.txt');
  writeFileSync(passphraseFile, `${passphrase}\n`, { mode: 0o600 });
  return { dir, dataDir, archive: join(targets, record.file), passphraseFile, operatorTotp, alertId, backupAt: record.startedAt };
}
