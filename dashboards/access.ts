/**
 * Who sees what: the one access mechanism of the web app. Every route declares
 * an `Access` in its config (registration fails without one); a single hook
 * resolves the home a request is about from its path parameters, finds the
 * viewer's relationship to that home and the resident's consent for that
 * viewer, and refuses anything the declaration does not allow. Routes without
 * a home in their path may only show homes from `visibleHomes`.
 */
import type { Store, WebAccount, WebRole } from '../core/store.js';

/** What kind of personal data a route shows. */
export type DataNeed = 'coarse' | 'detailed' | 'photos' | 'consent-admin';

export interface Access {
  /** Who may call it; `public` needs no session; `any` is any signed-in person. */
  roles: readonly WebRole[] | 'any' | 'public';
  /** For routes about one home: the consent level the viewer needs (default coarse). */
  need?: DataNeed;
  /** Recorded in the access log (per home read) when the response succeeds. */
  log?: string;
  /** Reachable between password and TOTP (the second-factor pages only). */
  beforeSecondFactor?: boolean;
  /** Reachable while a temporary password set by an operator must still be replaced (the password page only). */
  duringPasswordChange?: boolean;
}

export type RelationKind = 'resident' | 'family' | 'guardian' | 'caregiver' | 'staff' | 'operator';
export interface Relation { homeId: string; kind: RelationKind; level: 'coarse' | 'detailed'; photos: boolean }

/** Path parameters that name something belonging to one home, and how to find that home. */
export type ScopeResolvers = Record<string, (store: Store, value: string) => Promise<string | undefined>>;

export const scopeResolvers: ScopeResolvers = {
  home: async (store, v) => (await store.getHome(v))?.id ?? v,
  alert: async (store, v) => (await store.getAlert(v))?.homeId,
  news: async (store, v) => (await store.getNews(v))?.homeId,
  photo: async (store, v) => (await store.getNewsPhoto(v))?.homeId,
  question: async (store, v) => (await store.getQuestion(v))?.homeId,
  checkin: async (store, v) => (await store.getCheckin(v))?.homeId, // video check-ins (issue 5)
  report: async (store, v) => (await store.getReport(v))?.homeId, // monthly reports (issue 14)
};

/** Roles that need a second factor (issue 4). */
export const secondFactorRoles: readonly WebRole[] = ['staff', 'caregiver', 'operator'];

/** Computes relationships and consent from the store. */
export function createAccessRules(store: Store) {
  async function homesOf(account: WebAccount): Promise<Map<string, RelationKind>> {
    const out = new Map<string, RelationKind>();
    if (account.role === 'operator') {
      for (const h of await store.listHomes()) out.set(h.id, 'operator');
      return out;
    }
    for (const link of await store.listLinks(account.id)) {
      if (account.role === 'staff' && link.kind === 'facility') {
        for (const h of await store.listEnrolledHomes(link.targetId)) out.set(h, 'staff');
      } else if (link.kind === 'guardian' && account.role === 'family') {
        out.set(link.targetId, 'guardian');
      } else if (link.kind === 'home' && account.role !== 'staff') {
        if (!out.has(link.targetId)) out.set(link.targetId, account.role);
      }
    }
    return out;
  }

  /** The viewer's relation to one home, or undefined when there is none. */
  async function relation(account: WebAccount, homeId: string): Promise<Relation | undefined> {
    const kind = (await homesOf(account)).get(homeId);
    if (!kind) return undefined;
    if (kind === 'operator' || kind === 'resident' || kind === 'guardian') return { homeId, kind, level: 'detailed', photos: true };
    const consent = await store.getConsent(homeId, account.id);
    // Private by default: until the resident says otherwise, a summary and no photos.
    return { homeId, kind, level: consent?.level ?? 'coarse', photos: consent?.photos ?? false };
  }

  /** Whether a relation satisfies a route's data need. */
  function allows(rel: Relation, need: DataNeed): boolean {
    switch (need) {
      case 'coarse': return true;
      case 'detailed': return rel.level === 'detailed';
      case 'photos': return rel.photos;
      case 'consent-admin': return rel.kind === 'resident' || rel.kind === 'guardian';
    }
  }

  return {
    relation,
    allows,
    /** Every home the viewer may see at least a summary of, with their relation. */
    async visibleHomes(account: WebAccount): Promise<Relation[]> {
      const out: Relation[] = [];
      for (const homeId of (await homesOf(account)).keys()) {
        const rel = await relation(account, homeId);
        if (rel) out.push(rel);
      }
      return out;
    },
  };
}

export type AccessRules = ReturnType<typeof createAccessRules>;
