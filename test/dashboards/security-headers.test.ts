/**
 * Security headers on every route of the web app (issue 15, item 4) and no
 * inline script anywhere (issue 14): every GET route is requested as a person
 * allowed to see it; every response carries the CSP (script-src 'self', no
 * 'unsafe-inline', frame-ancestors 'none'), nosniff, DENY framing and the
 * referrer policy; every HTML page has no inline <script>, no inline event
 * handler, no style attribute or <style> element and no javascript: URL.
 */
import t, { type Test } from 'tap';
import { passwordStep, setup, signIn, type Session } from './helpers.js';

const loginFor: Record<string, string> = { family: 'guardian1', resident: 'resident1', staff: 'staff1', caregiver: 'care1', operator: 'op', any: 'family1', public: 'family1' };

/** The HTML pages this test must have seen rendered (route patterns). */
const expectedPages = [
  '/account', '/account/notifications', '/account/password', '/caregiver', '/homes/:home', '/homes/:home/access-log', '/homes/:home/consent', '/homes/:home/reports', '/homes/:home/video',
  '/homes/:home/video/settings', '/operator', '/operator/accounts', '/operator/contacts', '/operator/dead-letters', '/operator/facilities', '/operator/fleet', '/operator/homes/:home/contacts', '/operator/homes/:home/escalation', '/operator/onboarding', '/operator/reports',
  '/signin', '/signin/totp', '/staff', '/tablet',
];

export function checkHeaders(t: Test, what: string, headers: Record<string, unknown>): void {
  const csp = String(headers['content-security-policy'] ?? '');
  t.match(csp, /(^|;)\s*script-src 'self'(;|$)/, `${what}: script-src 'self' only`);
  t.match(csp, /(^|;)\s*style-src 'self'(;|$)/, `${what}: style-src 'self' only`);
  t.match(csp, /frame-ancestors 'none'/, `${what}: frame-ancestors 'none'`);
  t.notMatch(csp, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/, `${what}: nothing inline, no forced https`);
  t.equal(headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  t.equal(headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  t.equal(headers['referrer-policy'], 'same-origin', `${what}: referrer policy`);
}

/** Inline script, inline handlers and inline styles a CSP without 'unsafe-inline' would block. */
export function inlineCode(body: string): string[] {
  const found: string[] = [];
  for (const m of body.matchAll(/<script\b[^>]*>/gi)) if (!/\ssrc=/.test(m[0])) found.push(m[0]);
  for (const m of body.matchAll(/<[a-z][^>]*\s(on[a-z]+|style)\s*=[^>]*>/gi)) found.push(m[0]);
  if (/<style\b/i.test(body)) found.push('<style>');
  if (/javascript:/i.test(body)) found.push('javascript:');
  return found;
}

t.test('every route: security headers; every page: no inline script, handler or style', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  await f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'detailed', photos: true, updatedAt: f.clock.now(), updatedBy: 'guardian1' });
  const sessions = new Map<string, Session>();
  const as = async (login: string) => sessions.get(login) ?? sessions.set(login, await signIn(f, login)).get(login)!;
  const seen = new Set<string>();
  for (const route of f.web.routes) {
    if (route.method !== 'GET' || route.url === '/live') continue;
    const url = route.url.replace(':home', 'h1').replace(':photo', 'nonexistent');
    const roles = route.access.roles;
    const login = loginFor[roles === 'any' || roles === 'public' ? roles : roles[0]!]!;
    const headers: Record<string, string> = { accept: 'text/html' };
    // The second-factor page is seen between the password and the code.
    if (url === '/signin/totp') headers.cookie = (await passwordStep(f, 'op')).cookie;
    else if (roles !== 'public') headers.cookie = (await as(login)).cookie;
    const res = await f.web.app.inject({ method: 'GET', url, headers });
    checkHeaders(t, `GET ${route.url}`, res.headers);
    if (res.statusCode === 200 && /text\/html/.test(String(res.headers['content-type']))) {
      seen.add(route.url);
      t.same(inlineCode(res.body), [], `${route.url}: no inline code`);
    }
  }
  t.same([...seen].sort(), expectedPages, 'every page was rendered and checked');
  // Error pages too: not found, and a refused form.
  const missing = await f.web.app.inject({ method: 'GET', url: '/no-such-page', headers: { accept: 'text/html' } });
  checkHeaders(t, '404 page', missing.headers);
  t.same(inlineCode(missing.body), [], '404 page: no inline code');
  const op = await as('op');
  const bad = await f.web.app.inject({ method: 'POST', url: '/operator/homes', headers: { cookie: op.cookie, accept: 'text/html' }, payload: { _csrf: op.csrf, id: 'bad id!', name: '', timezone: 'Nowhere' } });
  t.equal(bad.statusCode, 400);
  checkHeaders(t, 'error page', bad.headers);
  t.same(inlineCode(bad.body), [], 'error page: no inline code');
});

t.test('HSTS only when served over HTTPS', async (t) => {
  const plain = await setup();
  t.teardown(() => plain.close());
  const secure = await setup({ secureCookies: true });
  t.teardown(() => secure.close());
  const a = await plain.web.app.inject({ method: 'GET', url: '/signin' });
  const b = await secure.web.app.inject({ method: 'GET', url: '/signin' });
  t.equal(a.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
  t.match(String(b.headers['strict-transport-security']), /max-age=31536000/, 'HSTS over HTTPS');
});
