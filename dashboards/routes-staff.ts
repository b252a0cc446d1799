/**
 * Day-care staff: residents of the facility, attendance (present tells the
 * rules she is away from home until she is back), news with photos, answers
 * to family questions, and the weekly news sheet as PDF.
 */
import { readFile, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { localTime, offsetMinutes, parseClockTime } from '../core/time.js';
import { formOf, langOf, parseInput, publishLocal, scopeOf, tOf, viewerOf, backTo, type RouteModule } from './context.js';
import { html, type Html } from './html.js';
import { renderNewsSheet, type SheetPhoto } from './news-sheet.js';
import type { ProcessedPhoto } from './photos.js';
import { sendPage } from './views.js';

const attendanceForm = z.object({ status: z.enum(['present', 'absent']), back: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/).default('17:00') });
const newsForm = z.object({ body: z.string().trim().min(1).max(4000) });
const answerForm = z.object({ answer: z.string().trim().min(1).max(4000) });

/** Epoch ms of `hhmm` today in `timezone`. */
function todayAt(now: number, timezone: string, hhmm: string): number {
  const l = localTime(now, timezone);
  const midnightUtc = Date.UTC(l.year, l.month - 1, l.day) - offsetMinutes(now, timezone) * 60_000;
  return midnightUtc + parseClockTime(hhmm) * 60_000;
}

export const staffRoutes: RouteModule = (app, ctx) => {
  app.get('/staff', { config: { access: { roles: ['staff'], log: 'day-care residents list' } } }, async (req, reply) => {
    const t = tOf(req);
    const { account, session } = viewerOf(req);
    const homes = await ctx.access.visibleHomes(account);
    const now = ctx.clock.now();
    const sections: Html[] = [];
    for (const rel of homes) {
      const home = await ctx.store.getHome(rel.homeId);
      if (!home) continue;
      req.accessed.add(home.id);
      const residents = await ctx.store.listResidents(home.id);
      const today = localTime(now, home.timezone).date;
      const att = (await ctx.store.listAttendance(home.id, 1))[0];
      const attText = att && att.date === today ? (att.status === 'present' ? t('present') : t('absent')) : t('notMarked');
      const open = (await ctx.store.listQuestions(home.id)).filter((q) => q.answer === undefined);
      const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
      sections.push(html`<section class="card" aria-labelledby="h-${home.id}"><h2 id="h-${home.id}">${residents.map((r) => r.name).join('、') || home.name}</h2>
<p>${t('attendance')}: <strong id="attendance-${home.id}" data-live-region>${attText}</strong></p>
<form class="inline" method="post" action="/homes/${home.id}/attendance">${csrf}<input type="hidden" name="status" value="present"><label for="back-${home.id}">〜</label><input id="back-${home.id}" name="back" value="16:00" size="5"><button>${t('markPresent')}</button></form>
<form class="inline" method="post" action="/homes/${home.id}/attendance">${csrf}<input type="hidden" name="status" value="absent"><button class="secondary">${t('markAbsent')}</button></form>
<h3>${t('postNews')}</h3><form id="news-form-${home.id}" method="post" action="/homes/${home.id}/news" enctype="multipart/form-data">${csrf}
<label for="news-${home.id}">${t('newsText')}</label><textarea id="news-${home.id}" name="body" rows="3" cols="40" required maxlength="4000"></textarea>
<label for="photos-${home.id}">${t('photos')}</label><input id="photos-${home.id}" name="photos" type="file" accept="image/jpeg,image/png,image/webp" multiple>
<p><button>${t('post')}</button></p></form>
<div id="questions-${home.id}" data-live-region>${open.map((q) => html`<div class="card"><p>${t('question')}: ${q.body}</p><form id="answer-form-${q.id}" method="post" action="/questions/${q.id}/answer">${csrf}<label for="a-${q.id}">${t('answer')}</label><textarea id="a-${q.id}" name="answer" rows="2" cols="40" required></textarea><button>${t('send')}</button></form></div>`)}</div>
<p><a href="/homes/${home.id}/news-sheet.pdf">${t('newsSheet')}</a> · <a href="/homes/${home.id}">${home.name}</a></p></section>`);
    }
    return sendPage(req, reply, t('residents'), html`${sections}`, { live: true });
  });

  app.post('/homes/:home/attendance', { config: { access: { roles: ['staff'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const form = parseInput(attendanceForm, formOf(req));
    const home = await ctx.store.getHome(rel.homeId);
    if (!home) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const now = ctx.clock.now();
    const until = form.status === 'present' ? todayAt(now, home.timezone, form.back) : null;
    await ctx.store.setAttendance({ homeId: home.id, date: localTime(now, home.timezone).date, status: form.status, markedBy: viewerOf(req).account.id, at: now });
    // At day-care means away from home: no "no activity" alarm while she is out.
    ctx.engine.setAway(home.id, until !== null && until > now ? until : null);
    publishLocal(ctx, { type: 'attendance', homeId: home.id });
    return backTo(req, reply, '/staff');
  });

  app.post('/homes/:home/news', { config: { access: { roles: ['staff'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const fields = formOf(req);
    const form = parseInput(newsForm, { body: fields.body });
    const files = [fields.photos].flat().filter((f): f is Buffer => Buffer.isBuffer(f) && f.length > 0);
    if (fields.photos !== undefined && [fields.photos].flat().some((f) => !Buffer.isBuffer(f))) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'photos must be files');
    // Every photo is checked and processed before anything is saved: a bad file changes nothing.
    const processed: ProcessedPhoto[] = [];
    for (const f of files) processed.push(await ctx.photos.process(f));
    const now = ctx.clock.now();
    const newsId = newId(now);
    const written: string[] = [];
    try {
      const photoIds: Array<{ id: string; p: ProcessedPhoto }> = [];
      for (const p of processed) {
        const id = newId(now);
        const path = join(ctx.photosDir, `${id}.jpg`);
        await writeFile(path, p.jpeg, { mode: 0o600 });
        written.push(path);
        photoIds.push({ id, p });
      }
      await ctx.store.addNews({ id: newsId, homeId: rel.homeId, authorId: viewerOf(req).account.id, body: form.body, createdAt: now });
      for (const { id, p } of photoIds) await ctx.store.addNewsPhoto({ id, newsId, homeId: rel.homeId, width: p.width, height: p.height });
    } catch (err) {
      for (const w of written) await unlink(w).catch(() => undefined);
      throw err;
    }
    publishLocal(ctx, { type: 'news', homeId: rel.homeId });
    return backTo(req, reply, '/staff', tOf(req)('saved'));
  });

  app.post('/questions/:question/answer', { config: { access: { roles: ['staff'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const id = (req.params as { question: string }).question;
    const form = parseInput(answerForm, formOf(req));
    await ctx.store.answerQuestion(id, form.answer, viewerOf(req).account.id, ctx.clock.now());
    publishLocal(ctx, { type: 'question.answered', homeId: rel.homeId });
    return backTo(req, reply, '/staff');
  });

  app.get('/homes/:home/news-sheet.pdf', { config: { access: { roles: ['staff', 'family', 'resident'], log: 'weekly news sheet' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const home = await ctx.store.getHome(rel.homeId);
    if (!home) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const to = ctx.clock.now();
    const from = to - 7 * 24 * 3600_000;
    const news = await ctx.store.listNews(home.id, from);
    // The photos the reader may see on the page (photo consent), from the stored re-encoded JPEGs.
    const photos = new Map<string, SheetPhoto[]>();
    if (rel.photos) {
      for (const n of news) {
        const list: SheetPhoto[] = [];
        for (const p of await ctx.store.listNewsPhotos(n.id)) {
          const jpeg = await readFile(join(ctx.photosDir, `${p.id}.jpg`)).catch(() => undefined);
          if (jpeg) list.push({ jpeg, width: p.width, height: p.height });
        }
        if (list.length) photos.set(n.id, list);
      }
    }
    const pdf = await renderNewsSheet({
      homeName: home.name, residentNames: (await ctx.store.listResidents(home.id)).map((r) => r.name), timezone: home.timezone,
      language: langOf(req), from, to, news, photos, ...(ctx.fontPath ? { fontPath: ctx.fontPath } : {}),
    });
    return reply.type('application/pdf').header('content-disposition', `inline; filename="news-${home.id}.pdf"`).send(pdf);
  });
};
