/**
 * The operator's fleet page at scale: a real SQLite store with `homes`
 * provisioned homes (a resident and four devices each, some open alerts:
 * critical, low battery, silent device), the real web app and rule engine,
 * an operator signed in through the real password and TOTP routes, and
 * `/operator/fleet` and the overview `/operator` each rendered through
 * fastify `inject` N times (median and worst). Goal (issue 14): under 1 s at
 * 1,000 homes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { VirtualWallClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { MimamoriError } from '../core/errors.js';
import { createSqliteStore } from '../core/store.js';
import { createRuleEngine } from '../rules/index.js';
import { createWebApp } from '../dashboards/index.js';
import { hashPassword, newTotpSecret, totpCode } from '../dashboards/index.js';
import type { AlertResponder } from '../notifier/index.js';
import type { BenchRow } from './types.js';

export interface FleetBenchOptions { homes: number; renders: number }

const kinds = ['motion', 'kettle', 'door', 'button'] as const;

/** Renders the fleet page `renders` times at `homes` homes; rows for the median and the worst render. */
export async function benchFleet(opts: FleetBenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-bench-fleet-'));
  const clock = new VirtualWallClock(Date.parse('2026-12-01T09:00:00+09:00'));
  const store = createSqliteStore(join(dir, 'fleet.db'));
  const engine = await createRuleEngine({ clock, logger: silentLogger(), store });
  // The page never answers an alert: a responder that would say so if it were asked.
  const refuse = async (): Promise<never> => { throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', 'no responder in the fleet bench'); };
  const responder: AlertResponder = { acknowledge: refuse, onMyWay: refuse, arrived: refuse, resolve: refuse } as unknown as AlertResponder;
  const web = await createWebApp({
    store, clock, wallClock: clock, logger: silentLogger(), responder, engine, publishButton: async () => {},
    photosDir: join(dir, 'photos'), totpSeedKey: Buffer.alloc(32, 9),
  });
  try {
    const at = clock.now();
    let alerts = 0;
    for (let i = 0; i < opts.homes; i++) {
      const id = `home${String(i).padStart(5, '0')}`;
      await store.createHome({ id, name: `見守り宅 ${i}`, timezone: 'Asia/Tokyo', createdAt: at });
      await store.addResident({ homeId: id, name: `利用者 ${i}`, language: 'ja' });
      for (const kind of kinds) await store.addDevice({ homeId: id, deviceId: `${kind}1`, kind, secretHash: 'bench', createdAt: at });
      const alert = (rule: string, severity: 'critical' | 'warning', audience: 'family' | 'operator') =>
        store.openAlert({ homeId: id, rule, severity, message: rule, finding: { message: { en: rule, ja: rule }, audience, device: 'motion1' }, openedAt: at }).then(() => { alerts++; });
      if (i % 50 === 0) await alert('no-sign-of-life', 'critical', 'family');
      if (i % 20 === 7) await alert('battery-low', 'warning', 'operator');
      if (i % 25 === 3) await alert('device-silent', 'warning', 'operator');
    }
    const secret = newTotpSecret();
    await store.createAccount({ id: 'op', login: 'op', name: '運営者', role: 'operator', language: 'ja', passwordHash: await hashPassword('bench password long'), totpSecret: secret, createdAt: at });
    const cookie = await signIn(web.app, secret, clock.now());

    /** Renders `url` `renders` times: median, worst, the page's size. */
    const render = async (url: string) => {
      const times: number[] = [];
      let bytes = 0;
      for (let n = 0; n < opts.renders; n++) {
        // Past the access log's five minutes per viewer, home and page: every render writes its records.
        clock.advanceBy(6 * 60_000);
        const t0 = performance.now();
        const res = await web.app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } });
        times.push(performance.now() - t0);
        if (res.statusCode !== 200) throw new Error(`bench fleet: ${url} answered ${res.statusCode}`);
        if (!res.body.includes(`${opts.homes} 軒`)) throw new Error(`bench fleet: ${url} does not count every home`);
        bytes = res.body.length;
      }
      times.sort((a, b) => a - b);
      return { median: times[Math.floor(times.length / 2)]!, worst: times[times.length - 1]!, kb: Math.round(bytes / 1024) };
    };
    const fleet = await render('/operator/fleet');
    const overview = await render('/operator');
    const setting = `${opts.homes} homes × (1 resident, ${kinds.length} devices), ${alerts} open alerts, real SQLite store and web app, signed-in operator, ${opts.renders} renders via inject`;
    const row = (what: string, r: { median: number; worst: number }, notes: string): BenchRow[] => [
      { name: `${what} render median, ${opts.homes} homes`, value: r.median, unit: 'ms', target: `< 1000 ms: ${r.median < 1000 ? 'met' : 'NOT met'}`, notes },
      { name: `${what} render worst of ${opts.renders}, ${opts.homes} homes`, value: r.worst, unit: 'ms', target: `< 1000 ms: ${r.worst < 1000 ? 'met' : 'NOT met'}` },
    ];
    return [
      ...row('fleet page', fleet, `${setting} (page ${fleet.kb} KB, 50 homes shown, problems first)`),
      ...row('operator overview (/operator)', overview, `${setting} (page ${overview.kb} KB, 20 homes shown in full with their contacts, devices and forms, problems first; each render logs the homes shown as accessed)`),
    ];
  } finally {
    await web.close();
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The real sign-in: password, then the authenticator's code. */
async function signIn(app: Awaited<ReturnType<typeof createWebApp>>['app'], secret: string, now: number): Promise<string> {
  const cookieOf = (h: string | string[] | undefined, name: string) => [h ?? []].flat().find((c) => c.startsWith(`${name}=`))?.split(';')[0];
  const form = await app.inject({ method: 'GET', url: '/signin' });
  const pre = cookieOf(form.headers['set-cookie'], 'mimamori_pre');
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
  if (!pre || !token) throw new Error('bench fleet: no sign-in form');
  const res = await app.inject({ method: 'POST', url: '/signin', headers: { cookie: pre }, payload: { login: 'op', password: 'bench password long', _csrf: token } });
  const cookie = cookieOf(res.headers['set-cookie'], 'mimamori_session');
  if (res.statusCode !== 303 || !cookie) throw new Error(`bench fleet: sign-in answered ${res.statusCode}`);
  const step = await app.inject({ method: 'GET', url: '/signin/totp', headers: { cookie, accept: 'text/html' } });
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(step.body)?.[1] ?? /name="_csrf" value="([^"]+)"/.exec(step.body)?.[1] ?? '';
  const ok = await app.inject({ method: 'POST', url: '/signin/totp', headers: { cookie }, payload: { _csrf: csrf, code: totpCode(secret, now) } });
  if (ok.statusCode !== 303) throw new Error(`bench fleet: TOTP answered ${ok.statusCode}`);
  return cookie;
}
