/**
 * Reads the text back out of a PDF that pdfkit wrote with an embedded TrueType
 * font (Identity-H glyph ids plus a ToUnicode CMap), so tests check what a
 * person would read on paper rather than how it was drawn. Only what pdfkit
 * emits is understood: Flate streams, `bfrange` / `bfchar` CMaps and hex
 * strings in `TJ` / `Tj`. Each text object (BT … ET) becomes one line.
 */
import { inflateSync } from 'node:zlib';

function streams(pdf: Buffer): string[] {
  const out: string[] = [];
  const text = pdf.toString('latin1');
  const re = /stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    if (text.slice(Math.max(0, m.index - 3), m.index) === 'end') continue;
    const start = m.index + m[0].length;
    const end = text.indexOf('endstream', start);
    if (end < 0) break;
    const raw = pdf.subarray(start, end);
    try { out.push(inflateSync(raw).toString('latin1')); } catch { out.push(raw.toString('latin1')); }
    re.lastIndex = end;
  }
  return out;
}

const hexChars = (hex: string) => String.fromCodePoint(...(hex.match(/.{4}/g) ?? []).map((h) => parseInt(h, 16)));

/** The glyph → Unicode map of every ToUnicode CMap in the file (pdfkit uses one per font; codes do not collide in our sheets). */
function cmaps(all: string[]): Map<number, string> {
  const map = new Map<number, string>();
  for (const s of all.filter((x) => x.includes('begincmap'))) {
    for (const block of s.match(/beginbfrange([\s\S]*?)endbfrange/g) ?? []) {
      for (const r of block.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)/g)) {
        const lo = parseInt(r[1]!, 16); const hi = parseInt(r[2]!, 16);
        if (r[3]!.startsWith('[')) {
          const dst = [...r[3]!.matchAll(/<([0-9a-fA-F]+)>/g)].map((x) => hexChars(x[1]!));
          for (let c = lo; c <= hi; c++) map.set(c, dst[c - lo] ?? '');
        } else {
          const base = parseInt(r[3]!.slice(1, -1), 16);
          for (let c = lo; c <= hi; c++) map.set(c, String.fromCodePoint(base + c - lo));
        }
      }
    }
    for (const block of s.match(/beginbfchar([\s\S]*?)endbfchar/g) ?? []) {
      for (const r of block.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(parseInt(r[1]!, 16), hexChars(r[2]!));
    }
  }
  return map;
}

/** The PDF's text, one line per text object, in drawing order. */
export function pdfText(pdf: Buffer): string {
  const all = streams(pdf);
  const map = cmaps(all);
  const lines: string[] = [];
  for (const s of all.filter((x) => /\bBT\b/.test(x) && !x.includes('begincmap'))) {
    for (const bt of s.match(/BT[\s\S]*?ET/g) ?? []) {
      let line = '';
      for (const h of bt.matchAll(/<([0-9a-fA-F]*)>/g)) {
        for (const code of h[1]!.match(/.{4}/g) ?? []) line += map.get(parseInt(code, 16)) ?? '\ufffd';
      }
      lines.push(line);
    }
  }
  return lines.join('\n');
}
