/**
 * The subscribe buttons on /account/notifications (one block per contact,
 * `div.push[data-contact][data-key]`): registers the service worker
 * (/sw.js), asks for permission, subscribes with the hub's VAPID public key
 * and posts the subscription — exactly `PushSubscription.toJSON()` — to
 * `/account/notifications/<contact>/push`. "Stop" unsubscribes the browser
 * and tells the hub. Every word it shows comes from the page (data-said-*).
 */

const pushCsrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';


async function postJson(url: string, body: unknown): Promise<boolean> {
  const res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': pushCsrf }, body: JSON.stringify(body) });
  return res.ok;
}

/** A short name for this device, shown in its list: the platform, as the browser says it. */
function deviceLabel(): string {
  return (navigator.platform || 'browser').slice(0, 60);
}

async function subscribe(box: HTMLElement): Promise<string> {
  const said = box.dataset;
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !window.isSecureContext) return said.saidUnsupported ?? '';
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return said.saidDenied ?? '';
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  await navigator.serviceWorker.ready;
  // applicationServerKey takes the VAPID key as base64url text (Push API §3.2).
  const key = said.key ?? '';
  const subscription = (await registration.pushManager.getSubscription()) ?? await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const ok = await postJson(`/account/notifications/${encodeURIComponent(said.contact ?? '')}/push`, { subscription: subscription.toJSON(), label: deviceLabel() });
  return (ok ? said.saidOn : said.saidFailed) ?? '';
}

async function unsubscribe(box: HTMLElement): Promise<string> {
  const said = box.dataset;
  const registration = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration('/') : undefined;
  const subscription = await registration?.pushManager.getSubscription();
  if (subscription) {
    await postJson(`/account/notifications/${encodeURIComponent(said.contact ?? '')}/push/remove`, { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
  }
  return said.saidOff ?? '';
}

for (const box of document.querySelectorAll<HTMLElement>('div.push[data-contact]')) {
  const status = box.querySelector<HTMLElement>('[data-push-status]');
  for (const button of box.querySelectorAll<HTMLButtonElement>('button[data-push]')) {
    button.addEventListener('click', () => {
      const act = button.dataset.push === 'unsubscribe' ? unsubscribe : subscribe;
      button.disabled = true;
      act(box)
        .catch(() => box.dataset.saidFailed ?? '')
        .then((text) => { if (status) status.textContent = text; })
        .finally(() => { button.disabled = false; });
    });
  }
}
