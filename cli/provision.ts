/**
 * Provisioning a whole home from one JSON document (docs/cli.md): the home,
 * its residents, contacts, devices (secrets are returned once) and rule set.
 */
import { z } from 'zod';
import { idSchema } from '../core/events.js';
import { phoneSchema } from '../core/phone.js';
import { MimamoriError } from '../core/errors.js';
import type { DeviceStore, EscalationStore, HomeStore, RuleStateStore, Store } from '../core/store.js';
import { provisionDevice } from '../broker/index.js';
import { parseRuleSet } from '../rules/index.js';
import { validateContactPreferences, type ContactPreferences } from '../notifier/index.js';

const timezone = z.string().refine((tz) => {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; }
}, 'unknown IANA time zone');
const language = z.enum(['ja', 'en']).default('ja');

export const homeFileSchema = z.object({
  home: z.object({ id: idSchema, name: z.string().min(1).max(200), timezone: timezone.default('Asia/Tokyo'), address: z.string().max(500).optional(), entryNotes: z.string().max(1000).optional() }),
  residents: z.array(z.object({ name: z.string().min(1).max(200), birthYear: z.number().int().min(1900).max(2100).optional(), language })).default([]),
  contacts: z.array(z.object({
    name: z.string().min(1).max(200), role: z.enum(['family', 'caregiver', 'emergency', 'resident']),
    phone: phoneSchema.optional(), email: z.email().optional(),
    language, priority: z.number().int().min(1).max(99).default(1),
    /** Their own quiet hours and daily digest times (validated by the notifier's schema). */
    quietHours: z.unknown().optional(),
    digest: z.unknown().optional(),
  })).default([]),
  devices: z.array(z.object({ device: idSchema, kind: z.string().min(1).max(32), label: z.string().max(100).optional() })).default([]),
  rules: z.array(z.unknown()).optional(),
});

export interface ProvisionResult { home: string; devices: Array<{ device: string; username: string; secret: string }>; ruleErrors: string[] }

/** A contact's quiet hours and digest times, validated by the notifier's own schema. */
export function contactPreferences(quietHours: unknown, digest: unknown): ContactPreferences {
  const prefs: Record<string, unknown> = {};
  if (quietHours !== undefined) prefs.quietHours = quietHours;
  if (digest !== undefined) prefs.digest = digest;
  try {
    return validateContactPreferences(prefs);
  } catch (err) {
    throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `contact preferences: ${(err as Error).message}`);
  }
}

/** Validates the whole document first, then creates everything. */
export async function provisionFromFile(store: HomeStore & DeviceStore & RuleStateStore & EscalationStore, input: unknown): Promise<ProvisionResult> {
  const parsed = homeFileSchema.safeParse(input);
  if (!parsed.success) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const doc = parsed.data;
  for (const c of doc.contacts) if (c.quietHours !== undefined || c.digest !== undefined) contactPreferences(c.quietHours, c.digest);
  const ruleErrors = doc.rules ? parseRuleSet(doc.rules).errors.map((e) => `rule ${e.index}${e.id ? ` (${e.id})` : ''}: ${e.message}`) : [];
  const home: Parameters<Store['createHome']>[0] = { id: doc.home.id, name: doc.home.name, timezone: doc.home.timezone };
  if (doc.home.address) home.address = doc.home.address;
  if (doc.home.entryNotes) home.entryNotes = doc.home.entryNotes;
  await store.createHome(home);
  for (const r of doc.residents) {
    const res: Parameters<Store['addResident']>[0] = { homeId: home.id, name: r.name, language: r.language };
    if (r.birthYear !== undefined) res.birthYear = r.birthYear;
    await store.addResident(res);
  }
  for (const c of doc.contacts) {
    const con: Parameters<Store['addContact']>[0] = { homeId: home.id, name: c.name, role: c.role, language: c.language, priority: c.priority };
    if (c.phone) con.phone = c.phone;
    if (c.email) con.email = c.email;
    const added = await store.addContact(con);
    if (c.quietHours !== undefined || c.digest !== undefined) {
      await store.setContactPreferences(added.id, contactPreferences(c.quietHours, c.digest), Date.now());
    }
  }
  const devices: ProvisionResult['devices'] = [];
  for (const d of doc.devices) {
    const req: Parameters<typeof provisionDevice>[1] = { homeId: home.id, deviceId: d.device, kind: d.kind };
    if (d.label) req.label = d.label;
    const creds = await provisionDevice(store, req);
    devices.push({ device: d.device, username: creds.username, secret: creds.secret });
  }
  if (doc.rules) await store.setRuleConfig(home.id, doc.rules);
  return { home: home.id, devices, ruleErrors };
}
