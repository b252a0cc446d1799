/**
 * Day-care facilities and the homes enrolled in them, as the operator's page
 * (routes-operator-facilities.ts) and `mimamori facility` (cli/facilities.ts)
 * both change them: checked (the facility and the home exist), written, and
 * audited the same way. A staff account sees the homes enrolled in its
 * facility (access.ts); nothing is enrolled until an operator does it here.
 *
 * Errors are MIMAMORI_ERR_INVALID_INPUT (unknown facility or home, not
 * enrolled) or MIMAMORI_ERR_CONFLICT (the facility id is taken), with the
 * words in English and Japanese for the command line and a catalogue key
 * (`userMessage`) the web app shows in the person's language.
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { idSchema } from '../core/events.js';
import type { AuditStore, Facility, FacilityStore, HomeStore, AccountStore } from '../core/store.js';

/** What creating a facility takes: an id (letters, digits, `-`, `_`) and a name people read. */
export const facilityInputSchema = z.object({ id: idSchema, name: z.string().trim().min(1).max(200) });
export type FacilityInput = z.input<typeof facilityInputSchema>;

type FacilityPorts = FacilityStore & Pick<HomeStore, 'getHome'> & Pick<AccountStore, 'enrollHome' | 'listEnrolledHomes'> & Pick<AuditStore, 'audit'>;
/** Who did it (`account` id or `cli:<user>`) and when. */
export interface FacilityChange { actor: string; at: number }

function refuse(en: string, ja: string, userMessage: 'facUnknownFacility' | 'facUnknownHome' | 'facNotEnrolled' | 'facExists', code: 'MIMAMORI_ERR_INVALID_INPUT' | 'MIMAMORI_ERR_CONFLICT' = 'MIMAMORI_ERR_INVALID_INPUT'): MimamoriError {
  return new MimamoriError(code, `${en} / ${ja}`, { userMessage });
}

/** The facility, or a clear refusal naming the command that creates it. */
export async function knownFacility(store: Pick<FacilityStore, 'getFacility'>, id: string): Promise<Facility> {
  const f = await store.getFacility(id);
  if (!f) throw refuse(`unknown facility ${id}; create it first (mimamori facility create --id ${id} --name …)`, `施設 ${id} は登録されていません。先に施設を登録してください`, 'facUnknownFacility');
  return f;
}

/** Creates a facility (refused when the id is taken), audited as `facility.create`. */
export async function createFacility(store: FacilityPorts, input: FacilityInput, by: FacilityChange): Promise<Facility> {
  const parsed = facilityInputSchema.safeParse(input);
  if (!parsed.success) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  if (await store.getFacility(parsed.data.id)) throw refuse(`facility ${parsed.data.id} exists`, `施設 ${parsed.data.id} はすでに登録されています`, 'facExists', 'MIMAMORI_ERR_CONFLICT');
  const facility = await store.createFacility({ ...parsed.data, createdAt: by.at });
  await store.audit({ at: by.at, actor: by.actor, action: 'facility.create', subject: facility.id, detail: { name: facility.name } });
  return facility;
}

/** Enrols a home in a facility (once; again is no change), audited as `facility.enroll`. */
export async function enrollInFacility(store: FacilityPorts, e: { facility: string; home: string }, by: FacilityChange): Promise<{ changed: boolean }> {
  await knownFacility(store, e.facility);
  if (!(await store.getHome(e.home))) throw refuse(`unknown home ${e.home}`, `お宅 ${e.home} は登録されていません`, 'facUnknownHome');
  if ((await store.listEnrolledHomes(e.facility)).includes(e.home)) return { changed: false };
  await store.enrollHome(e.facility, e.home);
  await store.audit({ at: by.at, actor: by.actor, action: 'facility.enroll', subject: e.home, detail: { facility: e.facility } });
  return { changed: true };
}

/** Ends a home's enrolment (the facility's staff no longer see it), audited as `facility.leave`. */
export async function leaveFacility(store: FacilityPorts, e: { facility: string; home: string }, by: FacilityChange): Promise<void> {
  await knownFacility(store, e.facility);
  if (!(await store.leaveFacility(e.facility, e.home))) throw refuse(`home ${e.home} is not enrolled in ${e.facility}`, `お宅 ${e.home} は施設 ${e.facility} に登録されていません`, 'facNotEnrolled');
  await store.audit({ at: by.at, actor: by.actor, action: 'facility.leave', subject: e.home, detail: { facility: e.facility } });
}
