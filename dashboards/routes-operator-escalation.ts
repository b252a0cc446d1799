/**
 * A home's escalation policy as a form (/operator/homes/:home/escalation,
 * issue 14): tiers in order — who (roles and named contacts, each with their
 * own channels if wanted), channels in the order they are tried, the wait
 * before the next round or tier, repeats — which tier each severity starts
 * at, quiet hours and the reminder settings. "Preview" shows who gets what
 * when for a critical and a warning alert without saving; "Save" validates
 * with the policy schema and stores the policy through the notifier (running
 * escalations keep their snapshot). Problems are listed in the operator's
 * language and nothing is stored. The JSON the form makes is shown read-only.
 */
import { MimamoriError } from '../core/errors.js';
import type { Contact } from '../core/store.js';
import { defaultEscalationPolicy, parseEscalationPolicy, type EscalationPolicy } from '../notifier/index.js';
import { formOf, scopeOf, tOf, viewerOf, type RouteModule } from './context.js';
import { fieldsToPolicy, formContactIds, maxTierRows, policyNumberFields, policyRoles, policySeverities, policyToFields, previewEscalation, tierNames, type PolicyFields, type PolicyProblem } from './escalation-form.js';
import { html, type Html } from './html.js';
import { label, roleName, type MessageKey, type Translator } from './i18n.js';
import { sendPage } from './views.js';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A problem in words: the tier's row, the severity and field in the viewer's language. */
function problemText(t: Translator, p: PolicyProblem): string {
  const vars = { ...p.vars };
  if (typeof vars.severity === 'string') vars.severity = label(t, 'severity', vars.severity);
  if (typeof vars.field === 'string') vars.field = t(`policyField_${vars.field}` as MessageKey);
  return t(p.key, vars);
}

/** "voice call → SMS" */
const channelsText = (t: Translator, chs: readonly string[]) => chs.map((c) => label(t, 'channel', c)).join(' → ');

/** The preview lines of one severity: `<li>` per round, skipped tier and the end. */
export function previewLines(t: Translator, p: EscalationPolicy, contacts: readonly Contact[], severity: 'critical' | 'warning'): string[] {
  const { steps, end } = previewEscalation(p, contacts, severity);
  const lines = steps.map((s) => {
    const tier = roleName(t, s.tier);
    if (s.skipped) return t('policyPreviewSkipped', { at: s.at, tier });
    const who = s.recipients.map((r) => t('policyPreviewWho', { name: r.contact.name, channels: channelsText(t, r.channels) })).join('、');
    return t('policyPreviewStep', { at: s.at, tier, who }) + (s.repeat > 0 ? t('policyPreviewRound', { n: s.repeat + 1 }) : '');
  });
  return [...lines, t('policyPreviewEnd', { at: end })];
}

export const escalationFormRoutes: RouteModule = (app, ctx) => {
  const opOnly = { roles: ['operator'] as const };

  async function formPage(req: FastifyRequest, reply: FastifyReply, o: { fields: PolicyFields; problems: PolicyProblem[]; preview?: EscalationPolicy }) {
    const t = tOf(req);
    const homeId = scopeOf(req).homeId;
    const { session } = viewerOf(req);
    const contacts = await ctx.store.listContacts(homeId);
    const names = new Map(contacts.map((c) => [c.id, `${c.name}（${roleName(t, c.role)}）`]));
    const ids = await contactIdsOf(homeId, contacts);
    const f = o.fields;
    const rows = Math.min(Math.max(1, Number(f.rows) || 1), maxTierRows);
    const value = (name: string) => f[name] ?? '';
    const checked = (name: string) => (f[name] === '1' ? html` checked` : '');
    const select = (name: string, opts: Html[]) => html`<select id="${name}" name="${name}">${opts}</select>`;
    const option = (name: string, v: string, text: string) => html`<option value="${v}"${value(name) === v ? html` selected` : ''}>${text}</option>`;
    const recipient = (i: number, kind: 'role' | 'contact', id: string, text: string) => {
      const box = `t${i}_${kind}_${id}`, own = `t${i}_rch_${kind}-${id}`;
      return html`<div class="check"><input type="checkbox" id="${box}" name="${box}" value="1"${checked(box)}><label for="${box}">${text}</label></div>
<label for="${own}" class="small">${t('policyOwnChannels', { who: text })}</label><input id="${own}" name="${own}" value="${value(own)}">`;
    };
    const tierRows = Array.from({ length: rows }, (_, i) => html`<fieldset class="card tier" id="tier-${i + 1}"><legend>${t('policyTier', { n: i + 1 })}</legend>
<label for="t${i}_name">${t('policyTierName')}</label>${select(`t${i}_name`, [option(`t${i}_name`, '', t('policyUnused')), ...tierNames.map((n) => option(`t${i}_name`, n, roleName(t, n)))])}
<fieldset><legend>${t('policyWho')}</legend>${policyRoles.map((r) => recipient(i, 'role', r, t('policyAllOfRole', { role: roleName(t, r) })))}${ids.map((id) => recipient(i, 'contact', id, names.get(id) ?? t('policyGoneContact', { id })))}</fieldset>
<label for="t${i}_channels">${t('policyChannels')}: <code>voice, sms</code></label><input id="t${i}_channels" name="t${i}_channels" value="${value(`t${i}_channels`)}">
<label for="t${i}_wait">${t('policyWait')}</label><input id="t${i}_wait" name="t${i}_wait" inputmode="decimal" value="${value(`t${i}_wait`)}">
<label for="t${i}_repeats">${t('policyRepeats')}</label><input id="t${i}_repeats" name="t${i}_repeats" type="number" min="0" max="10" value="${value(`t${i}_repeats`)}"></fieldset>`);
    const known = ctx.notifications?.channelNames();
    const body = html`${o.problems.length ? html`<div class="error" role="alert"><p>${t('invalidInput')} — ${t('nothingChanged')}</p><ul id="policy-errors">${o.problems.map((p) => html`<li>${problemText(t, p)}</li>`)}</ul></div>` : ''}
<p>${t('policyIntro')}</p>${known ? html`<p class="muted" id="policy-channels">${t('policyKnownChannels')}: ${known.map((c) => html`${label(t, 'channel', c)} (<code>${c}</code>) `)}</p>` : ''}
<form method="post" action="/operator/homes/${homeId}/escalation" id="policy-form"><input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="rows" value="${rows}">
${tierRows}
<fieldset class="card"><legend>${t('policyEntry')}</legend>${policySeverities.map((s) => html`<label for="entry_${s}">${label(t, 'severity', s)}</label>${select(`entry_${s}`, tierNames.map((n) => option(`entry_${s}`, n, roleName(t, n))))}`)}</fieldset>
<fieldset class="card"><legend>${t('policyQuiet')}</legend><label for="quiet_from">${t('quietFrom')}</label><input id="quiet_from" name="quiet_from" type="time" value="${value('quiet_from')}"><label for="quiet_to">${t('quietTo')}</label><input id="quiet_to" name="quiet_to" type="time" value="${value('quiet_to')}"></fieldset>
<fieldset class="card"><legend>${t('policyMore')}</legend>${policyNumberFields.map((k) => html`<label for="${k}">${t(`policyField_${k}`)}</label><input id="${k}" name="${k}" inputmode="decimal" value="${value(k)}">`)}</fieldset>
<p><button name="action" value="save" id="policy-save">${t('save')}</button> <button name="action" value="preview" class="secondary" id="policy-preview">${t('policyPreviewButton')}</button></p></form>
${o.preview ? html`<h2 id="preview">${t('policyPreviewTitle')}</h2><p class="muted">${t('policyPreviewNote')}</p>
<h3>${t('policyPreviewCritical')}</h3><ol id="preview-critical">${previewLines(t, o.preview, contacts, 'critical').map((l) => html`<li>${l}</li>`)}</ol>
<h3>${t('policyPreviewWarning')}</h3><ol id="preview-warning">${previewLines(t, o.preview, contacts, 'warning').map((l) => html`<li>${l}</li>`)}</ol>
${o.preview.quietHours ? html`<p id="preview-quiet">${t('policyPreviewQuiet', { from: o.preview.quietHours.from, to: o.preview.quietHours.to })}</p>` : ''}
<details><summary>${t('policyJson')}</summary><pre class="wrap">${JSON.stringify(o.preview, null, 2)}</pre></details>` : ''}
<p><a href="/operator">${t('homes')}</a> · <a href="/operator/fleet">${t('fleet')}</a></p>`;
    return sendPage(req, reply.code(o.problems.length ? 400 : 200), `${t('escalation')} — ${homeId}`, body);
  }

  /** The home's policy as stored, or the default; a stored policy the schema refuses is shown as the default with a warning in the log. */
  async function current(homeId: string): Promise<EscalationPolicy> {
    const stored = ctx.escalation ? await ctx.escalation.get(homeId) : undefined;
    if (stored === undefined) return defaultEscalationPolicy;
    const r = parseEscalationPolicy(stored);
    if (r.ok) return r.policy;
    ctx.logger.warn({ homeId, errors: r.errors }, 'stored escalation policy is invalid; the form shows the default');
    return defaultEscalationPolicy;
  }

  /** The contacts a tier may name: the home's, and any the stored policy names that the home no longer has (shown as removed). */
  async function contactIdsOf(homeId: string, contacts: readonly Contact[]): Promise<string[]> {
    return formContactIds(policyToFields(await current(homeId)), contacts);
  }

  app.get('/operator/homes/:home/escalation', { config: { access: opOnly } }, async (req, reply) => {
    const policy = await current(scopeOf(req).homeId);
    return formPage(req, reply, { fields: policyToFields(policy), problems: [], preview: policy });
  });

  app.post('/operator/homes/:home/escalation', { config: { access: opOnly } }, async (req, reply) => {
    if (!ctx.escalation) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', 'no escalation policy store');
    const homeId = scopeOf(req).homeId;
    const { account } = viewerOf(req);
    const fields: PolicyFields = {};
    for (const [k, v] of Object.entries(formOf(req))) if (typeof v === 'string' && k.length <= 200) fields[k] = v.slice(0, 1000);
    const contacts = await ctx.store.listContacts(homeId);
    const known = ctx.notifications?.channelNames();
    const read = fieldsToPolicy(fields, { contactIds: await contactIdsOf(homeId, contacts), ...(known ? { channels: known } : {}) });
    if (!read.policy) return formPage(req, reply, { fields, problems: read.problems });
    if (fields.action === 'preview') return formPage(req, reply, { fields, problems: [], preview: read.policy });
    const { errors } = await ctx.escalation.set(homeId, read.policy, account.id);
    if (errors.length) return formPage(req, reply, { fields, problems: errors.map((e): PolicyProblem => ({ key: 'policyErr_other', vars: { path: e } })) });
    await ctx.store.audit({ at: ctx.clock.now(), actor: account.id, action: 'escalation.set', subject: homeId, detail: { tiers: read.policy.tiers.map((x) => x.name) } });
    return reply.redirect(`/operator/homes/${homeId}/escalation?notice=${encodeURIComponent(tOf(req)('saved'))}`, 303);
  });
};
