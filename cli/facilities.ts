/**
 * `mimamori facility create|enroll|leave|list` (docs/cli.md): day-care
 * facilities and the homes enrolled in them from the command line, checked
 * and audited exactly as the operator's page does (dashboards/facilities.ts),
 * the actor being `cli:<user>`. Exit codes: 0 done; 2 the arguments were
 * refused (a missing or malformed option, an unknown facility or home, a home
 * not enrolled there); 1 anything else (the id is taken, the store failed).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { MimamoriError } from '../core/errors.js';
import { openStore } from '../core/store-open.js';
import type { Store } from '../core/store.js';
import { createFacility, enrollInFacility, leaveFacility } from '../dashboards/index.js';
import type { CliIo } from './cli-io.js';
import { exitCodeOf } from './exit.js';

const usage = `  mimamori facility create --id ID --name NAME        register a day-care facility
  mimamori facility enroll --home H --facility F     the facility's staff see the home
  mimamori facility leave --home H --facility F      end the enrolment
  mimamori facility list [--json]                    facilities, their homes and staff`;

/** Every facility with its enrolled homes and how many staff accounts link to it. */
async function listing(store: Store): Promise<Array<{ id: string; name: string; homes: string[]; staff: number }>> {
  const homes = new Map<string, string[]>();
  for (const e of await store.listEnrollments()) homes.set(e.facilityId, [...(homes.get(e.facilityId) ?? []), e.homeId]);
  const out = [];
  for (const f of await store.listFacilities()) out.push({ id: f.id, name: f.name, homes: homes.get(f.id) ?? [], staff: (await store.listLinked('facility', f.id)).length });
  return out;
}

/** `mimamori facility …`; prints one JSON line per change (a list with --json), readable errors in English and Japanese. */
export async function facilityCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.out(usage); return 0; }
  const [what, ...rest] = args;
  let values: { id?: string; name?: string; home?: string; facility?: string; json?: boolean };
  try {
    ({ values } = parseArgs({ args: rest, strict: true, options: { id: { type: 'string' }, name: { type: 'string' }, home: { type: 'string' }, facility: { type: 'string' }, json: { type: 'boolean' } } }));
  } catch (err) { io.err(`mimamori facility: ${(err as Error).message}\n\n${usage}`); return 2; }
  const need = (k: 'id' | 'name' | 'home' | 'facility'): string => {
    const v = values[k];
    if (!v) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `--${k} is required / --${k} を指定してください`);
    return v;
  };
  if (what !== 'create' && what !== 'enroll' && what !== 'leave' && what !== 'list') { io.err(usage); return 2; }
  const store = await openStore(loadConfig(env));
  const by = () => ({ actor: `cli:${userInfo().username}`, at: Date.now() });
  try {
    switch (what) {
      case 'create': {
        const f = await createFacility(store, { id: need('id'), name: need('name') }, by());
        io.out(JSON.stringify({ facility: f.id, name: f.name }));
        return 0;
      }
      case 'enroll': {
        const e = { facility: need('facility'), home: need('home') };
        const { changed } = await enrollInFacility(store, e, by());
        io.out(JSON.stringify({ ...e, enrolled: true, changed }));
        return 0;
      }
      case 'leave': {
        const e = { facility: need('facility'), home: need('home') };
        await leaveFacility(store, e, by());
        io.out(JSON.stringify({ ...e, enrolled: false }));
        return 0;
      }
      case 'list': {
        const list = await listing(store);
        if (values.json) { io.out(JSON.stringify(list, null, 2)); return 0; }
        if (list.length === 0) io.out('no facilities yet / 施設はまだ登録されていません (mimamori facility create --id ID --name NAME)');
        for (const f of list) io.out(`${f.id}\t${f.name}\thomes: ${f.homes.join(', ') || '-'}\tstaff: ${f.staff}`);
        return 0;
      }
    }
  } catch (err) {
    io.err(`mimamori facility: ${(err as Error).message}`);
    return exitCodeOf(err);
  } finally {
    await store.close();
  }
}
