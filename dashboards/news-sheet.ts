/**
 * The printable weekly news sheet (PDF) for families without smartphones:
 * the week's news of one resident, in Japanese or English, with a font that
 * has Japanese glyphs (IPA Gothic from Debian's fonts-ipafont-gothic), and
 * the news photos the reader may see, two to a row, each scaled to fit.
 */
import PDFDocument from 'pdfkit';
import type { NewsItem } from '../core/store.js';
import { localTime } from '../core/time.js';
import { translator } from './i18n.js';

export interface NewsSheetInput {
  homeName: string;
  residentNames: string[];
  timezone: string;
  language: 'ja' | 'en';
  from: number;
  to: number;
  news: NewsItem[];
  /**
   * Photos per news id (the stored JPEGs, already re-encoded by photos.ts),
   * only those the reader may see; none when absent.
   */
  photos?: ReadonlyMap<string, ReadonlyArray<SheetPhoto>>;
  /** A TTF with Japanese glyphs; without one, only Latin text renders. */
  fontPath?: string;
}

/** A news photo for the sheet: the JPEG and its size in pixels. */
export interface SheetPhoto { jpeg: Buffer; width: number; height: number }

const margin = 56;
/** Photos sit two to a row, each fitted into half the text width and this height (points). */
const photoGap = 12;
const photoMaxHeight = 180;

/** Renders the sheet; resolves with the PDF bytes. */
export function renderNewsSheet(input: NewsSheetInput): Promise<Buffer> {
  const t = translator(input.language);
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin, info: { Title: t('newsSheetTitle') } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    if (input.fontPath) doc.font(input.fontPath);
    const day = (at: number) => { const l = localTime(at, input.timezone); return `${l.month}/${l.day}`; };
    doc.fontSize(22).text(t('newsSheetTitle'));
    doc.moveDown(0.3).fontSize(14).text(`${input.residentNames.join('、')} — ${input.homeName}`);
    doc.fontSize(11).fillColor('#333').text(`${day(input.from)} – ${day(input.to)}`).fillColor('#000');
    doc.moveDown();
    if (input.news.length === 0) doc.fontSize(14).text(t('newsSheetEmpty'));
    for (const n of [...input.news].reverse()) {
      doc.fontSize(12).fillColor('#0b4f8a').text(day(n.createdAt)).fillColor('#000');
      doc.fontSize(15).text(n.body, { lineGap: 4 });
      photoRows(doc, input.photos?.get(n.id) ?? []);
      doc.moveDown(0.8);
    }
    doc.end();
  });
}

/** Lays photos out two to a row under the text, each scaled to fit its cell; a row that does not fit starts a new page. */
function photoRows(doc: PDFKit.PDFDocument, photos: ReadonlyArray<SheetPhoto>): void {
  const width = doc.page.width - 2 * margin;
  const cellW = (width - photoGap) / 2;
  for (let i = 0; i < photos.length; i += 2) {
    const row = photos.slice(i, i + 2);
    const heights = row.map((p) => p.height * Math.min(cellW / p.width, photoMaxHeight / p.height));
    const rowH = Math.max(...heights);
    if (doc.y + photoGap + rowH > doc.page.height - margin) doc.addPage();
    const y = doc.y + photoGap / 2;
    row.forEach((p, j) => doc.image(p.jpeg, margin + j * (cellW + photoGap), y, { fit: [cellW, photoMaxHeight] }));
    doc.x = margin;
    doc.y = y + rowH + photoGap / 2;
  }
}
