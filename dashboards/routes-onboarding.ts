/**
 * Onboarding real devices (issue 16): each home's device bridge reports the
 * devices it hears but nobody mapped (`POST /api/bridge/report`, signed in as
 * the bridge's own device login); the operator sees them on
 * `/operator/onboarding` and maps one — ecosystem, native id, kind, room,
 * role — which registers the device with fresh credentials (as `mimamori
 * provision device --adapter … --native …` does, through the same check) and
 * hands the mapping, with its secret, to the bridge in the answer to its next
 * report. See docs/devices.md and docs/protocol.md "Bridge report".
 *
 * What the bridges said and the mappings waiting for them are kept in memory:
 * a bridge reports again every minute, and a mapping made just before a hub
 * restart is still on the operator's screen, to paste into the device map.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MimamoriError } from '../core/errors.js';
import type { Home } from '../core/store.js';
import { provisionDevice, verifySecret } from '../broker/index.js';
import { checkMapEntry, type MapEntryField } from '../edge/index.js';
import { bridgeReportPath, bridgeReportSchema, type BridgeReport, type DeliveredMapping } from '../edge/index.js';
import { eventKinds } from '../core/events.js';
import { formOf, scopeOf, tOf, viewerOf, type RouteModule, type WebContext } from './context.js';
import { html, type Html } from './html.js';
import { label, type MessageKey } from './i18n.js';
import { localWhen, sendPage } from './views.js';

/** The kind of device login a bridge has (`mimamori provision device --kind bridge`). */
export const bridgeKind = 'bridge';

interface HeardReport extends BridgeReport { at: number; bridge: string }

const fieldMessage: Record<MapEntryField, MessageKey> = {
  adapter: 'errAdapter', native: 'errNative', device: 'errDevice', kind: 'errKind', room: 'errRoom', door: 'errDoor', threshold: 'errThreshold',
};

/** A problem with the operator's form: which message to show (ja/en) and the checker's own words. */
interface FormIssue { key: MessageKey; detail: string }

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/** Who is reporting: the bridge's device login from HTTP Basic, checked like an MQTT login. */
async function bridgeOf(ctx: WebContext, req: FastifyRequest): Promise<{ home: string; device: string }> {
  const header = req.headers.authorization ?? '';
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
  const decoded = m ? Buffer.from(m[1] as string, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const [home, device, extra] = decoded.slice(0, Math.max(0, colon)).split('/');
  const secret = decoded.slice(colon + 1);
  if (colon < 0 || !home || !device || extra !== undefined) throw new MimamoriError('MIMAMORI_ERR_UNAUTHENTICATED', 'a bridge signs in with HTTP Basic {home}/{device}:{secret}');
  const known = await ctx.store.getDevice(home, device);
  const ok = known !== undefined && !known.disabled && known.kind === bridgeKind && await verifySecret(secret, known.secretHash);
  if (!ok) throw new MimamoriError('MIMAMORI_ERR_UNAUTHENTICATED', 'unknown bridge login or wrong secret');
  return { home, device };
}

export const onboardingRoutes: RouteModule = (app, ctx) => {
  const reports = new Map<string, HeardReport>();
  /** Mappings made here that the home's bridge has not listed as forwarded yet, by home and device. */
  const waiting = new Map<string, Map<string, DeliveredMapping>>();

  app.post(bridgeReportPath, { config: { access: { roles: 'public' } } }, async (req) => {
    const { home, device } = await bridgeOf(ctx, req);
    const body = bridgeReportSchema.safeParse(req.body);
    if (!body.success) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `bridge report: ${body.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
    reports.set(home, { ...body.data, at: ctx.clock.now(), bridge: device });
    const mine = waiting.get(home);
    // Handed over again with every answer until the bridge says it forwards the device: a lost answer loses nothing.
    for (const forwarded of body.data.devices) mine?.delete(forwarded);
    return { mappings: [...(mine?.values() ?? [])] };
  });

  async function onboardingPage(req: FastifyRequest, reply: FastifyReply, failed?: { home: string; form: Record<string, string>; issues: FormIssue[] }) {
    const t = tOf(req);
    const { session } = viewerOf(req);
    const sections: Html[] = [];
    for (const home of await ctx.store.listHomes()) {
      req.accessed.add(home.id);
      sections.push(homeSection(req, home, session.csrf, failed?.home === home.id ? failed : undefined));
    }
    const errors = failed
      ? html`<div class="error" role="alert"><p>${t('invalidInput')} — ${t('nothingChanged')}</p><ul id="onboarding-errors">${failed.issues.map((i) => html`<li>${t(i.key)} <span class="muted">(${i.detail})</span></li>`)}</ul></div>`
      : '';
    reply.code(failed ? 400 : 200);
    return sendPage(req, reply, t('onboarding'), html`${errors}<p>${t('onboardingIntro')}</p>${sections}<p><a href="/operator">←</a></p>`);
  }

  function homeSection(req: FastifyRequest, home: Home, csrf: string, failed?: { form: Record<string, string> }): Html {
    const t = tOf(req);
    const report = reports.get(home.id);
    const unmapped = report?.unmapped ?? [];
    const value = (adapter: string, native: string, field: string, fallback = '') =>
      failed && failed.form.adapter === adapter && failed.form.native === native ? failed.form[field] ?? fallback : fallback;
    const rows = unmapped.map((u, i) => {
      const id = `ob-${home.id}-${i}`;
      const kind = value(u.adapter, u.native, 'kind');
      return html`<tr><td>${u.adapter}</td><td><code>${u.native}</code></td><td>${u.messages}</td><td>${localWhen(u.lastSeen, home.timezone)}</td>
<td><form method="post" action="/operator/homes/${home.id}/onboarding" class="onboard"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="adapter" value="${u.adapter}"><input type="hidden" name="native" value="${u.native}">
<label for="${id}-device">${t('id')}</label><input id="${id}-device" name="device" required value="${value(u.adapter, u.native, 'device')}">
<label for="${id}-kind">${t('kind')}</label><select id="${id}-kind" name="kind">${eventKinds.map((k) => html`<option value="${k}"${k === kind ? html` selected` : ''}>${label(t, 'kind', k)}</option>`)}</select>
<label for="${id}-room">${t('room')}</label><input id="${id}-room" name="room" value="${value(u.adapter, u.native, 'room')}">
<label for="${id}-door">${t('doorName')}</label><input id="${id}-door" name="door" value="${value(u.adapter, u.native, 'door')}">
<label for="${id}-on">${t('thresholdOn')}</label><input id="${id}-on" name="thresholdOn" inputmode="decimal" value="${value(u.adapter, u.native, 'thresholdOn')}">
<label for="${id}-off">${t('thresholdOff')}</label><input id="${id}-off" name="thresholdOff" inputmode="decimal" value="${value(u.adapter, u.native, 'thresholdOff')}">
<button>${t('mapDevice')}</button></form></td></tr>`;
    });
    const status = report
      ? html`<p class="bridge-status">${t('bridgeReported', { bridge: report.bridge, when: localWhen(report.at, home.timezone), count: report.devices.length })}</p>`
      : html`<p class="bridge-status muted">${t('noBridgeReport')}</p>`;
    const table = rows.length > 0
      ? html`<table class="unmapped" id="unmapped-${home.id}"><tr><th>${t('ecosystem')}</th><th>${t('nativeId')}</th><th>${t('messagesHeard')}</th><th>${t('lastHeard')}</th><th>${t('mapDevice')}</th></tr>${rows}</table>`
      : html`<p class="muted">${t('noUnmapped')}</p>`;
    return html`<section class="card" aria-labelledby="ob-${home.id}"><h2 id="ob-${home.id}">${home.id} — ${home.name}</h2>${status}${table}</section>`;
  }

  app.get('/operator/onboarding', { config: { access: { roles: ['operator'], log: 'operator onboarding' } } }, async (req, reply) => onboardingPage(req, reply));

  app.post('/operator/homes/:home/onboarding', { config: { access: { roles: ['operator'] } } }, async (req, reply) => {
    const t = tOf(req);
    const homeId = scopeOf(req).homeId;
    const raw = formOf(req);
    const form = Object.fromEntries(['adapter', 'native', 'device', 'kind', 'room', 'door', 'thresholdOn', 'thresholdOff'].map((k) => [k, text(raw[k])]));
    const issues: FormIssue[] = [];
    let threshold: { on: number; off: number } | undefined;
    if (form.thresholdOn !== '' || form.thresholdOff !== '') {
      const on = Number(form.thresholdOn);
      const off = Number(form.thresholdOff);
      if (form.thresholdOn === '' || form.thresholdOff === '' || !Number.isFinite(on) || !Number.isFinite(off)) issues.push({ key: 'errThreshold', detail: 'both levels must be numbers' });
      else threshold = { on, off };
    }
    const checked = checkMapEntry({ adapter: form.adapter ?? '', native: form.native ?? '', device: form.device ?? '', kind: form.kind ?? '', room: form.room, door: form.door, threshold });
    if (!checked.ok) for (const i of checked.issues) issues.push({ key: fieldMessage[i.field], detail: `${i.field}: ${i.message}` });
    if (checked.ok) {
      if (await ctx.store.getDevice(homeId, checked.entry.device)) issues.push({ key: 'errDeviceTaken', detail: `${homeId}/${checked.entry.device}` });
      const mine = [...(waiting.get(homeId)?.values() ?? [])];
      if (mine.some((m) => m.adapter === checked.entry.adapter && m.native === checked.entry.native)) issues.push({ key: 'errNativeTaken', detail: `${checked.entry.adapter} ${checked.entry.native}` });
    }
    if (!checked.ok || issues.length > 0) return onboardingPage(req, reply, { home: homeId, form: form as Record<string, string>, issues });

    const entry = checked.entry;
    const creds = await provisionDevice(ctx.store, { homeId, deviceId: entry.device, kind: entry.role, label: `${entry.adapter} ${entry.native}`.slice(0, 100) });
    const actor = viewerOf(req).account.id;
    await ctx.store.audit({ at: ctx.clock.now(), actor, action: 'device.map', subject: `${homeId}/${entry.device}`, detail: { adapter: entry.adapter, native: entry.native, role: entry.role } });
    const mapping: DeliveredMapping = { ...entry, secret: creds.secret };
    const mine = waiting.get(homeId) ?? new Map<string, DeliveredMapping>();
    mine.set(entry.device, mapping);
    waiting.set(homeId, mine);
    const report = reports.get(homeId);
    if (report) report.unmapped = report.unmapped.filter((u) => !(u.adapter === entry.adapter && u.native === entry.native));
    // Shown once, never stored in clear (the copy waiting for the bridge lives in memory only) and never cached.
    return sendPage(req, reply, t('onboarding'), html`<p class="notice" role="status">${t('mappedOnce')}</p><p>${t('login')}: <span class="secret" id="device-username">${creds.username}</span></p><pre class="secret" id="map-entry">${JSON.stringify(mapping, null, 2)}</pre><p><a href="/operator/onboarding">←</a></p>`);
  });
};
