/**
 * A web app over a real SQLite store, a real rule engine on a virtual clock
 * (one `VirtualWallClock` serves as both the hub's clock and wall time),
 * and the stand-in responder; two homes, one account per role, and helpers to
 * sign in through the real routes (password, then TOTP) with `inject`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualWallClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore, type Store, type WebRole } from '../../core/store.js';
import { createRuleEngine, type RuleEngine } from '../../rules/index.js';
import { createWebApp, type WebApp, type WebAppOptions } from '../../dashboards/index.js';
import { createStoreResponder } from './store-responder.js';
import { hashPassword } from '../../dashboards/passwords.js';
import { newTotpSecret, totpCode } from '../../dashboards/totp.js';

export const start = Date.parse('2026-11-21T09:00:00+09:00');
export const password = 'correct horse battery';

export interface Fixture {
  web: WebApp; store: Store; clock: VirtualWallClock; engine: RuleEngine; dir: string;
  totp: Record<string, string>;
  awayCalls: Array<{ home: string; until: number | null }>;
  buttons: Array<{ home: string; press: string }>;
  ids: { alert1: string; alert2: string; news1: string; news2: string; question2: string; photo2: string };
  close(): Promise<void>;
}

export async function setup(extra: Partial<WebAppOptions> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-web-'));
  const clock = new VirtualWallClock(start);
  const store = createSqliteStore(join(dir, 'web.db'));
  const engine = await createRuleEngine({ clock, logger: silentLogger(), store });
  const awayCalls: Fixture['awayCalls'] = [];
  const buttons: Fixture['buttons'] = [];
  for (const h of ['h1', 'h2']) await store.createHome({ id: h, name: `Home ${h}`, timezone: 'Asia/Tokyo', createdAt: start });
  await store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja' });
  await store.addResident({ homeId: 'h2', name: 'SECRET-H2-RESIDENT', language: 'en' });
  const totp: Record<string, string> = {};
  const hash = await hashPassword(password);
  const accounts: Array<[string, WebRole, Array<['home' | 'facility' | 'guardian', string]>]> = [
    ['family1', 'family', [['home', 'h1']]], ['family2', 'family', [['home', 'h2']]], ['guardian1', 'family', [['guardian', 'h1']]],
    ['resident1', 'resident', [['home', 'h1']]], ['staff1', 'staff', [['facility', 'f1']]], ['care1', 'caregiver', [['home', 'h1']]],
    ['op', 'operator', []],
  ];
  for (const [login, role, links] of accounts) {
    const needsTotp = role === 'staff' || role === 'caregiver' || role === 'operator';
    const secret = needsTotp ? newTotpSecret() : undefined;
    if (secret) totp[login] = secret;
    const acc = await store.createAccount({ id: login, login, name: `Name of ${login}`, role, language: login === 'family1' ? 'en' : 'ja', passwordHash: hash, createdAt: start, ...(secret ? { totpSecret: secret } : {}) });
    for (const [kind, targetId] of links) await store.linkAccount({ accountId: acc.id, kind, targetId });
  }
  await store.createFacility({ id: 'f1', name: 'デイサービスさくら', createdAt: start });
  await store.enrollHome('f1', 'h1');
  const alert1 = (await store.openAlert({ homeId: 'h1', rule: 'help', severity: 'critical', message: 'Help button', finding: { message: { en: 'Help button pressed', ja: '緊急ボタン' }, audience: 'family' }, openedAt: start })).alert.id;
  const alert2 = (await store.openAlert({ homeId: 'h2', rule: 'help', severity: 'critical', message: 'SECRET-H2-ALERT', finding: { message: { en: 'SECRET-H2-ALERT', ja: 'SECRET-H2-ALERT' }, audience: 'family' }, openedAt: start })).alert.id;
  const news1 = (await store.addNews({ homeId: 'h1', authorId: 'staff1', body: 'Hanako sang today', createdAt: start })).id;
  const news2 = (await store.addNews({ homeId: 'h2', authorId: 'staff1', body: 'SECRET-H2-NEWS', createdAt: start })).id;
  const photo2 = 'photo2aaaaaaaaaaaaaaaaaaaa';
  await store.addNewsPhoto({ id: photo2, newsId: news2, homeId: 'h2', width: 10, height: 10 });
  const question2 = (await store.addQuestion({ homeId: 'h2', askerId: 'family2', body: 'SECRET-H2-QUESTION', askedAt: start })).id;
  const web = await createWebApp({
    store, clock, wallClock: clock, logger: silentLogger(), responder: createStoreResponder(store, clock),
    engine: { setAway: (home, until) => { awayCalls.push({ home, until }); engine.setAway(home, until); }, lastSignOfLife: (h) => engine.lastSignOfLife(h), awayUntil: (h) => engine.awayUntil(h) },
    publishButton: async (home, press) => { buttons.push({ home, press }); },
    photosDir: join(dir, 'photos'), totpSeedKey: testSeedKey,
    ...extra,
  });
  return {
    web, store, clock, engine, dir, totp, awayCalls, buttons,
    ids: { alert1, alert2, news1, news2, question2, photo2 },
    async close() { await web.close(); await engine.close(); await store.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

export interface Session { cookie: string; csrf: string }

function cookieFrom(setCookie: string | string[] | undefined, name: string): string | undefined {
  for (const c of [setCookie ?? []].flat()) if (c.startsWith(`${name}=`)) return c.split(';')[0];
  return undefined;
}

/** What `signIn` needs: the web app, the TOTP secrets by login, and the clock the authenticator reads (wall time). */
export interface SignInTarget { web: Pick<WebApp, 'app'>; totp: Record<string, string>; clock: { now(): number } }

/** The password step of the real sign-in: the session cookie, its CSRF token and where the app sends the person next. */
export async function passwordStep(f: SignInTarget, login: string, pw = password): Promise<Session & { next: string | undefined }> {
  const form = await f.web.app.inject({ method: 'GET', url: '/signin' });
  const pre = cookieFrom(form.headers['set-cookie'], 'mimamori_pre')!;
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const res = await f.web.app.inject({ method: 'POST', url: '/signin', headers: { cookie: pre }, payload: { login, password: pw, _csrf: token } });
  if (res.statusCode !== 303) throw new Error(`sign-in of ${login} failed: ${res.statusCode}`);
  const cookie = cookieFrom(res.headers['set-cookie'], 'mimamori_session')!;
  const account = await f.web.app.inject({ method: 'GET', url: '/signin/totp', headers: { cookie, accept: 'text/html' } });
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(account.body)?.[1] ?? /name="_csrf" value="([^"]+)"/.exec(account.body)?.[1] ?? '';
  return { cookie, csrf, next: res.headers.location as string | undefined };
}

/** The key the fixture's web app seals TOTP seeds with. */
export const testSeedKey = Buffer.alloc(32, 7);

const usedSteps = new WeakMap<object, Map<string, number>>();
/**
 * A code for `login` whose step was not used yet: an authenticator shows one
 * code per 30 s and the app accepts each step once (one step of drift either
 * side). When the steps in reach are used up, a virtual clock is moved on to
 * the next one — a person would wait for the next code.
 */
export function freshTotpCode(f: SignInTarget, login: string): string {
  const used = usedSteps.get(f.totp) ?? new Map<string, number>();
  usedSteps.set(f.totp, used);
  const clock = f.clock as { now(): number; advanceBy?: (ms: number) => void };
  const current = Math.floor(clock.now() / 30_000);
  // On the real wall clock the code must still be good when a busy machine gets round to
  // submitting it: start at the current step (30–60 s left), not the one before (0–30 s).
  const step = Math.max(clock.advanceBy ? current - 1 : current, (used.get(login) ?? -Infinity) + 1);
  if (step > current + 1) {
    if (!clock.advanceBy) throw new Error(`TOTP steps of ${login} used up at the wall clock; wait 30 s`);
    clock.advanceBy((step - current) * 30_000);
  }
  used.set(login, step);
  return totpCode(f.totp[login]!, step * 30_000);
}

/** Signs in through the real routes (and the TOTP step, with a code the authenticator shows, never one used before). */
export async function signIn(f: SignInTarget, login: string, pw = password): Promise<Session> {
  const { cookie, next, csrf: first } = await passwordStep(f, login, pw);
  let csrf = first;
  if (next === '/signin/totp') {
    const ok = await f.web.app.inject({ method: 'POST', url: '/signin/totp', headers: { cookie }, payload: { _csrf: csrf, code: freshTotpCode(f, login) } });
    if (ok.statusCode !== 303) throw new Error(`TOTP of ${login} failed: ${ok.statusCode}`);
  }
  if (!csrf) {
    const page = await f.web.app.inject({ method: 'GET', url: '/account', headers: { cookie, accept: 'text/html' } });
    csrf = /name="csrf-token" content="([^"]+)"/.exec(page.body)![1]!;
  }
  return { cookie, csrf };
}
