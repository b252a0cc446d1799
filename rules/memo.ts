/**
 * Values derived from a compiled object — a rule's options, a home's rule
 * set — computed once and kept as long as the object lives: mark keys built
 * from a rule id, a parsed waking window, the front door's name. Rule objects
 * are shared by every home running the same set, so the hot path looks these
 * up instead of building strings (and garbage) on every reading. Weakly keyed:
 * a replaced rule set takes its values with it. Holds no decision state.
 *
 * @example
 * const windowOf = memoWeak((rule: NoSignOfLifeRule) => parseWindow(rule.wakingHours));
 */
export function memoWeak<K extends object, V>(derive: (key: K) => V): (key: K) => V {
  const memo = new WeakMap<K, V>();
  // No closure over the key: a call allocates nothing, hit or miss (bar `derive`'s own value).
  return (key: K): V => {
    let v = memo.get(key);
    if (v === undefined) { v = derive(key); memo.set(key, v); }
    return v;
  };
}
