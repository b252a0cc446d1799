/**
 * The printable weekly news sheet (PDF) for families without smartphones:
 * the week's news of one resident, in Japanese or English, with a font that
 * has Japanese glyphs (IPA Gothic from Debian's fonts-ipafont-gothic).
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
  /** A TTF with Japanese glyphs; without one, only Latin text renders. */
  fontPath?: string;
}


/** Renders the sheet; resolves with the PDF bytes. */
export function renderNewsSheet(input: NewsSheetInput): Promise<Buffer> {
  const t = translator(input.language);
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 56, info: { Title: t('newsSheetTitle') } });
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
      doc.moveDown(0.8);
    }
    doc.end();
  });
}
