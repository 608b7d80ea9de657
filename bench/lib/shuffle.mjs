// A seeded shuffle (mulberry32, then Fisher-Yates): the same sequence in every run, so runs stay comparable.
// The latency phases of bench/peers.mjs and bench/cluster.mjs shuffle their targets every round instead of rotating
// them: rotated, each target always came right after the same one (a candidate after another gateway, whose deferred
// commit or sync could land in its call). One build in two slots of one run was 0.14 ms apart at p50 rotated, 0.03 ms
// shuffled (2026-12-07, bench/RESULTS.md).

/** @param {number} seed @returns {<T>(xs: T[]) => T[]} a function returning a shuffled copy, the next order each call */
export function shuffler(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (xs) => {
    const ys = xs.slice();
    for (let i = ys.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [ys[i], ys[j]] = [ys[j], ys[i]];
    }
    return ys;
  };
}
