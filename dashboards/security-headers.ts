/**
 * Security headers for every response of the web app (issue 15), through
 * @fastify/helmet: a Content-Security-Policy with no inline script or style
 * (the browser's code is /static/*.js, the styles /static/app.css), no framing
 * (frame-ancestors 'none' and X-Frame-Options DENY), nosniff and a same-origin
 * referrer policy (`backTo` needs our own pages' referer, nobody else gets it).
 * HSTS only when the app is served over HTTPS; no upgrade-insecure-requests,
 * since a hub on a home network is often plain HTTP.
 */
import type { FastifyHelmetOptions } from '@fastify/helmet';

/** The policy as directives (tests read it back from the header). */
export const contentSecurityPolicy = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  mediaSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  manifestSrc: ["'self'"],
  workerSrc: ["'self'"],
};

/** Helmet's options for the web app; `secure`: served over HTTPS (adds HSTS). */
export function securityHeaders(secure: boolean): FastifyHelmetOptions {
  return {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  };
}

/**
 * Helmet's options for the hub endpoints port (the status page, e-mail
 * acknowledgement pages, Twilio's and LINE's webhooks): the same policy, but
 * those small pages keep their few style rules inline (no script is inline).
 */
export function hookPortHeaders(secure: boolean): FastifyHelmetOptions {
  const base = securityHeaders(secure);
  return { ...base, contentSecurityPolicy: { useDefaults: false, directives: { ...contentSecurityPolicy, styleSrc: ["'self'", "'unsafe-inline'"] } } };
}
