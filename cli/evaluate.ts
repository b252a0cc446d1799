/**
 * `mimamori evaluate`: labelled event files (the replay format plus a truth
 * file, docs/evaluate.md) or the generated corpus through fixed rules alone,
 * fixed rules with away context, and learned routines; prints recall per
 * incident type, false alarms per home per month, time to detect, and the
 * issue's targets.
 *
 *   mimamori evaluate FILE.ndjson --truth TRUTH.json [--months] [--check]
 *   mimamori evaluate --corpus [--seed S] [--homes N] [--days D] [--months] [--check]
 *   mimamori evaluate --corpus --messy [--seed S] [--homes N] [--days D] [--per-type N] [--json] [--check]
 *   mimamori evaluate --write-corpus DIR [--seed S] [--homes N] [--days D]
 *   mimamori evaluate --recordings DIR [--seed S] [--per-type N] [--json] [--check]
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toRecordedLine } from '../core/events.js';
import { simulateStream } from '../edge/index.js';
import { buildCorpus, buildMessyCorpus, evaluateCorpus } from '../rules/index.js';
import type { Reading } from '../core/events.js';
import { parseHomeSettings } from '../edge/index.js';
import { checkRecordingTargets, evaluateRecordings, formatRecordingsReport, type RecordedHome } from '../rules/index.js';
import { checkTargets, evaluateReadings, formatReport, parseTruth, type ModeScore } from '../rules/index.js';
import { readRecordedFile } from './recorded-file.js';

/** Where the command writes (the CLI's `CliIo`). */
export interface EvaluateIo { out(line: string): void; err(line: string): void }

export const evaluateUsage = `  mimamori evaluate FILE.ndjson --truth TRUTH.json [--months] [--check]    (label format: docs/evaluate.md)
  mimamori evaluate --corpus [--seed 1] [--homes 10] [--days 92] [--months] [--check]
  mimamori evaluate --corpus --messy [--seed 1] [--homes 8] [--days 56] [--per-type 3] [--json] [--check]
  mimamori evaluate --write-corpus DIR [--messy] [--seed 1] [--homes 10] [--days 92]
  mimamori evaluate --recordings DIR [--seed 1] [--per-type 3] [--json] [--check]`;

export const evaluateHelp = `mimamori evaluate — how well the rules do, fixed rules alone against the default rule set.

${evaluateUsage}

  FILE --truth T     a recorded file (replay format) scored against labelled incidents
  --corpus           the simulated, labelled corpus (deterministic from --seed)
  --messy            the messy corpus instead: homes like the real recordings (no
                     heartbeats, chattering mats, latched taps, data gaps, motion-only
                     and object-only homes, late risers, nappers, long sitting, nights
                     away, visitors), reported as the real recordings are, then with
                     the simulator's own incidents (collapse after coming home or
                     after a visitor leaves) as the corpus is
  --write-corpus D   write that corpus and its truth files to D instead (with --messy:
                     D/<home>.ndjson + D/<home>.home.json, for --recordings D)
  --recordings D     real recordings: every D/<home>.ndjson with its D/<home>.home.json
                     (time zone, front door, waking hours, devices). Reports (a) false
                     alarms per home-month by rule and audience as recorded, and (b)
                     injected incidents — collapse at a waking moment, night outing
                     without return, collapse right after coming home, each followed by
                     12 h of silence — with recall and median / worst time to detect.
  --seed S           seed for the corpus or for the injected moments (default 1)
  --per-type N       injected incidents of each type per home (default 3)
  --json             the recordings report as JSON instead of a table
  --months           false alarms per calendar month (labelled files, corpus)
  --check            exit 1 when a target is missed
  -h, --help         this help

See docs/evaluate.md.`;

/** Reads every `<home>.home.json` in `dir` and its `<home>.ndjson`, readings in time order. */
export async function loadRecordings(dir: string, io: EvaluateIo): Promise<RecordedHome[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.home.json')).sort();
  if (files.length === 0) throw new Error(`no *.home.json in ${dir}: each recording needs one next to its .ndjson (docs/evaluate.md)`);
  const homes: RecordedHome[] = [];
  for (const f of files) {
    const settings = parseHomeSettings(JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown, f);
    const ndjson = join(dir, f.replace(/\.home\.json$/, '.ndjson'));
    if (!existsSync(ndjson)) throw new Error(`${f}: no ${ndjson}`);
    const counts = { bad: 0 };
    const readings: Reading[] = [];
    let other = 0;
    for await (const r of readRecordedFile(ndjson, counts, (l) => io.err(l), 20)) {
      if (r.home === settings.home) readings.push(r);
      else other++;
    }
    if (counts.bad > 0) io.err(`evaluate: ${ndjson}: ${counts.bad} line(s) skipped`);
    if (other > 0) io.err(`evaluate: ${ndjson}: ${other} reading(s) of homes other than ${settings.home} skipped`);
    readings.sort((a, b) => a.at - b.at);
    homes.push({ settings, readings });
  }
  return homes;
}


function finish(scores: ModeScore[], months: boolean, check: boolean, io: EvaluateIo): number {
  for (const line of formatReport(scores, { months })) io.out(line);
  const learned = scores.find((s) => s.mode === 'learned');
  if (!check || !learned) return 0;
  return checkTargets(learned, scores.find((s) => s.mode === 'fixed')).every((c) => c.met) ? 0 : 1;
}

/** `--corpus --messy` and `--write-corpus DIR --messy`. */
async function messyCommand(values: { seed?: string; homes?: string; days?: string; 'per-type'?: string; 'write-corpus'?: string; json?: boolean; check?: boolean; months?: boolean }, num: (v: string | undefined, def: number, name: string) => number, io: EvaluateIo): Promise<number> {
  const messy = buildMessyCorpus({ seed: num(values.seed, 1, 'seed'), homes: Math.round(num(values.homes, 8, 'homes')), days: num(values.days, 56, 'days') });
  const dir = values['write-corpus'];
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true });
    for (const h of messy.homes) {
      writeFileSync(join(dir, `${h.settings.home}.ndjson`), h.readings.map((r) => `${toRecordedLine(r)}\n`).join(''));
      writeFileSync(join(dir, `${h.settings.home}.home.json`), `${JSON.stringify(h.settings, null, 2)}\n`);
    }
    writeFileSync(join(dir, 'messy.truth.json'), `${JSON.stringify(messy.labelled.truth, null, 2)}\n`);
    io.err(`evaluate: wrote ${messy.homes.length} messy homes (without incidents) to ${dir}, and messy.truth.json for the incidents of the labelled run`);
    return 0;
  }
  const started = Date.now();
  const report = await evaluateRecordings(messy.homes, { seed: num(values.seed, 1, 'seed'), perType: Math.round(num(values['per-type'], 3, 'per-type')), progress: (l) => io.err(l) });
  const { scores, readings } = await evaluateCorpus([messy.labelled], { modes: ['fixed', 'learned'] });
  io.err(`evaluate: messy corpus of ${messy.homes.length} homes, ${readings} readings with incidents, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const targets = checkRecordingTargets(report);
  if (values.json) {
    io.out(JSON.stringify({ kinds: messy.kinds, ...report, targets, labelled: scores.map(({ falseAlarmList: _f, ...s }) => s) }, null, 2));
  } else {
    io.out(`Messy simulated corpus (seed ${report.seed}): ${messy.homes.map((h) => `${h.settings.home} ${messy.kinds[h.settings.home]}`).join(', ')}`);
    io.out('');
    for (const line of formatRecordingsReport(report)) io.out(line.replace(/^Real recordings:/, 'Simulated messy homes:'));
    io.out('');
    io.out('The same homes with the simulator\'s own incidents (ground truth from the simulator):');
    for (const line of formatReport(scores, { months: values.months === true })) io.out(line);
  }
  return values.check && !targets.every((c) => c.met) ? 1 : 0;
}

/** Runs the command; returns the exit code. */
export async function evaluateCommand(args: string[], io: EvaluateIo): Promise<number> {
  let values: { truth?: string; months?: boolean; check?: boolean; corpus?: boolean; messy?: boolean; 'write-corpus'?: string; seed?: string; homes?: string; days?: string; recordings?: string; 'per-type'?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        truth: { type: 'string' }, months: { type: 'boolean' }, check: { type: 'boolean' }, corpus: { type: 'boolean' }, messy: { type: 'boolean' },
        'write-corpus': { type: 'string' }, seed: { type: 'string' }, homes: { type: 'string' }, days: { type: 'string' },
        recordings: { type: 'string' }, 'per-type': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`mimamori evaluate: ${(err as Error).message}\n${evaluateUsage}`);
    return 2;
  }
  if (values.help) { io.out(evaluateHelp); return 0; }
  const num = (v: string | undefined, def: number, name: string): number => {
    const n = v === undefined ? def : Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  try {
    if (values.recordings !== undefined) {
      const homes = await loadRecordings(values.recordings, io);
      const started = Date.now();
      const report = await evaluateRecordings(homes, { seed: num(values.seed, 1, 'seed'), perType: Math.round(num(values['per-type'], 3, 'per-type')), progress: (l) => io.err(l) });
      io.err(`evaluate: ${homes.length} recorded home(s), ${report.injected.length} injected incident(s), ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const targets = checkRecordingTargets(report);
      if (values.json) io.out(JSON.stringify({ ...report, targets }, null, 2));
      else for (const line of formatRecordingsReport(report)) io.out(line);
      return values.check && !targets.every((c) => c.met) ? 1 : 0;
    }
    if (values.messy) {
      if (!values.corpus && values['write-corpus'] === undefined) throw new Error('--messy goes with --corpus or --write-corpus DIR');
      return await messyCommand(values, num, io);
    }
    if (values.corpus || values['write-corpus']) {
      const corpus = buildCorpus({ seed: num(values.seed, 1, 'seed'), homesPerGroup: Math.round(num(values.homes, 10, 'homes')), days: num(values.days, 92, 'days') });
      const dir = values['write-corpus'];
      if (dir !== undefined) {
        mkdirSync(dir, { recursive: true });
        for (const g of corpus) {
          const out = createWriteStream(join(dir, `${g.name}.ndjson`));
          let n = 0;
          for (const r of simulateStream(g.sim)) {
            if (!out.write(`${toRecordedLine(r)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
            n++;
          }
          await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
          writeFileSync(join(dir, `${g.name}.truth.json`), `${JSON.stringify(g.truth, null, 2)}\n`);
          io.err(`evaluate: wrote ${n} readings to ${join(dir, `${g.name}.ndjson`)} and its truth file`);
        }
        return 0;
      }
      const started = Date.now();
      const { scores, readings } = await evaluateCorpus(corpus);
      io.err(`evaluate: corpus of ${corpus.length} groups, ${readings} readings, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return finish(scores, values.months === true, values.check === true, io);
    }
    const file = positionals[0];
    if (!file || !values.truth) { io.err(evaluateUsage); return 2; }
    const truth = parseTruth(JSON.parse(readFileSync(values.truth, 'utf8')) as unknown);
    const counts = { bad: 0 };
    const scores = await evaluateReadings(readRecordedFile(file, counts, (l) => io.err(l), 20), truth);
    if (counts.bad > 0) io.err(`evaluate: ${counts.bad} line(s) skipped`);
    return finish(scores, values.months === true, values.check === true, io);
  } catch (err) {
    io.err(`mimamori evaluate: ${(err as Error).message}`);
    return 1;
  }
}
