/**
 * Monthly reports made on demand and kept (issue 14): one PDF per home, month
 * and language in the reports folder, with a row in the store (`reports`,
 * migration 13) that finds it again and proves it unchanged (SHA-256). A
 * report of a month that has ended is made once and then served as kept; a
 * report of the month still under way is made again when the kept one is
 * more than an hour old. Used by the web app (routes-reports.ts) and by
 * `mimamori report` (cli/report.ts).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { MimamoriError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Language, MonthlyReportRecord, Store } from '../core/store.js';
import { dayBounds, monthDates } from '../core/time.js';
import type { HistoryQuery } from './context.js';
import { collectMonthlyReport } from './monthly-report-data.js';
import { renderMonthlyReport } from './monthly-report-pdf.js';

export interface MonthlyReportsOptions {
  store: Store;
  history: HistoryQuery | undefined;
  /** Where the PDFs are kept (created when missing). */
  dir: string;
  fontPath?: string | undefined;
  /** The hub's clock: which month has ended, and the report's "made" time. */
  clock: { now(): number };
}

export interface ReportRequest { homeId: string; month: string; language: Language; by: string }

/** A partial month's kept report is served for this long before it is made again. */
const partialFreshMs = 3600_000;

/** `YYYY-MM`, or a readable error (nothing is made for a month that has not begun). */
function checkMonth(month: string, timezone: string, now: number): [number, number] {
  let dates: string[];
  try { dates = monthDates(month); } catch { throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `month: expected YYYY-MM, got ${JSON.stringify(month)} / 月は YYYY-MM の形で指定してください`); }
  const from = dayBounds(dates[0]!, timezone)[0];
  if (from > now) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `month: ${month} has not begun / ${month} はまだ始まっていません`);
  return [from, dayBounds(dates[dates.length - 1]!, timezone)[1]];
}

/** Makes, keeps and reads monthly reports. */
export function createMonthlyReports(o: MonthlyReportsOptions) {
  const root = resolve(o.dir);
  const inFlight = new Map<string, Promise<{ record: MonthlyReportRecord; made: boolean }>>();
  const pathOf = (r: MonthlyReportRecord) => {
    const p = resolve(root, r.file);
    if (!p.startsWith(root + sep)) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `report ${r.id}: file outside the reports folder`);
    return p;
  };

  async function make(req: ReportRequest, kept: MonthlyReportRecord | undefined, to: number): Promise<MonthlyReportRecord> {
    const now = o.clock.now();
    const data = await collectMonthlyReport({ store: o.store, history: o.history, homeId: req.homeId, month: req.month, now });
    const { pdf, pages } = await renderMonthlyReport(data, { language: req.language, ...(o.fontPath ? { fontPath: o.fontPath } : {}) });
    const id = newId(now);
    const file = join(req.homeId, `${req.month}-${req.language}-${id}.pdf`);
    const record: MonthlyReportRecord = {
      id, homeId: req.homeId, month: req.month, language: req.language, createdAt: now, createdBy: req.by, complete: now >= to,
      file, size: pdf.length, sha256: createHash('sha256').update(pdf).digest('hex'), pages,
    };
    const target = pathOf(record);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(`${target}.tmp`, pdf, { mode: 0o600 });
    await rename(`${target}.tmp`, target);
    await o.store.saveReport(record);
    if (kept) await rm(pathOf(kept), { force: true });
    return record;
  }

  return {
    /**
     * The kept report of a home's month in one language, or a new one made
     * and kept. `made` says which. Errors: unknown home (NOT_FOUND), a month
     * that is malformed or has not begun (INVALID_INPUT).
     */
    obtain(req: ReportRequest): Promise<{ record: MonthlyReportRecord; made: boolean }> {
      const key = `${req.homeId}|${req.month}|${req.language}`;
      const running = inFlight.get(key);
      if (running) return running; // two people asking at once get the same report
      const job = (async () => {
        const home = await o.store.getHome(req.homeId);
        if (!home) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `no home ${req.homeId} / お宅 ${req.homeId} がありません`);
        const [, to] = checkMonth(req.month, home.timezone, o.clock.now());
        const kept = await o.store.findReport(req.homeId, req.month, req.language);
        if (kept && (kept.complete || o.clock.now() - kept.createdAt < partialFreshMs)) return { record: kept, made: false };
        return { record: await make(req, kept, to), made: true };
      })();
      inFlight.set(key, job);
      return job.finally(() => inFlight.delete(key));
    },
    /** The kept PDF's bytes; refuses a file that is missing or no longer matches its SHA-256. */
    async read(record: MonthlyReportRecord): Promise<Buffer> {
      const bytes = await readFile(pathOf(record)).catch(() => undefined);
      if (!bytes) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `report ${record.id}: the file is missing / レポートのファイルがありません`);
      if (createHash('sha256').update(bytes).digest('hex') !== record.sha256) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `report ${record.id}: the file does not match its SHA-256`);
      return bytes;
    },
  };
}

export type MonthlyReports = ReturnType<typeof createMonthlyReports>;
