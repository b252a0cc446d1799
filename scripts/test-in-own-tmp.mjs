#!/usr/bin/env node
// Runs tap (with any arguments given) in a temp folder of its own, then fails
// if a test left `mimamori-*` folders behind. Every test job of this run
// inherits TMPDIR, so os.tmpdir() is this folder; the check runs after all
// jobs have ended, so no job's live folder is taken for a leftover, and other
// runs on the same machine (other worktrees, parallel `npm test`) have their
// own folder and are never seen. Plain Node with no dependencies.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runDir = mkdtempSync(join(tmpdir(), 'mimamori-test-run-'));
// Passable (not listable) by other users: tests run as root start PostgreSQL as the `postgres` user in
// a folder below this one (test/support/postgres.ts), and it must reach its data directory.
chmodSync(runDir, 0o711);
const tap = join(root, 'node_modules', '.bin', 'tap');
const result = spawnSync(tap, process.argv.slice(2), { stdio: 'inherit', cwd: root, env: { ...process.env, TMPDIR: runDir, TEMP: runDir, TMP: runDir } });

const left = readdirSync(runDir);
const ours = left.filter((name) => name.startsWith('mimamori-'));
const others = left.filter((name) => !name.startsWith('mimamori-'));
if (others.length > 0) console.error(`[test] note: other temp entries left by tools during the run (not ours): ${others.join(', ')}`);
rmSync(runDir, { recursive: true, force: true });
if (ours.length > 0) {
  console.error(`[test] FAIL: tests left ${ours.length} temp folder(s) behind: ${ours.join(', ')}`);
  console.error('[test] each test removes what it makes: use tempDir(t) from test/support/wait.ts (t.teardown).');
  process.exit(1);
}
process.exit(result.status ?? 1);
