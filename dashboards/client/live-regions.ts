/**
 * Targeted live updates: the server marks the parts of a page that change
 * (`data-live-region` on an element with an `id`); a fresh copy of the page
 * replaces those parts only. A form the person is using — focus inside it, or
 * any field changed from what the server sent — is never replaced: it moves
 * into the fresh region as it is (it needs an `id` to be found there), or, if
 * it cannot be placed, the whole region waits for the next update.
 * `[data-keep]` parts (the video call) are kept the same way.
 */

/** What one update did, region ids in document order. */
export interface RegionUpdate { updated: string[]; unchanged: string[]; deferred: string[] }

const textTypes = new Set(['hidden', 'submit', 'button', 'reset', 'image']);

/** True when the person changed a field from the value the server rendered. */
export function isDirty(field: Element): boolean {
  if (field instanceof HTMLTextAreaElement) return field.value !== field.defaultValue;
  if (field instanceof HTMLSelectElement) return Array.from(field.options).some((o) => o.selected !== o.defaultSelected);
  if (field instanceof HTMLInputElement) {
    if (field.type === 'checkbox' || field.type === 'radio') return field.checked !== field.defaultChecked;
    if (field.type === 'file') return (field.files?.length ?? 0) > 0;
    if (textTypes.has(field.type)) return false;
    return field.value !== field.defaultValue;
  }
  return false;
}

/** A form (or any part) is in use when focus is inside it or one of its fields is dirty. */
export function inUse(part: Element, active: Element | null): boolean {
  if (active && active !== document.body && part.contains(active)) return true;
  return Array.from(part.querySelectorAll('input, textarea, select')).some(isDirty);
}

function syncAttributes(target: Element, source: Element): void {
  for (const a of Array.from(target.attributes)) if (!source.hasAttribute(a.name)) target.removeAttribute(a.name);
  for (const a of Array.from(source.attributes)) if (target.getAttribute(a.name) !== a.value) target.setAttribute(a.name, a.value);
}

/** Puts focus and the caret back where they were after nodes moved. */
function restoreFocus(active: Element | null, selection: { start: number | null; end: number | null } | undefined): void {
  if (!(active instanceof HTMLElement) || !active.isConnected || document.activeElement === active) return;
  active.focus({ preventScroll: true });
  if (selection && (active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement) && selection.start !== null) {
    try { active.setSelectionRange(selection.start, selection.end ?? selection.start); } catch { /* not a text field */ }
  }
}

/**
 * Replaces each live region of `doc` with its copy in `fresh` (a parsed page),
 * keeping the parts a person is using.
 *
 * @example
 * const fresh = new DOMParser().parseFromString(await (await fetch(location.href)).text(), 'text/html');
 * applyLiveRegions(document, fresh); // → { updated: ['alerts'], unchanged: ['news'], deferred: [] }
 */
export function applyLiveRegions(doc: Document, fresh: Document): RegionUpdate {
  const out: RegionUpdate = { updated: [], unchanged: [], deferred: [] };
  const active = doc.activeElement;
  const selection = active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement
    ? (() => { try { return { start: active.selectionStart, end: active.selectionEnd }; } catch { return undefined; } })()
    : undefined;
  for (const region of Array.from(doc.querySelectorAll('[data-live-region][id]'))) {
    const next = fresh.getElementById(region.id);
    if (!next) { out.unchanged.push(region.id); continue; }
    if (next.outerHTML === region.outerHTML) { out.unchanged.push(region.id); continue; }
    const kept = Array.from(region.querySelectorAll('form, [data-keep]')).filter((p) => p.hasAttribute('data-keep') || inUse(p, active));
    // A kept part inside another kept part travels with it.
    const outer = kept.filter((p) => !kept.some((q) => q !== p && q.contains(p)));
    const slots = outer.map((p) => (p.id ? next.querySelector(`#${CSS.escape(p.id)}`) : null));
    if (slots.some((s) => s === null)) { out.deferred.push(region.id); continue; }
    outer.forEach((p, i) => slots[i]!.replaceWith(p));
    syncAttributes(region, next);
    region.replaceChildren(...Array.from(next.childNodes));
    out.updated.push(region.id);
  }
  restoreFocus(active, selection);
  return out;
}
