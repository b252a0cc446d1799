/**
 * `mimamori convert DATASET --raw DIR --out DIR [--homes H1,H2]`: a public
 * research recording's raw files → `<dataset>-<home>.ndjson` (replay format)
 * and `<dataset>-<home>.home.json` (its settings) per home.
 */
import { parseArgs } from 'node:util';
import { convertRecording, recordingDatasets, writeRecording } from '../edge/index.js';

export interface ConvertIo { out(line: string): void; err(line: string): void }

export const convertUsage = `  mimamori convert DATASET --raw DIR --out DIR [--homes H1,H2]   (datasets: ${Object.entries(recordingDatasets).map(([n, d]) => `${n} [${d.homes.join(', ')}]`).join('; ')}; edge/recordings/README-*.md)`;

/** Runs the command; returns the exit code. */
export async function convertCommand(args: string[], io: ConvertIo): Promise<number> {
  let values: { raw?: string; out?: string; homes?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { raw: { type: 'string' }, out: { type: 'string' }, homes: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    io.err(`mimamori convert: ${(err as Error).message}\n${convertUsage}`);
    return 2;
  }
  if (values.help) { io.out(convertUsage); return 0; }
  const dataset = positionals[0];
  if (!dataset || !values.raw || !values.out) { io.err(convertUsage); return 2; }
  const known = recordingDatasets[dataset];
  if (!known) { io.err(`mimamori convert: unknown dataset ${JSON.stringify(dataset)}\n${convertUsage}`); return 2; }
  const homes = values.homes ? values.homes.split(',').map((h) => h.trim()).filter((h) => h !== '') : [...known.homes];
  let failed = 0;
  for (const home of homes) {
    try {
      const { readings, settings, unknown } = convertRecording(dataset, home, values.raw);
      const { ndjson } = await writeRecording(values.out, readings, settings);
      io.out(JSON.stringify({ home: settings.home, file: ndjson, readings: readings.length, devices: settings.devices.length, from: settings.from, to: settings.to }));
      if (unknown > 0) io.err(`convert ${settings.home}: ${unknown} firing(s) of sensors not in the sensor table were dropped`);
    } catch (err) {
      failed++;
      io.err(`mimamori convert ${dataset} ${home}: ${(err as Error).message}`);
    }
  }
  return failed === 0 ? 0 : 1;
}
