/**
 * `mimamori evaluate`: labelled event files (the replay format plus a truth
 * file, docs/evaluate.md) or the generated corpus through fixed rules alone,
 * fixed rules with away context, and learned routines; prints recall per
 * incident type, false alarms per home per month, time to detect, and the
 * issue's targets.
 *
 *   mimamori evaluate FILE.ndjson --truth TRUTH.json [--months] [--check]
 *   mimamori evaluate --corpus [--seed S] [--homes N] [--days D] [--months] [--check]
 *   mimamori evaluate --write-corpus DIR [--seed S] [--homes N] [--days D]
 */
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toRecordedLine } from '../core/events.js';
import { simulateStream } from '../edge/simulator.js';
import { buildCorpus, evaluateCorpus } from '../rules/evaluate-corpus.js';
import { checkTargets, evaluateReadings, formatReport, parseTruth, type ModeScore } from '../rules/evaluate.js';
import { readRecordedFile } from './recorded-file.js';

/** Where the command writes (the CLI's `CliIo`). */
export interface EvaluateIo { out(line: string): void; err(line: string): void }

export const evaluateUsage = `  mimamori evaluate FILE.ndjson --truth TRUTH.json [--months] [--check]    (label format: docs/evaluate.md)
  mimamori evaluate --corpus [--seed 1] [--homes 10] [--days 92] [--months] [--check]
  mimamori evaluate --write-corpus DIR [--seed 1] [--homes 10] [--days 92]`;


function finish(scores: ModeScore[], months: boolean, check: boolean, io: EvaluateIo): number {
  for (const line of formatReport(scores, { months })) io.out(line);
  const learned = scores.find((s) => s.mode === 'learned');
  if (!check || !learned) return 0;
  return checkTargets(learned, scores.find((s) => s.mode === 'fixed')).every((c) => c.met) ? 0 : 1;
}

/** Runs the command; returns the exit code. */
export async function evaluateCommand(args: string[], io: EvaluateIo): Promise<number> {
  let values: { truth?: string; months?: boolean; check?: boolean; corpus?: boolean; 'write-corpus'?: string; seed?: string; homes?: string; days?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        truth: { type: 'string' }, months: { type: 'boolean' }, check: { type: 'boolean' }, corpus: { type: 'boolean' },
        'write-corpus': { type: 'string' }, seed: { type: 'string' }, homes: { type: 'string' }, days: { type: 'string' },
      },
    }));
  } catch (err) {
    io.err(`mimamori evaluate: ${(err as Error).message}\n${evaluateUsage}`);
    return 2;
  }
  const num = (v: string | undefined, def: number, name: string): number => {
    const n = v === undefined ? def : Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  try {
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
