/**
 * Image decoding cannot stall the hub (issue 15): a pixel limit read from the
 * header, and a queue of its own.
 */
import t from 'tap';
import { deflateSync, crc32, createDeflate } from 'node:zlib';
import sharp from 'sharp';
import { performance } from 'node:perf_hooks';
import { createPhotoProcessor } from '../../dashboards/photos.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { connect, startBroker } from '../broker/helpers.js';
import { setup, signIn, type Fixture, type Session } from './helpers.js';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid, highly compressed RGB PNG of `width`×`height` (one colour), built row by row without holding the raw pixels. */
async function compressedPng(width: number, height: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const row = Buffer.alloc(1 + width * 3, 0x80); row[0] = 0; // filter "none"
  const deflate = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  for (let y = 0; y < height; y++) if (!deflate.write(row)) await new Promise((resolve) => deflate.once('drain', resolve));
  deflate.end();
  await done;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.concat(out)), chunk('IEND', Buffer.alloc(0))]);
}

function multipart(fields: Record<string, string>, files: Array<{ name: string; filename: string; type: string; data: Buffer }>) {
  const boundary = '----mimamori-limits';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\ncontent-type: ${f.type}\r\n\r\n`), f.data, Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

function postNews(f: Fixture, s: Session, png: Buffer, accept: string) {
  const m = multipart({ _csrf: s.csrf, body: 'big photo' }, [{ name: 'photos', filename: 'big.png', type: 'image/png', data: png }]);
  return f.web.app.inject({ method: 'POST', url: '/homes/h1/news', headers: { ...m.headers, cookie: s.cookie, accept }, payload: m.payload });
}

t.test('a 100-megapixel upload is refused clearly and a device logging in meanwhile is not delayed', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'Home h1', timezone: 'Asia/Tokyo' });
  const device = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'kettle-photo-test', kind: 'kettle' });
  const staff = await signIn(f, 'staff1');
  const png = await compressedPng(10_000, 10_000);
  const meta = await sharp(png).metadata();
  t.same([meta.format, meta.width, meta.height], ['png', 10_000, 10_000], `a real 100 MP PNG (${Math.round(png.length / 1024)} KiB compressed)`);

  // The same login with nothing else going on, for comparison in the test output.
  let began = performance.now();
  await (await connect(h.url(), { username: device.username, password: device.secret })).endAsync();
  const quietMs = performance.now() - began;

  const uploads = [postNews(f, staff, png, 'text/html'), postNews(f, staff, png, 'application/json'), postNews(f, staff, png, 'text/html')];
  began = performance.now();
  const client = await connect(h.url(), { username: device.username, password: device.secret });
  const loginMs = performance.now() - began;
  await client.endAsync();
  t.ok(loginMs < 1000, `the device login took ${loginMs.toFixed(0)} ms while the uploads were handled (bound 1000 ms; ${quietMs.toFixed(0)} ms alone)`);

  const [html, json] = await Promise.all(uploads);
  t.equal(html!.statusCode, 413);
  t.match(html!.body, /写真の画素数が多すぎます（上限 40 メガピクセル）/, 'a clear refusal in Japanese for a Japanese account');
  t.match(html!.body, /何も変更されていません/, 'saying nothing changed');
  t.same(JSON.parse(json!.body), { code: 'MIMAMORI_ERR_IMAGE_TOO_LARGE', message: 'Image has too many pixels: 10000×10000 is 100.0 MP; at most 40 MP', userMessage: '写真の画素数が多すぎます（上限 40 メガピクセル）。小さくしてから送ってください' });
  t.equal((await f.store.listNews('h1')).filter((n) => n.body === 'big photo').length, 0, 'no news saved');
});

t.test('the pixel limit is configurable and read from the header', async (t) => {
  const processor = createPhotoProcessor({ maxPixels: 1000 });
  const small = await sharp({ create: { width: 40, height: 25, channels: 3, background: '#888' } }).png().toBuffer();
  const over = await sharp({ create: { width: 40, height: 26, channels: 3, background: '#888' } }).png().toBuffer();
  t.equal((await processor.process(small)).width, 40, '1000 pixels pass');
  await t.rejects(processor.process(over), { code: 'MIMAMORI_ERR_IMAGE_TOO_LARGE' }, '1040 pixels are refused');
  await t.rejects(processor.process(deflateSync(Buffer.from('not an image'))), { code: 'MIMAMORI_ERR_UNSUPPORTED_MEDIA' });
});

t.test('images are decoded one at a time', async (t) => {
  const processor = createPhotoProcessor();
  const img = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#468' } }).jpeg().toBuffer();
  let maxRunning = 0;
  const watch = setInterval(() => { maxRunning = Math.max(maxRunning, processor.stats().running); }, 1);
  const jobs = [1, 2, 3, 4].map(() => processor.process(img));
  const s = processor.stats();
  t.same(s, { running: 1, waiting: 3 }, 'four submitted: one decoding, three waiting');
  await Promise.all(jobs);
  clearInterval(watch);
  t.equal(maxRunning, 1, 'never two at once');
  t.same(processor.stats(), { running: 0, waiting: 0 });
});
