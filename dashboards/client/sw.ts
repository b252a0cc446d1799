/**
 * The service worker (/sw.js, scope /): shows a push as a notification with
 * its answer buttons, and when one is pressed posts `{ token, action }` to
 * `/push/action` — the token in the push names one alert and one person, so
 * no session is needed. Tapping the notification itself opens the web app.
 *
 * A classic script (no import/export: Firefox runs module service workers
 * only lately), so `showPush` and `answerAction` are globals of the worker —
 * the browser test calls `answerAction` there. The DOM lib is what this
 * folder compiles with; the few worker types used are declared here.
 */

interface SwPushPayload {
  title: string; body: string; lang: string; tag: string; alertId?: string;
  actions?: Array<{ action: string; title: string }>; token?: string;
}
interface SwExtendableEvent extends Event { waitUntil(p: Promise<unknown>): void }
interface SwPushEvent extends SwExtendableEvent { data: { json(): unknown } | null }
interface SwShownNotification { data: unknown; close(): void }
interface SwNotificationEvent extends SwExtendableEvent { action: string; notification: SwShownNotification }
interface SwScope {
  registration: { showNotification(title: string, options: Record<string, unknown>): Promise<void> };
  clients: { openWindow(url: string): Promise<unknown>; claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'push', fn: (e: SwPushEvent) => void): void;
  addEventListener(type: 'notificationclick', fn: (e: SwNotificationEvent) => void): void;
  addEventListener(type: 'install' | 'activate', fn: (e: SwExtendableEvent) => void): void;
}

const worker = self as unknown as SwScope;

/** Shows one push; the token travels in the notification's data for its buttons. */
function showPush(p: SwPushPayload): Promise<void> {
  return worker.registration.showNotification(p.title, {
    body: p.body, lang: p.lang, tag: p.tag, renotify: true, requireInteraction: Boolean(p.actions),
    actions: p.actions ?? [], data: { token: p.token, alertId: p.alertId },
  });
}

/** What a button does: posts the action with the push's token; the hub answers in the person's language. */
async function answerAction(token: string, action: string): Promise<{ status: number; message: string }> {
  const res = await fetch('/push/action', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, action }) });
  const body = await res.json().catch(() => ({})) as { message?: string };
  return { status: res.status, message: body.message ?? '' };
}

worker.addEventListener('install', (e) => { e.waitUntil(worker.skipWaiting()); });
worker.addEventListener('activate', (e) => { e.waitUntil(worker.clients.claim()); });

worker.addEventListener('push', (e) => {
  let p: SwPushPayload;
  try { p = e.data?.json() as SwPushPayload; } catch { return; }
  if (!p || typeof p.title !== 'string') return;
  e.waitUntil(showPush(p));
});

worker.addEventListener('notificationclick', (e) => {
  const data = e.notification.data as { token?: string } | null;
  e.notification.close();
  if ((e.action === 'ack' || e.action === 'omw') && data?.token) {
    // The answer shows as a notification of its own: the person sees it was taken.
    e.waitUntil(answerAction(data.token, e.action).then((r) => worker.registration.showNotification(r.message || (r.status === 200 ? 'OK' : String(r.status)), { tag: 'answer' })));
    return;
  }
  e.waitUntil(worker.clients.openWindow('/'));
});
