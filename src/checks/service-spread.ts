// How many of N requests each endpoint may answer before the spread stops being what the rules
// promise. Each request is an independent draw (a new connection, so a new conntrack entry and a
// new random choice), so the count an endpoint gets is binomial: Bin(N, p) with p its
// probability. The accepted range is the exact binomial interval whose two tails together hold
// at most alpha / k of the probability (k endpoints: a Bonferroni split), so a correct spread
// fails the whole check with probability at most alpha. Pure.

/** The chance that a correct spread is called wrong: one in a million per check. */
export const SPREAD_ALPHA = 1e-6;

export interface EndpointRange {
  probability: number;
  expected: number;
  /** The least and most answers accepted (inclusive). */
  low: number;
  high: number;
}

/** ln P(X = k) for k = 0..n, X ~ Bin(n, p), by the ratio of consecutive terms. */
function binomialLogPmf(n: number, p: number): number[] {
  if (p <= 0) return Array.from({ length: n + 1 }, (_, k) => (k === 0 ? 0 : -Infinity));
  if (p >= 1) return Array.from({ length: n + 1 }, (_, k) => (k === n ? 0 : -Infinity));
  const out = new Array<number>(n + 1);
  out[0] = n * Math.log1p(-p);
  const ratio = Math.log(p) - Math.log1p(-p);
  for (let k = 0; k < n; k++) out[k + 1] = out[k]! + Math.log((n - k) / (k + 1)) + ratio;
  return out;
}

/** The accepted range for one endpoint: each tail holds at most tailMass. */
export function binomialRange(n: number, p: number, tailMass: number): EndpointRange {
  const pmf = binomialLogPmf(n, p).map(Math.exp);
  let low = 0;
  let below = 0;
  while (low < n && below + pmf[low]! <= tailMass) below += pmf[low++]!;
  let high = n;
  let above = 0;
  while (high > 0 && above + pmf[high]! <= tailMass) above += pmf[high--]!;
  return { probability: p, expected: n * p, low, high };
}

/** The ranges for every endpoint of a Service chosen with these probabilities. */
export function spreadRanges(requests: number, probabilities: number[], alpha = SPREAD_ALPHA): EndpointRange[] {
  const tail = alpha / (2 * Math.max(1, probabilities.length));
  return probabilities.map((p) => binomialRange(requests, p, tail));
}

export interface SpreadVerdict {
  ok: boolean;
  /** Per endpoint, in order: its count and the range it had to fall in. */
  endpoints: { count: number; range: EndpointRange; ok: boolean }[];
}

export function judgeSpread(counts: number[], probabilities: number[], alpha = SPREAD_ALPHA): SpreadVerdict {
  const n = counts.reduce((a, b) => a + b, 0);
  const ranges = spreadRanges(n, probabilities, alpha);
  const endpoints = counts.map((count, i) => {
    const range = ranges[i]!;
    return { count, range, ok: count >= range.low && count <= range.high };
  });
  return { ok: endpoints.every((e) => e.ok), endpoints };
}

/** The fewest requests for which "every endpoint answers at least once" is itself a claim a
 * correct spread meets but with probability alpha: k endpoints of p = 1/k each, one silent by
 * chance with probability at most k·(1 − 1/k)^N. */
export function minimumRequests(endpoints: number, alpha = SPREAD_ALPHA): number {
  if (endpoints <= 1) return 1;
  return Math.ceil(Math.log(alpha / endpoints) / Math.log(1 - 1 / endpoints));
}
