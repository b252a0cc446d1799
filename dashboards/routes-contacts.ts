/**
 * The emergency contact list for operators (issue 15): per home and for every
 * home, as a page and as a printable PDF (contact-sheet.ts). Served by the hub
 * and by the read-only reference hub (backup/reference.ts), where the PDF says
 * which backup it comes from. Every view is access-logged per home.
 */
import { hostname } from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MimamoriError } from '../core/errors.js';
import { phoneForDisplay } from '../core/phone.js';
import { collectContactSheet, renderContactSheet, sourceLine, type ContactSheetHome, type SheetSource } from './contact-sheet.js';
import { langOf, scopeOf, tOf, type RouteModule } from './context.js';
import { label } from './i18n.js';
import { html, type Html } from './html.js';
import { sendPage } from './views.js';

export const contactRoutes: RouteModule = (app, ctx) => {
  const access = (log: string) => ({ roles: ['operator'] as const, log });
  const source = (): SheetSource => (ctx.reference ? { kind: 'backup', at: ctx.reference.backupAt, id: ctx.reference.backupId } : { kind: 'live', at: ctx.clock.now() });
  const hubId = () => ctx.reference?.hub ?? hostname();

  async function sheet(req: FastifyRequest, homeId?: string): Promise<ContactSheetHome[]> {
    const homes = await collectContactSheet(ctx.store, homeId === undefined ? undefined : [homeId]);
    if (homeId !== undefined && homes.length === 0) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    for (const h of homes) req.accessed.add(h.home.id);
    return homes;
  }

  function contactPage(req: FastifyRequest, reply: FastifyReply, homes: ContactSheetHome[], pdfPath: string) {
    const t = tOf(req);
    const tz = homes[0]?.home.timezone ?? 'Asia/Tokyo';
    const sections: Html[] = homes.map((h) => html`<section class="card" aria-labelledby="ec-${h.home.id}"><h2 id="ec-${h.home.id}">${h.home.name} (${h.home.id})</h2>
<dl><dt>${t('sheet_residents')}</dt><dd>${h.residents.map((r) => r.name).join('、') || t('sheet_none')}</dd>
<dt>${t('sheet_address')}</dt><dd>${h.home.address ?? t('sheet_none')}</dd>
<dt>${t('sheet_entry')}</dt><dd class="entry-notes">${h.home.entryNotes ?? t('sheet_none')}</dd>
<dt>${t('sheet_facility')}</dt><dd>${h.facilities.join('、') || t('sheet_none')}</dd></dl>
<table class="contacts"><tr><th>${t('order')}</th><th>${t('name')}</th><th>${t('role')}</th><th>${t('phone')}</th></tr>
${h.contacts.map((c, i) => html`<tr><td>${i + 1}</td><td>${c.name}</td><td>${label(t, 'sheet_role', c.role)}</td><td><a href="tel:${c.phone ?? ''}">${c.phone === undefined ? '-' : phoneForDisplay(c.phone, langOf(req))}</a></td></tr>`)}</table>
<p><a href="/operator/homes/${h.home.id}/contacts.pdf">${t('contactListPdf')} (${h.home.id})</a></p></section>`);
    const body = html`<p class="muted">${t('sheet_hub')}: ${hubId()} · ${sourceLine(source(), tz, t)}</p><p><a href="${pdfPath}">${t('contactListPdf')}</a></p>${sections}`;
    return sendPage(req, reply, t('emergencyContacts'), body);
  }

  async function pdf(reply: FastifyReply, homes: ContactSheetHome[], name: string) {
    const bytes = await renderContactSheet({ homes, source: source(), hubId: hubId(), ...(ctx.fontPath ? { fontPath: ctx.fontPath } : {}) });
    return reply.type('application/pdf').header('cache-control', 'no-store').header('content-disposition', `inline; filename="${name}"`).send(bytes);
  }

  app.get('/operator/contacts', { config: { access: access('emergency contact list') } }, async (req, reply) => contactPage(req, reply, await sheet(req), '/operator/contacts.pdf'));
  app.get('/operator/contacts.pdf', { config: { access: access('emergency contact list (PDF)') } }, async (req, reply) => pdf(reply, await sheet(req), 'contacts.pdf'));
  app.get('/operator/homes/:home/contacts', { config: { access: access('emergency contact list') } }, async (req, reply) => {
    const homeId = scopeOf(req).homeId;
    return contactPage(req, reply, await sheet(req, homeId), `/operator/homes/${homeId}/contacts.pdf`);
  });
  app.get('/operator/homes/:home/contacts.pdf', { config: { access: access('emergency contact list (PDF)') } }, async (req, reply) => {
    const homeId = scopeOf(req).homeId;
    return pdf(reply, await sheet(req, homeId), `contacts-${homeId}.pdf`);
  });
};
