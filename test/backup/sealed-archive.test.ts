/** The sealed archive format on its own: chunk boundaries, reordered chunks, unsafe paths. */
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createArchiveWriter, readArchive } from '../../backup/sealed-archive.js';
import { restoreArchive } from '../../backup/index.js';
import { silentLogger } from '../../core/logger.js';
import { tempDir } from '../support/wait.js';

const pass = 'a long operator passphrase';
const kdf = { N: 1 << 10, r: 8, p: 1 };
async function* once(b: Buffer) { yield b; }

async function readAll(file: string) {
  const out: Array<{ path: string; bytes: Buffer } | { manifest: unknown }> = [];
  for await (const e of readArchive(file, pass)) {
    if (e.type === 'manifest') { out.push({ manifest: e.manifest }); continue; }
    const parts: Buffer[] = [];
    for await (const p of e.bytes) parts.push(p);
    out.push({ path: e.path, bytes: Buffer.concat(parts) });
  }
  return out;
}

t.test('files of every size round-trip across chunk boundaries', async (t) => {
  const dir = tempDir(t);
  const chunkSize = 64;
  for (const sizes of [[0], [1], [63], [64], [65], [200, 0, 64, 1]]) {
    const file = join(dir, `a-${sizes.join('-')}.mmbk`);
    const w = await createArchiveWriter(file, pass, { kdf, chunkSize });
    const files = sizes.map((s, i) => ({ path: `files/f${i}`, bytes: Buffer.from(Array.from({ length: s }, (_, k) => (k * 7 + i) % 256)) }));
    for (const f of files) await w.addFile(f.path, f.bytes.length, once(f.bytes));
    await w.finish({ sizes });
    t.same(await readAll(file), [...files, { manifest: { sizes } }], `sizes ${sizes.join(',')}`);
  }
});

t.test('swapped chunks and an appended chunk are refused', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.mmbk');
  const w = await createArchiveWriter(file, pass, { kdf, chunkSize: 64 });
  await w.addFile('files/x', 300, once(Buffer.alloc(300, 7)));
  await w.finish({});
  const bytes = readFileSync(file);
  const headerEnd = 20 + bytes.readUInt32BE(16);
  const sealed = 64 + 16;
  const a = bytes.subarray(headerEnd, headerEnd + sealed), b = bytes.subarray(headerEnd + sealed, headerEnd + 2 * sealed);
  const swapped = Buffer.concat([bytes.subarray(0, headerEnd), b, a, bytes.subarray(headerEnd + 2 * sealed)]);
  writeFileSync(join(dir, 'swapped.mmbk'), swapped);
  await t.rejects(readAll(join(dir, 'swapped.mmbk')), { code: 'MIMAMORI_ERR_BACKUP_DAMAGED', message: /chunk 0/ });
  writeFileSync(join(dir, 'longer.mmbk'), Buffer.concat([bytes, a]));
  await t.rejects(readAll(join(dir, 'longer.mmbk')), { code: 'MIMAMORI_ERR_BACKUP_DAMAGED' });
  t.equal((await readAll(file)).length, 2, 'the original still reads');
});

t.test('an archive naming a path outside the restore folder is refused, and nothing lands outside', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'evil.mmbk');
  const w = await createArchiveWriter(file, pass, { kdf });
  await w.addFile('files/../../escaped', 3, once(Buffer.from('bad')));
  await w.finish({ format: 1 });
  await t.rejects(restoreArchive({ archive: file, to: join(dir, 'to', 'x'), passphrase: pass, logger: silentLogger() }), { code: 'MIMAMORI_ERR_BACKUP_DAMAGED', message: /unsafe path/ });
  t.notOk(existsSync(join(dir, 'escaped')));
  t.notOk(existsSync(join(dir, 'to', 'x')));
});
