/**
 * The monthly report as a printable PDF (issue 14), in Japanese or English,
 * with its charts drawn as vector graphics by pdfkit from the figures (no
 * browser): the hour-of-day rhythm against her usual band, activity day by
 * day with day-care days marked, and four weeks of trends. Every chart has
 * its figures in a sentence or table beside it, as on the web pages.
 */
import PDFDocument from 'pdfkit';
import type { Language } from '../core/store.js';
import { localTime, monthDayClock } from '../core/time.js';
import { timelineLine } from './alert-timeline.js';
import type { MonthlyReportData } from './monthly-report-data.js';

type Words = Record<Language, string>;
const w = {
  title: { ja: '月次レポート', en: 'Monthly report' },
  generated: { ja: '作成', en: 'Made' },
  partial: { ja: 'この月はまだ終わっていません。作成時点までの内容です。', en: 'This month has not ended yet: the report covers it up to when it was made.' },
  summary: { ja: 'この月のまとめ', en: 'The month in brief' },
  outings: { ja: '外出', en: 'Outings' },
  dayCare: { ja: 'デイサービス', en: 'Day care' },
  alerts: { ja: 'アラートと対応', en: 'Alerts and how they were handled' },
  checkins: { ja: 'ビデオ見守り', en: 'Video check-ins' },
  notes: { ja: '見守りメモ', en: 'Check-in notes' },
  news: { ja: '家族のニュース', en: 'Family news' },
  questions: { ja: 'ご質問', en: 'Questions' },
  rhythm: { ja: '一日のリズム（時間帯ごとの活動）', en: 'Daily rhythm (activity by hour of day)' },
  daily: { ja: '日ごとの活動', en: 'Activity day by day' },
  trends: { ja: '4週間の推移', en: 'Four-week trends' },
  noActivity: { ja: 'この月の活動記録はありません。', en: 'No activity was recorded this month.' },
  noAlerts: { ja: 'この月のアラートはありません。', en: 'No alerts this month.' },
  noNotes: { ja: 'この月のメモはありません。', en: 'No notes this month.' },
  legendMean: { ja: 'この月の平均', en: 'This month (mean)' },
  legendBand: { ja: 'いつもの範囲', en: 'Her usual band' },
  legendDayCare: { ja: 'デイサービス出席日', en: 'Day-care days' },
  week: { ja: '期間', en: 'Week' },
  perDay: { ja: '活動（1日平均）', en: 'Activity per day' },
  alertCount: { ja: 'アラート', en: 'Alerts' },
  mood: { ja: '様子', en: 'Mood' },
  eating: { ja: '食事', en: 'Eating' },
  followUp: { ja: '気になること', en: 'Follow-up' },
} satisfies Record<string, Words>;

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2026年11月" / "November 2026". */
export function monthTitle(month: string, lang: Language): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return lang === 'ja' ? `${y}年${m}月` : `${monthNames[m - 1]} ${y}`;
}

/** "2時間5分" / "2 h 5 min". */
function duration(minutes: number, lang: Language): string {
  const h = Math.floor(minutes / 60); const m = minutes % 60;
  if (lang === 'ja') return h > 0 ? `${h}時間${m}分` : `${m}分`;
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

export interface RenderOptions {
  language: Language;
  /** A TTF with Japanese glyphs; without one, only Latin text renders. */
  fontPath?: string;
}

/** The hour of the day with the most activity, in a sentence (the rhythm chart's text alternative). */
export function rhythmSentence(d: MonthlyReportData, lang: Language): string {
  if (!d.hasActivity) return w.noActivity[lang];
  const peak = d.rhythm.mean.indexOf(Math.max(...d.rhythm.mean));
  const outside = d.rhythm.mean.filter((v, h) => v < d.rhythm.low[h]! || v > d.rhythm.high[h]!).length;
  const src = d.rhythm.bandFrom === 'before'
    ? (lang === 'ja' ? `前の4週間（${d.rhythm.bandDays}日）` : `the four weeks before (${d.rhythm.bandDays} days)`)
    : (lang === 'ja' ? `この月（${d.rhythm.bandDays}日）` : `this month (${d.rhythm.bandDays} days)`);
  return lang === 'ja'
    ? `いちばん活動が多いのは ${peak}時台（1日平均 ${d.rhythm.mean[peak]!.toFixed(1)} 回）。いつもの範囲は${src}から。範囲を外れた時間帯: ${outside}。`
    : `Most active at ${peak}:00 (${d.rhythm.mean[peak]!.toFixed(1)} a day on average). Her usual band comes from ${src}. Hours outside it: ${outside}.`;
}

/**
 * Renders the report; resolves with the PDF bytes and its page count.
 *
 * @example const { pdf, pages } = await renderMonthlyReport(await collectMonthlyReport(o), { language: 'ja', fontPath })
 */
export function renderMonthlyReport(d: MonthlyReportData, o: RenderOptions): Promise<{ pdf: Buffer; pages: number }> {
  const lang = o.language;
  const tz = d.home.timezone;
  const when = (at: number) => monthDayClock(at, tz);
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 48, bufferPages: true, info: { Title: `${w.title[lang]} ${monthTitle(d.month, lang)} — ${d.home.name}` } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('error', reject);
    if (o.fontPath) doc.font(o.fontPath);
    const left = 48; const width = doc.page.width - 96;
    const heading = (text: string) => { doc.moveDown(0.6).fontSize(15).fillColor('#0b4f8a').text(text, left).fillColor('#000').moveDown(0.2); };
    const body = (text: string) => doc.fontSize(10.5).fillColor('#000').text(text, left, undefined, { width });

    // ── Page 1: who, the month in brief, the daily rhythm, activity day by day ──
    doc.fontSize(22).text(`${w.title[lang]} ${monthTitle(d.month, lang)}`);
    doc.fontSize(14).text(`${d.residents.join('、') || d.home.name} — ${d.home.name}`);
    doc.fontSize(9).fillColor('#555').text(`${w.generated[lang]}: ${localTime(d.generatedAt, tz).date} ${when(d.generatedAt).split(' ')[1]}`).fillColor('#000');
    if (!d.complete) doc.fontSize(10).fillColor('#8a4b00').text(w.partial[lang]).fillColor('#000');
    heading(w.summary[lang]);
    const sep = lang === 'ja' ? '：' : ': ';
    const lines = [
      `${w.outings[lang]}${sep}${lang === 'ja' ? `${d.outings.count}回（合計 ${duration(d.outings.minutes, lang)}、最長 ${duration(d.outings.longestMinutes, lang)}）` : `${d.outings.count} (${duration(d.outings.minutes, lang)} in all, longest ${duration(d.outings.longestMinutes, lang)})`}`,
      `${w.dayCare[lang]}${sep}${lang === 'ja' ? `出席 ${d.dayCare.present}日・欠席 ${d.dayCare.absent}日` : `present ${d.dayCare.present} days, absent ${d.dayCare.absent} days`}`,
      `${w.alerts[lang]}${sep}${lang === 'ja' ? `${d.alerts.length}件` : `${d.alerts.length}`}`,
      `${w.checkins[lang]}${sep}${lang === 'ja' ? `実施 ${d.checkins.done}回・不在 ${d.checkins.missed}回・予定 ${d.checkins.scheduled}回` : `${d.checkins.done} held, ${d.checkins.missed} missed, ${d.checkins.scheduled} scheduled`}`,
      `${w.notes[lang]}${sep}${lang === 'ja' ? `${d.notes.length}件` : `${d.notes.length}`}`,
      `${w.news[lang]}${sep}${lang === 'ja' ? `${d.newsCount}件` : `${d.newsCount}`}`,
      `${w.questions[lang]}${sep}${lang === 'ja' ? `${d.questions.asked}件（回答 ${d.questions.answered}件）` : `${d.questions.asked} (${d.questions.answered} answered)`}`,
    ];
    for (const l of lines) body(l);

    heading(w.rhythm[lang]);
    rhythmChart(doc, d, left, doc.y + 4, width, 150, lang);
    body(rhythmSentence(d, lang));

    heading(w.daily[lang]);
    dailyChart(doc, d, left, doc.y + 4, width, 120, lang);

    // ── Page 2: four-week trends ──
    doc.addPage();
    heading(w.trends[lang]);
    trendsChart(doc, d, left, doc.y + 4, width, 130, lang);
    const cols = [w.week[lang], w.perDay[lang], w.outings[lang], w.dayCare[lang], w.alertCount[lang]];
    const colW = width / cols.length;
    const row = (cells: string[], bold = false) => {
      const y = doc.y;
      doc.fontSize(10).fillColor(bold ? '#0b4f8a' : '#000');
      cells.forEach((c, i) => doc.text(c, left + i * colW, y, { width: colW - 6 }));
      doc.fillColor('#000').text('', left, y + 16);
    };
    row(cols, true);
    for (const wk of d.weeks) row([`${wk.from.slice(5)} – ${wk.to.slice(5)}`, `${wk.eventsPerDay}`, `${wk.outings}`, `${wk.dayCareDays}`, `${wk.alerts}`]);

    // ── Page 3: alerts with their timelines, then the check-in notes ──
    doc.addPage();
    heading(w.alerts[lang]);
    if (d.alerts.length === 0) body(w.noAlerts[lang]);
    for (const a of d.alerts) {
      // When the message already says the time ("06:30 に…"), the date alone is added.
      const at = when(a.at); const time = at.split(' ')[1] ?? '';
      doc.fontSize(11.5).fillColor(a.severity === 'critical' ? '#a01818' : '#8a4b00').text(`${a.text[lang].includes(time) ? at.split(' ')[0] : at} ${a.text[lang]} — ${a.stateText[lang]}`, left, undefined, { width }).fillColor('#000');
      for (const s of a.timeline) doc.fontSize(10).text(`・${timelineLine(s, lang, when)}`, left + 14, undefined, { width: width - 14 });
      doc.moveDown(0.4);
    }
    heading(w.notes[lang]);
    if (d.notes.length === 0) body(w.noNotes[lang]);
    for (const n of d.notes) {
      body(`${when(n.at)} ${n.author} — ${w.mood[lang]}: ${n.mood} / ${w.eating[lang]}: ${n.eating}${n.followUp ? ` / ${w.followUp[lang]}: ${n.followUp}` : ''}`);
    }

    const pages = doc.bufferedPageRange().count;
    doc.on('end', () => resolve({ pdf: Buffer.concat(chunks), pages }));
    doc.end();
  });
}

type Doc = PDFKit.PDFDocument;

/** Axis line and a few labels under a chart. */
function axis(doc: Doc, x: number, y: number, width: number, labels: Array<[number, string]>) {
  doc.save().lineWidth(0.5).strokeColor('#888').moveTo(x, y).lineTo(x + width, y).stroke().restore();
  doc.fontSize(7).fillColor('#555');
  for (const [at, text] of labels) doc.text(text, x + at - 10, y + 2, { width: 20, align: 'center', lineBreak: false });
  doc.fillColor('#000');
}

/** The value at the top of a chart's scale, at its right edge. */
function scaleLabel(doc: Doc, right: number, top: number, text: string) {
  doc.fontSize(7).fillColor('#555').text(text, right - 60, top - 9, { width: 60, align: 'right', lineBreak: false }).fillColor('#000');
}

function legend(doc: Doc, x: number, y: number, items: Array<[string, string]>) {
  let at = x;
  doc.fontSize(8);
  for (const [color, text] of items) {
    doc.save().rect(at, y + 1, 8, 8).fill(color).restore();
    doc.fillColor('#333').text(text, at + 11, y, { lineBreak: false });
    at += 11 + doc.widthOfString(text) + 14;
  }
  doc.fillColor('#000');
}

/** 24 bars (the month's mean per hour) over her usual band (grey: 25th–75th percentile). */
function rhythmChart(doc: Doc, d: MonthlyReportData, x: number, y: number, width: number, height: number, lang: Language) {
  legend(doc, x, y, [['#0b4f8a', w.legendMean[lang]], ['#d6dbe1', w.legendBand[lang]]]);
  const top = y + 14; const h = height - 30;
  const max = Math.max(1, ...d.rhythm.mean, ...d.rhythm.high);
  const slot = width / 24;
  for (let hr = 0; hr < 24; hr++) {
    const lo = d.rhythm.low[hr]!; const hi = d.rhythm.high[hr]!;
    if (hi > 0) doc.save().rect(x + hr * slot, top + h - (hi / max) * h, slot, Math.max(0.5, ((hi - lo) / max) * h)).fill('#d6dbe1').restore();
    const v = d.rhythm.mean[hr]!;
    if (v > 0) doc.save().rect(x + hr * slot + slot * 0.25, top + h - (v / max) * h, slot * 0.5, (v / max) * h).fill('#0b4f8a').restore();
  }
  axis(doc, x, top + h, width, [0, 6, 12, 18, 23].map((hr) => [hr * slot + slot / 2, `${hr}`]));
  scaleLabel(doc, x + width, top, max.toFixed(1));
  doc.text('', x, top + h + 14);
}

/** Events per day as a line, day-care days marked with a square under the axis. */
function dailyChart(doc: Doc, d: MonthlyReportData, x: number, y: number, width: number, height: number, lang: Language) {
  legend(doc, x, y, [['#0b4f8a', w.daily[lang]], ['#2e7d32', w.legendDayCare[lang]]]);
  const top = y + 14; const h = height - 34;
  const max = Math.max(1, ...d.days.map((x2) => x2.events));
  const step = width / Math.max(1, d.days.length - 1);
  doc.save().lineWidth(1.2).strokeColor('#0b4f8a');
  d.days.forEach((day, i) => {
    const px = x + i * step; const py = top + h - (day.events / max) * h;
    if (i === 0) doc.moveTo(px, py); else doc.lineTo(px, py);
  });
  doc.stroke().restore();
  d.days.forEach((day, i) => { if (day.dayCare === 'present') doc.save().rect(x + i * step - 2.5, top + h + 12, 5, 5).fill('#2e7d32').restore(); });
  axis(doc, x, top + h, width, [0, 9, 19, d.days.length - 1].map((i) => [i * step, `${Number(d.days[i]!.date.slice(8))}`]));
  scaleLabel(doc, x + width, top, `${max}`);
  doc.text('', x, top + h + 22);
}

/** Four bars (activity per day, week by week) with outings as a line over them. */
function trendsChart(doc: Doc, d: MonthlyReportData, x: number, y: number, width: number, height: number, lang: Language) {
  legend(doc, x, y, [['#0b4f8a', w.perDay[lang]], ['#e07b00', w.outings[lang]]]);
  y += 14;
  const h = height - 34;
  const maxE = Math.max(1, ...d.weeks.map((wk) => wk.eventsPerDay));
  const maxO = Math.max(1, ...d.weeks.map((wk) => wk.outings));
  const slot = width / d.weeks.length;
  d.weeks.forEach((wk, i) => {
    const bh = (wk.eventsPerDay / maxE) * h;
    doc.save().rect(x + i * slot + slot * 0.2, y + h - bh, slot * 0.6, bh).fill('#0b4f8a').restore();
  });
  doc.save().lineWidth(1.5).strokeColor('#e07b00');
  d.weeks.forEach((wk, i) => {
    const px = x + i * slot + slot / 2; const py = y + h - (wk.outings / maxO) * h;
    if (i === 0) doc.moveTo(px, py); else doc.lineTo(px, py);
  });
  doc.stroke().restore();
  axis(doc, x, y + h, width, d.weeks.map((wk, i) => [i * slot + slot / 2, wk.from.slice(5)]));
  doc.text('', x, y + h + 16);
}
