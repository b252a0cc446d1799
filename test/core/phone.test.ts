/** Phone numbers typed the Japanese way become E.164; invalid ones are refused; stored ones read back in the reader's form. */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { phoneForDisplay, phoneSchema, toE164 } from '../../core/phone.js';
import { createSqliteStore } from '../../core/store.js';
import { provisionFromFile } from '../../cli/provision.js';

t.test('domestic, full-width and international forms become E.164', async (t) => {
  t.equal(toE164('090-1234-5678'), '+819012345678');
  t.equal(toE164('03-1234-5678'), '+81312345678');
  t.equal(toE164('０９０－１２３４－５６７８'), '+819012345678', 'full-width digits and hyphen');
  t.equal(toE164('090ー1234ー5678'), '+819012345678', 'a long-vowel mark typed as a dash');
  t.equal(toE164('(03) 1234 5678'), '+81312345678');
  t.equal(toE164('+81 90 1234 5678'), '+819012345678');
  t.equal(toE164('+819012345678'), '+819012345678', 'E.164 stays as it is');
  t.equal(toE164('+1 415 555 2671'), '+14155552671', 'a number abroad');
});

t.test('what is not a number is refused', async (t) => {
  for (const bad of ['', '12345', '090-1234-567', '090-1234-5678-9', 'abc', '+81', '0'.repeat(50)]) t.equal(toE164(bad), undefined, JSON.stringify(bad));
  const r = phoneSchema.safeParse('090-1234-567');
  t.notOk(r.success);
  t.match(r.error?.issues[0]?.message, /Check the phone number .* \/ 電話番号を確認してください/);
});

t.test('shown domestic to a Japanese reader, international otherwise', async (t) => {
  t.equal(phoneForDisplay('+819012345678', 'ja'), '090-1234-5678');
  t.equal(phoneForDisplay('+81312345678', 'ja'), '03-1234-5678');
  t.equal(phoneForDisplay('+819012345678', 'en'), '+81 90 1234 5678');
  t.equal(phoneForDisplay('+14155552671', 'ja'), '+1 415 555 2671', 'a number abroad stays international');
});

t.test('provisioning from a file stores E.164 and refuses a bad number with nothing written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-phone-'));
  const store = createSqliteStore(join(dir, 's.db'));
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  await provisionFromFile(store, { home: { id: 'p1', name: 'P' }, contacts: [{ name: '娘', role: 'family', phone: '０９０－１１１１－２２２２' }, { name: 'ケアマネ', role: 'caregiver', phone: '03-1234-5678', priority: 2 }] });
  t.same((await store.listContacts('p1')).map((c) => c.phone), ['+819011112222', '+81312345678']);
  await t.rejects(provisionFromFile(store, { home: { id: 'p2', name: 'Q' }, contacts: [{ name: '娘', role: 'family', phone: '090-1111-222' }] }), { code: 'MIMAMORI_ERR_INVALID_INPUT', message: /電話番号を確認してください/ });
  t.equal(await store.getHome('p2'), undefined, 'the refused file left no home');
});
