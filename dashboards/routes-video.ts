/**
 * Video check-in pages: per home, the schedule (caregivers; family when the
 * resident allows), calls (caregivers start them, family with detailed
 * consent may join), emergency look-in (only with the resident's consent, for
 * a critical unacknowledged alert), after-call notes (family see them in full
 * only with detailed consent) and the resident's or guardian's settings (who
 * is trusted to be auto-answered, who may schedule, who may look in).
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import type { Language, Store, VideoNote, WebAccount } from '../core/store.js';
import { offsetMinutes } from '../core/time.js';
import type { Relation } from './access.js';
import { backTo, formOf, langOf, parseInput, scopeOf, viewerOf, type WebContext } from './context.js';
import { html, type Html } from './html.js';
import type { FastifyInstance } from 'fastify';
import type { Checkins } from './checkins.js';
import type { VideoCalls } from './video-calls.js';
import { scriptText, videoText } from './video-messages.js';
import { localWhen, sendPage } from './views.js';

/** "2026-11-21T10:30" read as wall-clock time in `timezone`, as epoch ms. */
export function localToEpoch(value: string, timezone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'due: expected YYYY-MM-DDTHH:MM');
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  // The offset at the guess, then once more at the corrected instant (daylight-saving edges).
  let at = asUtc - offsetMinutes(asUtc, timezone) * 60_000;
  at = asUtc - offsetMinutes(at, timezone) * 60_000;
  return at;
}

/** Whether this viewer sees a note's mood, eating and follow-up (otherwise only that a check-in happened). */
export function seesNoteDetail(rel: Relation): boolean {
  return rel.kind !== 'family' || rel.level === 'detailed';
}

async function canSchedule(store: Store, rel: Relation, accountId: string): Promise<boolean> {
  if (rel.kind === 'caregiver') return true;
  if (rel.kind === 'family' || rel.kind === 'guardian') return (await store.getVideoPermission(rel.homeId, accountId))?.maySchedule === true;
  return false;
}

/** Caregivers linked to a home (who may be asked to call). */
async function caregiversOf(store: Store, homeId: string): Promise<WebAccount[]> {
  const out: WebAccount[] = [];
  for (const l of await store.listLinked('home', homeId)) {
    const a = await store.getAccount(l.accountId);
    if (a?.role === 'caregiver') out.push(a);
  }
  return out;
}

/** The video part of a page: status line, local and remote videos, hang-up, and (tablet) the incoming-call box. */
export function videoPanel(lang: Language, role: 'tablet' | 'caller'): Html {
  const v = videoText(lang);
  const incoming = role === 'tablet'
    ? html`<div id="incoming" role="alertdialog" aria-labelledby="incoming-title" hidden><p id="incoming-title" class="call-alert">${v('incoming')}: <strong id="incoming-from"></strong></p>
<p><span id="incoming-countdown" class="countdown" aria-live="assertive"></span> <span>${v('autoAnswerIn')}</span></p>
<button id="not-now-button" class="help not-now">${v('notNow')}</button> <button id="answer-button" class="ok" hidden>${v('answer')}</button></div>`
    : html``;
  return html`<section id="video" data-keep="1" data-role="${role}" data-text="${scriptText(lang)}" aria-label="${v('video')}">
<p id="video-status" role="status" aria-live="polite"></p>${incoming}
<div class="videos"><video id="local-video" autoplay playsinline muted></video><div id="remote-videos"></div></div>
<button id="hangup-button" class="secondary" hidden>${v('hangUp')}</button></section>`;
}

/** The tablet's "next video call" line and its video panel (routes-tablet.ts adds these). */
export async function tabletVideoSection(ctx: WebContext, homeId: string, lang: Language, timezone: string): Promise<Html> {
  const v = videoText(lang);
  const now = ctx.wallClock.now();
  const next = (await ctx.store.listCheckins(homeId, now - 3600_000)).find((c) => c.status === 'scheduled');
  return html`<p id="next-checkin" class="card" data-live-region>${v('nextCheckin')}: <strong>${next ? localWhen(next.dueAt, timezone) : v('noCheckins')}</strong></p>${videoPanel(lang, 'tablet')}`;
}

const scheduleForm = z.object({ due: z.string().max(20), caller: z.string().max(64).optional() });
const noteForm = z.object({ mood: z.string().trim().min(1).max(500), eating: z.string().trim().min(1).max(500), followUp: z.string().trim().max(1000).default(''), call: z.string().max(64).optional() });
const settingsForm = z.object({ account: z.string().min(1).max(64), trusted: z.literal('on').optional(), maySchedule: z.literal('on').optional(), lookIn: z.literal('on').optional() });

/** Registers the video routes (the browser's part is dashboards/client/video.ts). */
export function videoRoutes(app: FastifyInstance, ctx: WebContext, video: { checkins: Checkins; calls: VideoCalls }): void {
  const { store } = ctx;

  async function notesList(req: FastifyRequest, rel: Relation, timezone: string): Promise<Html> {
    const v = videoText(langOf(req));
    const notes = await store.listVideoNotes(rel.homeId, 20);
    if (!notes.length) return html`<p class="muted">${v('noNotes')}</p>`;
    const detail = seesNoteDetail(rel);
    const item = (n: VideoNote) => detail
      ? html`<article class="card note"><p class="muted">${localWhen(n.at, timezone)}</p><p>${v('mood')}: ${n.mood}</p><p>${v('eating')}: ${n.eating}</p>${n.followUp ? html`<p><strong>${v('followUp')}</strong>: ${n.followUp}</p>` : ''}</article>`
      : html`<article class="card note"><p class="muted">${localWhen(n.at, timezone)}</p><p>${v('noteSummaryOnly')}</p></article>`;
    return html`${notes.map(item)}`;
  }

  app.get('/homes/:home/video', { config: { access: { roles: ['caregiver', 'family', 'resident'], log: 'video check-ins' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const { account, session } = viewerOf(req);
    const lang = langOf(req);
    const v = videoText(lang);
    const home = await store.getHome(rel.homeId);
    const tz = home?.timezone ?? 'Asia/Tokyo';
    const now = ctx.wallClock.now();
    const checkins = (await store.listCheckins(rel.homeId, now - 7 * 24 * 3600_000)).slice(-30);
    const isCaregiver = rel.kind === 'caregiver';
    const permission = await store.getVideoPermission(rel.homeId, account.id);
    const active = video.calls.activeCall(rel.homeId);
    const mayJoin = active?.state === 'connected' && (isCaregiver || ((rel.kind === 'family' || rel.kind === 'guardian') && rel.level === 'detailed'));
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;

    const rows = checkins.map((c) => html`<tr data-checkin="${c.id}" data-status="${c.status}"><td>${localWhen(c.dueAt, tz)}</td><td>${v(`status_${c.status}`)}</td>
<td>${c.status === 'scheduled' && isCaregiver ? html`<button data-call="${rel.homeId}" data-checkin="${c.id}">${v('callCheckin')}</button> ` : ''}${c.status === 'scheduled' && (isCaregiver || c.createdBy === account.id) ? html`<form class="inline" method="post" action="/checkins/${c.id}/cancel">${csrf}<button class="secondary">${v('cancel')}</button></form>` : ''}</td></tr>`);
    const callers = await caregiversOf(store, rel.homeId);
    const scheduling = (await canSchedule(store, rel, account.id))
      ? html`<form method="post" action="/homes/${rel.homeId}/video/checkins" id="schedule-form">${csrf}<label for="due">${v('dueAt')}</label><input type="datetime-local" id="due" name="due" required>
<label for="caller">${v('caller')}</label><select id="caller" name="caller">${callers.map((c) => html`<option value="${c.id}"${c.id === account.id ? html` selected` : ''}>${c.name}</option>`)}</select> <button>${v('schedule')}</button></form>`
      : html``;
    const alerts = isCaregiver && permission?.lookIn ? (await store.listAlerts({ homeId: rel.homeId, status: 'open' })).filter((a) => a.severity === 'critical') : [];
    const calling = isCaregiver
      ? html`<p><button data-call="${rel.homeId}" id="call-button">${v('callNow')}</button> ${alerts.map((a) => html`<button class="help" data-call="${rel.homeId}" data-look-in="${a.id}">${v('lookIn')}</button> `)}</p>`
      : html``;
    const body = html`<div id="call-live" data-live-region>${active ? html`<p class="status noticed" id="active-call" data-call-id="${active.id}">${v('inCall')}${mayJoin ? html` <button data-join="${active.id}" id="join-button">${v('join')}</button>` : ''}</p>` : ''}</div>
${calling}${rel.kind !== 'resident' ? videoPanel(lang, 'caller') : ''}
<section aria-labelledby="checkins-h"><h2 id="checkins-h">${v('checkins')}</h2><div id="checkins-live" data-live-region>${checkins.length ? html`<table id="checkins"><tbody>${rows}</tbody></table>` : html`<p class="muted">${v('noCheckins')}</p>`}</div>${scheduling}</section>
<section aria-labelledby="notes-h"><h2 id="notes-h">${v('notes')}</h2>
${isCaregiver ? html`<form method="post" action="/homes/${rel.homeId}/video/notes" id="note-form">${csrf}<input type="hidden" name="call" id="note-call" value="">
<label for="mood">${v('mood')}</label><input id="mood" name="mood" maxlength="500" required><label for="eating">${v('eating')}</label><input id="eating" name="eating" maxlength="500" required>
<label for="followUp">${v('followUp')}</label><textarea id="followUp" name="followUp" maxlength="1000"></textarea> <button>${v('saveNote')}</button></form>` : ''}
<div id="notes" data-live-region>${await notesList(req, rel, tz)}</div></section>
${rel.kind === 'resident' || rel.kind === 'guardian' ? html`<p><a href="/homes/${rel.homeId}/video/settings">${v('settings')}</a></p>` : ''}`;
    return sendPage(req, reply, v('video'), body, { live: true, video: true });
  });

  app.post('/homes/:home/video/checkins', { config: { access: { roles: ['caregiver', 'family'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const { account } = viewerOf(req);
    if (!(await canSchedule(store, rel, account.id))) throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN', 'scheduling needs the resident\'s permission');
    const form = parseInput(scheduleForm, formOf(req));
    const home = await store.getHome(rel.homeId);
    const dueAt = localToEpoch(form.due, home?.timezone ?? 'Asia/Tokyo');
    if (dueAt < ctx.wallClock.now() - 60_000) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'due: in the past');
    const callerId = form.caller ?? (account.role === 'caregiver' ? account.id : '');
    if (!(await caregiversOf(store, rel.homeId)).some((c) => c.id === callerId)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'caller: not a caregiver of this home');
    await video.checkins.schedule({ homeId: rel.homeId, dueAt, callerId, createdBy: account.id });
    await store.audit({ at: ctx.clock.now(), actor: account.id, action: 'video.checkin.schedule', subject: rel.homeId });
    return backTo(req, reply, `/homes/${rel.homeId}/video`, videoText(langOf(req))('schedule'));
  });

  app.post('/checkins/:checkin/cancel', { config: { access: { roles: ['caregiver', 'family'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const { account } = viewerOf(req);
    const c = await store.getCheckin((req.params as { checkin: string }).checkin);
    if (!c) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    if (rel.kind !== 'caregiver' && c.createdBy !== account.id) throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN');
    // Audited only when this request cancelled it: a call that connected, or the deadline, may have settled it first.
    if (!(await video.checkins.cancel(c.id))) return backTo(req, reply, `/homes/${c.homeId}/video`, videoText(langOf(req))('notCancelled'));
    await store.audit({ at: ctx.clock.now(), actor: account.id, action: 'video.checkin.cancel', subject: c.id });
    return backTo(req, reply, `/homes/${c.homeId}/video`);
  });

  app.post('/homes/:home/video/notes', { config: { access: { roles: ['caregiver'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    if (rel.kind !== 'caregiver') throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN');
    const form = parseInput(noteForm, formOf(req));
    const note: Omit<VideoNote, 'id'> = { homeId: rel.homeId, authorId: viewerOf(req).account.id, mood: form.mood, eating: form.eating, followUp: form.followUp, at: ctx.clock.now() };
    if (form.call) {
      const call = await store.getCall(form.call);
      if (!call || call.homeId !== rel.homeId) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'call: not a call of this home');
      note.callId = call.id;
    }
    await store.addVideoNote(note);
    ctx.local.publish({ type: 'video.note', homeId: rel.homeId, at: note.at });
    return backTo(req, reply, `/homes/${rel.homeId}/video`, videoText(langOf(req))('saveNote'));
  });

  app.get('/homes/:home/video/settings', { config: { access: { roles: ['resident', 'family'], need: 'consent-admin' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const v = videoText(langOf(req));
    const { session } = viewerOf(req);
    const rows: Html[] = [];
    for (const link of await store.listLinked('home', rel.homeId)) {
      const a = await store.getAccount(link.accountId);
      if (!a || a.role === 'resident') continue;
      const p = await store.getVideoPermission(rel.homeId, a.id);
      const box = (name: string, on: boolean | undefined, label: string) => html`<label class="inline"><input type="checkbox" name="${name}"${on ? html` checked` : ''}> ${label}</label> `;
      rows.push(html`<tr data-account="${a.id}"><td>${a.name}</td><td><form method="post" action="/homes/${rel.homeId}/video/settings"><input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="account" value="${a.id}">
${box('trusted', p?.trusted, v('trusted'))}${box('maySchedule', p?.maySchedule, v('maySchedule'))}${a.role === 'caregiver' ? box('lookIn', p?.lookIn, v('mayLookIn')) : ''}<button>${v('save')}</button></form></td></tr>`);
    }
    return sendPage(req, reply, v('settings'), html`<table id="video-settings"><tbody>${rows}</tbody></table>`);
  });

  app.post('/homes/:home/video/settings', { config: { access: { roles: ['resident', 'family'], need: 'consent-admin' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const form = parseInput(settingsForm, formOf(req));
    const linked = (await store.listLinked('home', rel.homeId)).some((l) => l.accountId === form.account);
    const target = await store.getAccount(form.account);
    if (!linked || !target || target.role === 'resident') throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'account: not linked to this home');
    const actor = viewerOf(req).account.id;
    const at = ctx.clock.now();
    await store.setVideoPermission({ homeId: rel.homeId, accountId: target.id, trusted: form.trusted === 'on', maySchedule: form.maySchedule === 'on', lookIn: target.role === 'caregiver' && form.lookIn === 'on', updatedAt: at, updatedBy: actor });
    await store.audit({ at, actor, action: 'video.permission', subject: rel.homeId, detail: { account: target.id, trusted: form.trusted === 'on', maySchedule: form.maySchedule === 'on', lookIn: form.lookIn === 'on' } });
    return backTo(req, reply, `/homes/${rel.homeId}/video/settings`, videoText(langOf(req))('save'));
  });
}

