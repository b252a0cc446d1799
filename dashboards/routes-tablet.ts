/**
 * The resident's tablet: a kiosk page with two big buttons ("I'm OK",
 * "Help" — real button events through the hub), 「出かけます」 (she tells the
 * hub she is going out and for how long: an entered absence, `setAway`, so her
 * outing raises no "nothing moves" alarm; her coming home through the front
 * door or pressing "I'm OK" ends it) and today's news with photos.
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { formatClockTime, localTime, monthDayClock } from '../core/time.js';
import { outingHoursOffered } from '../rules/index.js';
import { formOf, parseInput, publishLocal, tOf, viewerOf, type RouteModule } from './context.js';
import { html } from './html.js';
import { newsList } from './routes-family.js';
import { sendPage } from './views.js';
import { tabletVideoSection } from './routes-video.js'; // video check-ins (issue 5)

const buttonForm = z.object({ press: z.enum(['help', 'ok']) });
const outForm = z.object({ hours: z.enum(outingHoursOffered.map(String) as [string, ...string[]]) });

export const tabletRoutes: RouteModule = (app, ctx) => {
  async function ownHome(accountId: string) {
    const account = await ctx.store.getAccount(accountId);
    const rel = account && (await ctx.access.visibleHomes(account)).find((r) => r.kind === 'resident');
    if (!rel) throw new MimamoriError('MIMAMORI_ERR_FORBIDDEN', 'no home linked to this tablet');
    return rel.homeId;
  }

  app.get('/tablet', { config: { access: { roles: ['resident'] } } }, async (req, reply) => {
    const t = tOf(req);
    const { account, session } = viewerOf(req);
    const homeId = await ownHome(account.id);
    const home = await ctx.store.getHome(homeId);
    const tz = home?.timezone ?? 'Asia/Tokyo';
    const now = ctx.clock.now();
    const l = localTime(now, tz);
    const sent = (req.query as { sent?: string }).sent;
    const midnight = now - (l.minuteOfDay * 60_000 + l.second * 1000);
    const until = Number((req.query as { until?: string }).until);
    const outText = sent === 'out' && Number.isFinite(until) ? t('outSent', { time: formatClockTime(localTime(until, tz).minuteOfDay) }) : undefined;
    const body = html`${sent === 'help' ? html`<p class="status alert" role="status">${t('helpSent')}</p>` : sent === 'ok' ? html`<p class="status fine" role="status">${t('okSent')}</p>` : outText !== undefined ? html`<p class="status fine" role="status">${outText}</p>` : ''}
<form method="post" action="/tablet/button"><input type="hidden" name="_csrf" value="${session.csrf}">
<button class="ok" name="press" value="ok" id="ok-button">${t('imOk')}</button><button class="help" name="press" value="help" id="help-button">${t('help')}</button></form>
<form method="post" action="/tablet/out" class="going-out"><input type="hidden" name="_csrf" value="${session.csrf}">
<label for="out-hours">${t('backWithin')}</label> <select id="out-hours" name="hours">${outingHoursOffered.map((n) => html`<option value="${String(n)}"${n === 3 ? html` selected` : ''}>${t('hoursN', { n })}</option>`)}</select>
<button class="secondary" id="out-button">${t('goingOut')}</button></form>
${await tabletVideoSection(ctx, homeId, account.language, tz)}
<section aria-labelledby="news-h" class="news-panel"><h2 id="news-h">${t('news')}</h2><div id="news" data-live-region>${await newsList(req, ctx, homeId, tz, true, midnight - 6 * 24 * 3600_000)}</div></section>`;
    return sendPage(req, reply, monthDayClock(now, tz), body, { live: true, kiosk: true, video: true });
  });

  // She is going out: an entered absence until she expects to be back. Coming home through the
  // front door or pressing "I'm OK" ends it early (rules/rules/no-sign-of-life.ts, endsAbsence).
  app.post('/tablet/out', { config: { access: { roles: ['resident'] } } }, async (req, reply) => {
    const { hours } = parseInput(outForm, formOf(req));
    const homeId = await ownHome(viewerOf(req).account.id);
    const until = ctx.clock.now() + Number(hours) * 3_600_000;
    ctx.engine.setAway(homeId, until);
    // Open family pages show it (routes-family.ts: "Out: expected back by about …").
    publishLocal(ctx, { type: 'outing', homeId });
    ctx.logger.info({ home: homeId, until }, 'tablet: going out');
    return reply.redirect(`/tablet?sent=out&until=${until}`, 303);
  });

  app.post('/tablet/button', { config: { access: { roles: ['resident'] } } }, async (req, reply) => {
    const { press } = parseInput(buttonForm, formOf(req));
    const homeId = await ownHome(viewerOf(req).account.id);
    await ctx.publishButton(homeId, press);
    ctx.logger.info({ home: homeId, press }, 'tablet button');
    return reply.redirect(`/tablet?sent=${press}`, 303);
  });
};
