/**
 * The pages' script (served at /static/app.js as an ES module): live updates
 * over server-sent events (or, where a page has no stream, a poll:
 * `data-live-poll`) refresh the page's live regions in place (never a
 * form the person is using: live-regions.ts), and charts draw from JSON.
 * Each time the stream opens (first open, or back after a drop) the page
 * re-reads itself once, so a change made before it listened is not missed.
 * `window.mimamoriLive` counts refreshes for tests and support staff.
 */
import { applyLiveRegions, type RegionUpdate } from './live-regions.js';
import { drawCharts } from './charts.js';

interface LiveState { refreshes: number; last: RegionUpdate | null; deferred: string[] }
const state: LiveState = { refreshes: 0, last: null, deferred: [] };
(window as unknown as { mimamoriLive: LiveState }).mimamoriLive = state;

let refreshing = false;
let again = false;

async function refresh(): Promise<void> {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    const r = await fetch(location.pathname + location.search, { headers: { accept: 'text/html' } });
    // Signed out or an error page: leave the page as it is rather than show half of another one.
    if (r.ok && !r.redirected) {
      const fresh = new DOMParser().parseFromString(await r.text(), 'text/html');
      state.last = applyLiveRegions(document, fresh);
      state.deferred = state.last.deferred;
      drawCharts();
    }
  } catch { /* offline for a moment: the next event refreshes again */ } finally {
    state.refreshes += 1;
    refreshing = false;
    if (again) { again = false; void refresh(); }
  }
}

// A region that waited while a form in it was in use catches up when focus leaves it.
document.addEventListener('focusout', () => { if (state.deferred.length > 0) setTimeout(() => void refresh(), 0); });

const src = document.body.dataset.live;
if (src && 'EventSource' in window) {
  const events = new EventSource(src);
  events.onmessage = () => { void refresh(); };
  // What changed before the stream was listening — between this page being rendered and the stream's
  // first open, or while it was down and reconnecting — sent no event this page heard: catch up once on
  // every open. The server subscribes before it answers, so nothing falls between this read and the stream.
  events.onopen = () => { void refresh(); };
}
// Pages without an event stream (the hub's status page) poll instead of reloading themselves.
const every = Number(document.body.dataset.livePoll);
if (every >= 1000) setInterval(() => { if (!document.hidden) void refresh(); }, every);
drawCharts();
