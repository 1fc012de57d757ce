// "Did you mean ...?" suggestions.

/** The candidate closest to `s` (edit distance ≤ 2, or a case-insensitive match), if any. */
export function closest(s: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === s.toLowerCase() ? 0 : editDistance(s, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  const limit = s.length <= 3 ? 1 : 2;
  return bestD <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}
