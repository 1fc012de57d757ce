import type { ResolvedLab } from './resolved-lab.js';

/** The engine each host and outside node of a lab across several engines runs on, in the model's
 * order (hosts first); a node the placement left unpinned runs on the primary, the first engine. */
export function nodeEngines(lab: ResolvedLab): { node: string; engine: string }[] {
  const primary = lab.engines?.[0]?.name;
  if (!primary) return [];
  return [...lab.hosts, ...lab.externals].map((n) => ({ node: n.name, engine: n.engine ?? primary }));
}
