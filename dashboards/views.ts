/** Pieces several pages share: times in the home's zone, alert cards, the page sender. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Alert, Language, Store, WebAccount } from '../core/store.js';
import type { Finding, Localized } from '../core/findings.js';
import { toLocalIso } from '../core/time.js';
import { langOf, tOf, viewerOf } from './context.js';
import { html, page, type Html } from './html.js';
import { messages, type MessageKey, type Translator } from './i18n.js';
import { timelineLine, timelineNames, timelineOf } from './alert-timeline.js';

/** A list's paging links: back to the page before, on to the next when there is one (`link` gives a page's address). */
export function pagingNav(t: Translator, id: string, pageNo: number, hasNext: boolean, link: (page: number) => string): Html {
  return html`<nav aria-label="${t('fleetPaging')}" id="${id}">${pageNo > 1 ? html`<a href="${link(pageNo - 1)}" rel="prev">${t('fleetPrev')}</a> ` : ''}${hasNext ? html`<a href="${link(pageNo + 1)}" rel="next">${t('fleetNext')}</a>` : ''}</nav>`;
}

/** "2026-11-21 07:12" in the home's time zone. */
export function localWhen(at: number | undefined, timezone: string): string {
  return at === undefined ? '' : toLocalIso(at, timezone).replace('T', ' ').slice(0, 16);
}

/** The alert's text in the viewer's language, from the finding it was opened for. */
export function alertText(a: Alert, lang: 'ja' | 'en'): string {
  const m = (a.finding as Partial<Finding> | undefined)?.message as Localized | undefined;
  return m && typeof m[lang] === 'string' ? m[lang] : a.message;
}

/** Device-health alerts are for the operator, never for the family (DESIGN.md). */
export function isFamilyAlert(a: Alert): boolean {
  return (a.finding as Partial<Finding> | undefined)?.audience !== 'operator';
}

export type AlertAction = 'acknowledge' | 'on-my-way' | 'arrived' | 'resolve';
const actionLabel: Record<AlertAction, MessageKey> = { acknowledge: 'acknowledge', 'on-my-way': 'onMyWay', arrived: 'arrived', resolve: 'resolve' };
/** What a person did with an alert, in words (`done_acknowledge` …); an unknown action shows as it is. */
function doneLabel(t: Translator, action: string): string {
  const key = `done_${action}`;
  return key in messages ? t(key as MessageKey) : action;
}

/**
 * One vocabulary for an alert's state, used by its card and by the home's
 * status box: the alert's own status, refined by the latest response (a
 * family member "on my way" is more than "acknowledged").
 */
export type AlertState = 'open' | 'acknowledged' | 'on-my-way' | 'arrived' | 'resolved';
/** An alert state in words (catalogue keys `alertState_…`). */
export function alertStateLabel(state: AlertState, lang: Language): string {
  return messages[`alertState_${state}`][lang];
}

/** The state of an alert from its status and the responses recorded in the web app (oldest first). */
export function alertState(a: Pick<Alert, 'status'>, responses: ReadonlyArray<{ action: string }>): AlertState {
  if (a.status === 'resolved' || responses.some((r) => r.action === 'resolve')) return 'resolved';
  const latest = [...responses].reverse().find((r) => r.action === 'arrived' || r.action === 'on-my-way' || r.action === 'acknowledge');
  if (latest?.action === 'arrived' || latest?.action === 'on-my-way') return latest.action;
  return a.status === 'acknowledged' || latest ? 'acknowledged' : 'open';
}

/**
 * When an alert happened, shown once: the time of the finding (what happened,
 * e.g. the button press) rather than when the alert was filed; when the
 * message already says the time ("06:30 に…"), only the date is added.
 */
export function alertWhen(a: Alert, message: string, timezone: string): string {
  const at = (a.finding as Partial<Finding> | undefined)?.at;
  const when = localWhen(typeof at === 'number' ? at : a.openedAt, timezone);
  const [date, time] = when.split(' ');
  return time && message.includes(time) ? date ?? when : when;
}

/** The ways of answering outside the web app that a card names (catalogue keys `via_…`). */
const viaKeys: Partial<Record<string, MessageKey>> = { sms: 'via_sms', voice: 'via_voice', 'web-link': 'via_web-link', tablet: 'via_tablet', door: 'via_door' };

/**
 * Who answered outside the web app (an SMS reply, a keypress, an e-mail link):
 * the notifier's record of the alert names a contact and the way they answered.
 */
async function answeredElsewhere(store: Store, a: Alert, timezone: string, t: Translator): Promise<Html[]> {
  const life = await store.getAlertLifecycle(a.id);
  if (!life) return [];
  const contacts = new Map((await store.listContacts(a.homeId)).map((c) => [c.id, c.name]));
  const out: Html[] = [];
  const add = (who: string | undefined, via: string | undefined, action: string, at: number | undefined) => {
    const viaKey = via === undefined ? undefined : viaKeys[via];
    if (!who || !viaKey || !contacts.has(who)) return; // web answers are listed from the web app's own record
    out.push(html`<li>${contacts.get(who) ?? '?'} — ${doneLabel(t, action)} ${t(viaKey)}${at === undefined ? '' : html` (${localWhen(at, timezone)})`}</li>`);
  };
  add(life.acknowledgedBy, life.acknowledgedVia, 'acknowledge', life.acknowledgedAt);
  add(life.resolvedBy, life.resolvedVia, 'resolve', undefined);
  return out;
}

/** One alert with who is handling it and the viewer's buttons. */
export async function alertCard(req: FastifyRequest, store: Store, a: Alert, timezone: string, actions: AlertAction[]): Promise<Html> {
  const t = tOf(req);
  const lang = langOf(req);
  const { session } = viewerOf(req);
  const responses = await store.listAlertResponses(a.id);
  const names = new Map<string, WebAccount | undefined>();
  for (const r of responses) if (!names.has(r.accountId)) names.set(r.accountId, await store.getAccount(r.accountId));
  const handlers = [
    ...await answeredElsewhere(store, a, timezone, t),
    ...responses.map((r) => html`<li>${names.get(r.accountId)?.name ?? '?'} — ${doneLabel(t, r.action)} (${localWhen(r.at, timezone)})</li>`),
  ];
  const state = alertState(a, responses);
  const text = alertText(a, lang);
  // The full timeline, as the monthly report prints it: open it without any script.
  const steps = await timelineOf(store, a, await timelineNames(store, a.homeId));
  return html`<div class="card" data-alert="${a.id}" data-status="${a.status}" data-state="${state}"><p><strong class="${a.severity === 'critical' ? 'alert' : 'noticed'}">${text}</strong> — ${alertWhen(a, text, timezone)} · <span class="alert-state">${alertStateLabel(state, lang)}</span></p>
<p>${t('handledBy')}:</p>${handlers.length ? html`<ul class="handled-by">${handlers}</ul>` : html`<p class="handled-by muted">${t('nobodyYet')}</p>`}
<details class="alert-timeline"><summary>${t('alertTimeline')}</summary><ol>${steps.map((s) => html`<li data-step="${s.kind}">${timelineLine(s, lang, (at) => localWhen(at, timezone))}</li>`)}</ol></details>
${a.status === 'resolved' ? '' : actions.map((act) => html`<form class="inline" method="post" action="/alerts/${a.id}/${act}"><input type="hidden" name="_csrf" value="${session.csrf}"><button data-action="${act}">${t(actionLabel[act])}</button></form> `)}</div>`;
}

/** Sends a full page for the signed-in viewer; `live` turns on server-sent updates of the page's live regions. */
export function sendPage(req: FastifyRequest, reply: FastifyReply, title: string, body: Html, o: { live?: boolean; charts?: boolean; kiosk?: boolean; video?: boolean } = {}) {
  const { account, session } = viewerOf(req);
  const notice = (req.query as { notice?: string } | undefined)?.notice;
  const full = notice ? html`<p class="notice" role="status">${notice}</p>${body}` : body;
  const out = page({
    lang: account.language, title, body: full, signedIn: { name: account.name, csrf: session.csrf }, kiosk: o.kiosk ?? false, live: o.live ?? false,
    scripts: o.charts ? ['/static/chart.js'] : [], modules: ['/static/app.js', ...(o.video ? ['/static/video.js'] : [])],
  });
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(out);
}
