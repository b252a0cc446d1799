/**
 * Web accounts from the command line: the first operator of a fresh hub,
 * and the demo street's family member. Passwords are generated, shown once,
 * and stored only as a hash.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { idSchema } from '../core/events.js';
import { MimamoriError } from '../core/errors.js';
import type { Store, WebAccount } from '../core/store.js';
import { hashPassword } from '../dashboards/index.js';

export const accountInputSchema = z.object({
  login: idSchema,
  name: z.string().min(1).max(200),
  role: z.enum(['resident', 'family', 'staff', 'caregiver', 'operator']),
  language: z.enum(['ja', 'en']).default('ja'),
  /** family / resident / caregiver: the home they belong to. */
  home: idSchema.optional(),
  /** staff: the facility they work at. */
  facility: idSchema.optional(),
  /** family: may set the home's consent. */
  guardian: z.boolean().default(false),
});
export type AccountInput = z.input<typeof accountInputSchema>;

/** A readable random password (24 characters, base32 groups). */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(24);
  let out = '';
  for (const [i, b] of bytes.entries()) out += (i > 0 && i % 6 === 0 ? '-' : '') + alphabet[b % alphabet.length];
  return out;
}

/** Creates the account and its links; returns the account and its one-time password. */
export async function createWebAccount(store: Store, input: AccountInput, now: number): Promise<{ account: WebAccount; password: string }> {
  const parsed = accountInputSchema.safeParse(input);
  if (!parsed.success) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const a = parsed.data;
  if ((a.role === 'family' || a.role === 'resident' || a.role === 'caregiver') && !a.home) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `a ${a.role} account needs --home`);
  if (a.role === 'staff' && !a.facility) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'a staff account needs --facility');
  if (a.home && !(await store.getHome(a.home))) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `home ${a.home}`);
  const password = generatePassword();
  const account = await store.createAccount({ login: a.login, name: a.name, role: a.role, language: a.language, passwordHash: await hashPassword(password), createdAt: now });
  if (a.home) await store.linkAccount({ accountId: account.id, kind: a.guardian ? 'guardian' : 'home', targetId: a.home });
  if (a.facility) await store.linkAccount({ accountId: account.id, kind: 'facility', targetId: a.facility });
  return { account, password };
}
