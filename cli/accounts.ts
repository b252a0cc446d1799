/**
 * Web accounts from the command line (`mimamori account create`): the first
 * operator of a fresh hub, staff of a registered facility, and the demo
 * street's family member. Passwords are generated, shown once, and stored
 * only as a hash.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '../core/config.js';
import { idSchema } from '../core/events.js';
import { MimamoriError } from '../core/errors.js';
import { openStore } from '../core/store-open.js';
import type { Store, WebAccount } from '../core/store.js';
import { hashPassword, knownFacility } from '../dashboards/index.js';
import type { CliIo } from './cli-io.js';
import { exitCodeOf } from './exit.js';

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
  // A staff account sees the homes enrolled in its facility: one that does not exist would see nothing, silently.
  if (a.facility) await knownFacility(store, a.facility);
  const password = generatePassword();
  const account = await store.createAccount({ login: a.login, name: a.name, role: a.role, language: a.language, passwordHash: await hashPassword(password), createdAt: now });
  if (a.home) await store.linkAccount({ accountId: account.id, kind: a.guardian ? 'guardian' : 'home', targetId: a.home });
  if (a.facility) await store.linkAccount({ accountId: account.id, kind: 'facility', targetId: a.facility });
  return { account, password };
}

/**
 * `mimamori account create …`: prints the login, role and one-time password
 * as JSON. Exit code 2 when the arguments are refused (a missing or bad
 * option, an unknown home or facility), 1 when anything else fails (the login
 * is taken, the store failed).
 */
export async function accountCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [what, ...rest] = args;
  const usage = '  mimamori account create --login L --name N --role operator|staff|caregiver|family|resident [--home H] [--facility F] [--guardian] [--language ja|en]';
  let values: { login?: string; name?: string; role?: string; home?: string; facility?: string; guardian?: boolean; language?: string };
  try {
    if (what !== 'create') throw new Error(what === undefined ? 'what to do? (create)' : `unknown action ${what}`);
    ({ values } = parseArgs({ args: rest, strict: true, options: { login: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, home: { type: 'string' }, facility: { type: 'string' }, guardian: { type: 'boolean' }, language: { type: 'string' } } }));
  } catch (err) { io.err(`mimamori account: ${(err as Error).message}\n\n${usage}`); return 2; }
  const store = await openStore(loadConfig(env));
  try {
    const input: AccountInput = { login: values.login ?? '', name: values.name ?? '', role: (values.role ?? '') as AccountInput['role'], guardian: values.guardian ?? false };
    if (values.home) input.home = values.home;
    if (values.facility) input.facility = values.facility;
    if (values.language) input.language = values.language as 'ja' | 'en';
    const { account: created, password } = await createWebAccount(store, input, Date.now());
    io.out(JSON.stringify({ login: created.login, role: created.role, password }));
    io.err(created.role === 'staff' || created.role === 'caregiver' || created.role === 'operator'
      ? 'The password is shown only this once. A second factor (TOTP) is set up at the first sign-in.'
      : 'The password is shown only this once.');
    return 0;
  } catch (err) {
    io.err(`mimamori account: ${(err as Error).message}`);
    return exitCodeOf(err);
  } finally {
    await store.close();
  }
}
