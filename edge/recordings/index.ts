/**
 * Public research recordings of people living alone, converted to the replay
 * format (docs/evaluate.md → "Real recordings"). One converter per dataset,
 * each with a README-<dataset>.md giving source, licence, citation and how
 * to get the raw files; no dataset file is in this repository.
 *
 * @example
 * const { readings, settings } = convertRecording('ordonez', 'a', '/data/raw/ordonez');
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toRecordedLine, type Reading } from '../../core/events.js';
import type { HomeSettings } from './home-settings.js';
import { casasHomes, readCasas } from './casas.js';
import { kasterenHomes, readKasteren } from './kasteren.js';
import { ordonezHomes, readOrdonez } from './ordonez.js';
import { buildRecording, type ConvertedSource } from './source.js';
import { readTapia, tapiaHomes } from './tapia.js';

export { parseHomeSettings, homeSettingsSchema, type HomeSettings, type HomeDevice } from './home-settings.js';
export type { SensorRole, SensorSpec, SensorInterval } from './intervals.js';

interface Dataset { homes: readonly string[]; read(rawDir: string, home: string): ConvertedSource }

/** The datasets a converter exists for, and their homes. */
export const recordingDatasets: Record<string, Dataset> = {
  casas: { homes: casasHomes, read: readCasas },
  kasteren: { homes: kasterenHomes, read: readKasteren },
  ordonez: { homes: ordonezHomes, read: readOrdonez },
  tapia: { homes: tapiaHomes, read: readTapia },
};

/** Converts one home of a dataset from its raw files; the home id is `<dataset>-<home>`. */
export function convertRecording(dataset: string, home: string, rawDir: string): { readings: Reading[]; settings: HomeSettings; unknown: number } {
  const d = recordingDatasets[dataset];
  if (!d) throw new Error(`unknown dataset ${JSON.stringify(dataset)}; known: ${Object.keys(recordingDatasets).join(', ')}`);
  if (!d.homes.includes(home)) throw new Error(`dataset ${dataset} has no home ${JSON.stringify(home)}; its homes: ${d.homes.join(', ')}`);
  return buildRecording(`${dataset}-${home}`, d.read(rawDir, home));
}

/** Writes `<outDir>/<home>.ndjson` and `<home>.home.json`; returns the two paths. */
export async function writeRecording(outDir: string, readings: readonly Reading[], settings: HomeSettings): Promise<{ ndjson: string; homeJson: string }> {
  mkdirSync(outDir, { recursive: true });
  const ndjson = join(outDir, `${settings.home}.ndjson`), homeJson = join(outDir, `${settings.home}.home.json`);
  const out = createWriteStream(ndjson);
  for (const r of readings) {
    if (!out.write(`${toRecordedLine(r)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  writeFileSync(homeJson, `${JSON.stringify(settings, null, 2)}\n`);
  return { ndjson, homeJson };
}
