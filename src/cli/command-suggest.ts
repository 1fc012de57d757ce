// "Did you mean": the commands closest to words that name none. Pure.
import { closest } from '../lab-spec/suggest.js';

/** Command ids as typed ("node add"); `words` are what the user typed where a command belongs. */
export function suggestCommands(words: readonly string[], ids: readonly string[]): string[] {
  const [first = '', second] = words;
  const tops = [...new Set(ids.map((id) => id.split(' ')[0]!))].sort();
  const top = tops.includes(first) ? first : closest(first, tops);
  if (!top) return first.length >= 2 ? tops.filter((t) => t.startsWith(first)) : [];
  const subs = ids.filter((id) => id.startsWith(`${top} `)).map((id) => id.split(' ')[1]!);
  if (subs.length === 0) return [top];
  const sub = second === undefined ? undefined : subs.includes(second) ? second : closest(second, subs);
  if (sub) return [`${top} ${sub}`];
  return [...(ids.includes(top) ? [top] : []), ...subs.sort().map((s) => `${top} ${s}`)];
}

/** The words of `words` that stand where a command belongs: the first, or a topic and the word
 * after it ("node ad"); the rest are arguments (oclif hands them over joined to the id). */
export function commandWords(words: readonly string[], ids: readonly string[]): string[] {
  const topic = ids.some((id) => id.startsWith(`${words[0]} `));
  return words.slice(0, topic ? 2 : 1);
}
