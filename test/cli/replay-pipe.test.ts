import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { exitWhenFlushed } from '../../cli/exit.js';
import { tempDir } from '../hub/helpers.js';

const root = join(import.meta.dirname, '..', '..');

t.test('replay piped into a consumer that reads late: every finding arrives', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'many.ndjson');
  // 700 presses, help and "I'm OK" in turn a minute apart: 700 help-button findings (raised, cleared, …), well over a pipe's buffer.
  const lines: string[] = [];
  const at = Date.parse('2026-01-05T08:00:00+09:00');
  for (let i = 0; i < 700; i++) lines.push(JSON.stringify({ home: 'h1', device: 'button', id: `b-${i}`, ts: new Date(at + i * 60_000).toISOString(), kind: 'button', press: i % 2 === 0 ? 'help' : 'ok' }));
  writeFileSync(file, `${lines.join('\n')}\n`);

  const child = spawn(process.execPath, ['--no-warnings', '--import', '@tapjs/typescript/import', join(root, 'cli', 'main.ts'), 'replay', file], {
    cwd: root, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The consumer does not read until the command has said it is done: with process.exit the queued lines were lost here.
  child.stdout.pause();
  let received = 0;
  const reported = new Promise<number>((resolve) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const m = /replay: (\d+) finding\(s\)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => resolve(-1));
  });
  const counted = (async () => { for await (const _ of createInterface({ input: child.stdout })) received++; })();
  const findings = await reported;
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  await counted;
  t.equal(code, 0);
  t.ok(findings > 600, `more than 600 findings (${findings})`);
  t.equal(received, findings, 'every finding line reached the consumer');
});

t.test('exitWhenFlushed exits once every stream has flushed what was written before', async (t) => {
  const { PassThrough } = await import('node:stream');
  const out = new PassThrough({ highWaterMark: 16 });
  out.write('x'.repeat(1000));
  let exited: number | undefined;
  exitWhenFlushed(3, [out], (c) => { exited = c; });
  t.equal(exited, undefined, 'not while the data waits for a reader');
  const read: string[] = [];
  out.on('data', (c: Buffer) => read.push(c.toString('utf8')));
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.equal(read.join('').length, 1000);
  t.equal(exited, 3);
  t.equal(process.exitCode, 3);
  process.exitCode = 0;
  exitWhenFlushed(0, [], (c) => { exited = c; });
  t.equal(exited, 0, 'no streams: at once');
});
