/** @module model/suggest: "did you mean …?" — the closest known word to a misspelt one. */

/** Edit distance (insert, delete, substitute, swap of neighbours), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= s.length; i++) {
    const row = new Array<number>(t.length + 1).fill(0);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= t.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = best;
    }
  }
  return rows[s.length]![t.length]!;
}

/**
 * The known word closest to `word`, or undefined when nothing is close enough to be a typo.
 * An exact match that differs only in letter case always wins.
 */
export function closest(word: string, known: Iterable<string>): string | undefined {
  if (word.length > 200) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate.toLowerCase() === word.toLowerCase()) return candidate;
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // One- and two-letter words are too short for a guess to mean anything.
  if (word.length < 3) return undefined;
  const allowed = Math.max(1, Math.floor(Math.max(word.length, best?.length ?? 0) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** " — did you mean 'X'?" or "", ready to append to a message. */
export function didYouMean(word: string, known: Iterable<string>, quote = "'"): string {
  return guess(word, known, quote).text;
}

/**
 * The did-you-mean sentence together with the word it names (undefined when there is none), for
 * rules that also offer the word as a quick fix (Issue.suggestion).
 */
export function guess(word: string, known: Iterable<string>, quote = "'"): { text: string; match?: string } {
  const match = closest(word, known);
  return match === undefined ? { text: "" } : { text: ` — did you mean ${quote}${match}${quote}?`, match };
}
