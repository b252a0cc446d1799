/**
 * The printable emergency contact list (issue 15): for the day nothing works,
 * one A4 page per home with the resident, the address and key-box note, the
 * contacts in escalation order with their phone numbers, the care facility,
 * the hub and the date the data is from. Labels are in Japanese and English
 * together (whoever picks the paper up reads it); the font is the same IPA
 * Gothic as the news sheet (news-sheet.ts), so Japanese names print.
 *
 * The same data feeds the web pages (routes-contacts.ts), the reference hub
 * (backup/reference.ts) and `mimamori contacts-pdf` (cli/reference-hub.ts).
 */
import PDFDocument from 'pdfkit';
import type { Contact, Home, Resident, Store } from '../core/store.js';
import { toLocalIso } from '../core/time.js';
import { messages, type MessageKey, type Translator } from './i18n.js';

export interface ContactSheetHome {
  home: Home;
  residents: Resident[];
  /** In escalation order: priority, then name. */
  contacts: Contact[];
  /** Day-care facilities the home is enrolled at (their ids). */
  facilities: string[];
}

/** Where the data on the sheet comes from: the live store now, or a backup taken at `at`. */
export type SheetSource = { kind: 'live'; at: number } | { kind: 'backup'; at: number; id: string };

export interface ContactSheetInput {
  homes: ContactSheetHome[];
  source: SheetSource;
  /** The hub the data belongs to (its host name). */
  hubId: string;
  /** Time zone the dates print in (default the first home's). */
  timezone?: string;
  /** A TTF with Japanese glyphs; without one, only Latin text renders. */
  fontPath?: string;
}

/** Both languages side by side on every label (catalogue keys `sheet_…`): paper is read by whoever is there. */
const both = (key: MessageKey): string => `${messages[key].ja} / ${messages[key].en}`;
export const sheetLabels = {
  title: both('sheet_title'), hub: both('sheet_hub'), fromBackup: both('sheet_fromBackup'), printedAt: both('sheet_printedAt'),
  residents: both('sheet_residents'), address: both('sheet_address'), entry: both('sheet_entry'), facility: both('sheet_facility'),
  contacts: both('sheet_contacts'), none: both('sheet_none'),
  role: { resident: both('sheet_role_resident'), family: both('sheet_role_family'), caregiver: both('sheet_role_caregiver'), emergency: both('sheet_role_emergency') } as Record<Contact['role'], string>,
} as const;

/** The homes' sheet data, in id order; `homeIds` limits it to those homes (unknown ids are skipped). */
export async function collectContactSheet(store: Store, homeIds?: string[]): Promise<ContactSheetHome[]> {
  const homes = (await store.listHomes()).filter((h) => homeIds === undefined || homeIds.includes(h.id));
  // Facilities are known by their staff's links; a home is theirs when it is enrolled there.
  const facilityIds = new Set<string>();
  for (const a of await store.listAccounts()) {
    for (const l of await store.listLinks(a.id)) if (l.kind === 'facility') facilityIds.add(l.targetId);
  }
  const enrolled = new Map<string, string[]>();
  for (const f of [...facilityIds].sort()) {
    for (const h of await store.listEnrolledHomes(f)) enrolled.set(h, [...(enrolled.get(h) ?? []), f]);
  }
  const out: ContactSheetHome[] = [];
  for (const home of homes) {
    const contacts = [...await store.listContacts(home.id)].sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    out.push({ home, residents: await store.listResidents(home.id), contacts, facilities: enrolled.get(home.id) ?? [] });
  }
  return out;
}

/** "2026-12-01 18:00 (Asia/Tokyo)". */
export function sheetWhen(at: number, timezone: string): string {
  return `${toLocalIso(at, timezone).replace('T', ' ').slice(0, 16)} (${timezone})`;
}

/** The line that says where the data comes from. */
export function sourceLine(source: SheetSource, timezone: string, t?: Translator): string {
  const key = source.kind === 'backup' ? 'sheet_fromBackup' : 'sheet_printedAt';
  return `${t ? t(key) : both(key)}: ${sheetWhen(source.at, timezone)}`;
}

/** Renders the list, one page per home; resolves with the PDF bytes. */
export function renderContactSheet(input: ContactSheetInput): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 48, autoFirstPage: false, info: { Title: sheetLabels.title } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    const tz = input.timezone ?? input.homes[0]?.home.timezone ?? 'Asia/Tokyo';
    const header = () => {
      doc.addPage();
      if (input.fontPath) doc.font(input.fontPath);
      doc.fontSize(20).fillColor('#000').text(sheetLabels.title);
      doc.fontSize(10).fillColor('#333').text(`${sheetLabels.hub}: ${input.hubId}    ${sourceLine(input.source, tz)}`).fillColor('#000');
      doc.moveDown(0.6);
    };
    if (input.homes.length === 0) { header(); doc.fontSize(14).text(sheetLabels.none); }
    for (const h of input.homes) {
      header();
      const field = (label: string, value: string) => {
        doc.fontSize(9).fillColor('#555').text(label).fillColor('#000');
        doc.fontSize(13).text(value || sheetLabels.none, { lineGap: 2 });
        doc.moveDown(0.3);
      };
      doc.fontSize(16).text(`${h.home.name} (${h.home.id})`);
      doc.moveDown(0.3);
      field(sheetLabels.residents, h.residents.map((r) => (r.birthYear ? `${r.name} (${r.birthYear})` : r.name)).join('、'));
      field(sheetLabels.address, h.home.address ?? '');
      field(sheetLabels.entry, h.home.entryNotes ?? '');
      field(sheetLabels.facility, h.facilities.join('、'));
      doc.moveDown(0.3).fontSize(12).text(sheetLabels.contacts);
      doc.moveDown(0.2);
      if (h.contacts.length === 0) doc.fontSize(12).text(sheetLabels.none);
      h.contacts.forEach((c, i) => {
        // One line per contact, so the order on paper is the calling order.
        doc.fontSize(13).text(`${i + 1}. ${c.name} — ${sheetLabels.role[c.role] ?? c.role} — ${c.phone ?? '-'}${c.email ? ` — ${c.email}` : ''}`, { lineGap: 3 });
      });
    }
    doc.end();
  });
}
