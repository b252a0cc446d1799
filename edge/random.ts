/**
 * A small seeded pseudo-random generator (sfc32) so a simulated street is
 * reproducible: the same seed gives the same residents, days and incidents on
 * every machine. Not for secrets — use core/ids.ts for those.
 */

/** Seeded randomness with the few distributions the simulator needs. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** Normally distributed (Box–Muller). */
  normal(mean: number, sd: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** Poisson-distributed count with the given mean (Knuth; fine for small means). */
  poisson(mean: number): number;
  /** A Fisher–Yates shuffled copy. */
  shuffle<T>(items: readonly T[]): T[];
  /**
   * An independent generator derived from this one's seed and a label, so one
   * home's or one day's draws do not shift when another's change.
   */
  fork(label: string | number): Random;
}

/** 32-bit FNV-1a over a string, used to mix labels into seeds. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Creates a seeded generator. Same seed → identical sequence.
 *
 * @example
 * const rng = createRandom(42);
 * rng.normal(7 * 60, 20); // a wake-up minute around 07:00
 */
export function createRandom(seed: number | string): Random {
  const seedText = String(seed);
  // sfc32 state seeded from independent hashes of the seed text.
  let a = hash32(`a:${seedText}`), b = hash32(`b:${seedText}`), c = hash32(`c:${seedText}`), d = 1;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  // Discard the first outputs: sfc32 mixes its state in the first few rounds.
  for (let i = 0; i < 12; i++) next();

  const rng: Random = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    normal(mean, sd) {
      const u = 1 - next(); // (0, 1]: log(0) would be -Infinity
      const v = next();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick() needs a non-empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
    poisson(mean) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = next();
      while (p > limit) { k++; p *= next(); }
      return k;
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    },
    fork: (label) => createRandom(`${seedText}/${label}`),
  };
  return rng;
}
