/** Caregivers: the alert queue of assigned residents with on my way / arrived, and the residents. */
import type { Alert } from '../core/store.js';
import { tOf, viewerOf, type RouteModule } from './context.js';
import { html, type Html } from './html.js';
import { alertCard, isFamilyAlert, sendPage } from './views.js';

export const caregiverRoutes: RouteModule = (app, ctx) => {
  app.get('/caregiver', { config: { access: { roles: ['caregiver'], log: 'caregiver alert queue' } } }, async (req, reply) => {
    const t = tOf(req);
    const homes = await ctx.access.visibleHomes(viewerOf(req).account);
    const queue: Array<{ alert: Alert; tz: string }> = [];
    const assigned: Html[] = [];
    for (const rel of homes) {
      const home = await ctx.store.getHome(rel.homeId);
      if (!home) continue;
      req.accessed.add(home.id);
      const residents = await ctx.store.listResidents(home.id);
      assigned.push(html`<li><a href="/homes/${home.id}">${residents.map((r) => r.name).join('、') || home.name}</a></li>`);
      for (const a of await ctx.store.listAlerts({ homeId: home.id, unresolved: true })) if (isFamilyAlert(a)) queue.push({ alert: a, tz: home.timezone });
    }
    // Most urgent first, then oldest first.
    queue.sort((x, y) => (x.alert.severity === y.alert.severity ? x.alert.openedAt - y.alert.openedAt : x.alert.severity === 'critical' ? -1 : 1));
    const cards: Html[] = [];
    for (const q of queue) cards.push(await alertCard(req, ctx.store, q.alert, q.tz, ['acknowledge', 'on-my-way', 'arrived', 'resolve']));
    // The page is the queue (its title, h1); its sections say what they hold.
    const body = html`<section aria-labelledby="queue-h"><h2 id="queue-h">${t('openAlerts')}</h2><div id="alerts" data-live-region>${cards.length ? cards : html`<p class="muted">${t('noAlerts')}</p>`}</div></section>
<section aria-labelledby="assigned-h"><h2 id="assigned-h">${t('assigned')}</h2><ul>${assigned}</ul></section>`;
    return sendPage(req, reply, t('queue'), body, { live: true });
  });
};
