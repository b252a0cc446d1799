import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseRecordedLine, type Reading } from '../core/events.js';

/**
 * Reads an NDJSON file of recorded readings (`-` for standard input). Bad
 * lines are reported as `FILE:LINE: skipped (reason): detail` — at most
 * `maxReported` of them — counted, and skipped; everything else still runs.
 */
export async function* readRecordedFile(file: string, counts: { bad: number }, report: (line: string) => void, maxReported = Infinity): AsyncGenerator<Reading> {
  const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    const r = parseRecordedLine(line);
    if (r.ok) yield r.value;
    else if (++counts.bad <= maxReported) report(`${file}:${n}: skipped (${r.reason}): ${r.detail}`);
  }
}
