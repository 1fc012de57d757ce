// A trace for a person (the numbered timeline, the summary, the verdict with its evidence) and
// the minimal form for tests and CI logs: one stable line per host, then the outcome. Pure.
import type { Palette } from '../text/colour.js';
import { minimalTokens, type ChangeFact } from './change-facts.js';
import type { TraceResult } from './trace-result.js';

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

export function outcomeLine(r: TraceResult): string {
  const hops = r.hops.filter((h) => h.leg === 'request').length;
  if (r.delivered) return r.mode === 'static' ? `would be delivered in ${hops} hops` : `delivered in ${hops} hops, ${r.durationUs} µs`;
  const where = r.drop ? `${r.drop.node}:${r.drop.iface}` : '?';
  return `${r.mode === 'static' ? 'would not be delivered' : 'not delivered'}: dropped at ${where} — ${r.drop?.reason ?? 'unknown'}`;
}

export function renderTrace(r: TraceResult, colours: Palette, listened?: number): string {
  const lines: string[] = [];
  const mode = r.mode === 'static' ? 'static: from the kernel tables, nothing sent' : `live${listened ? `, listening on ${listened} interfaces` : ''}`;
  lines.push(colours.bold(`trace ${r.lab} ${r.from} → ${r.to}: ${r.probe} (${mode})`), '');
  const nodeWidth = Math.max(4, ...r.hops.map((h) => [...h.node].length));
  const ifaceWidth = Math.max(5, ...r.hops.map((h) => [...h.iface].length));
  const timeWidth = Math.max(3, ...r.hops.map((h) => String(h.atUs).length));
  const indent = ' '.repeat(4 + 2 + nodeWidth + 2 + ifaceWidth + 2 + 7 + 2 + timeWidth + 2);
  lines.push(colours.dim(`${pad(' #', 4)}  ${pad('NODE', nodeWidth)}  ${pad('IFACE', ifaceWidth)}  ${pad('DIR', 7)}  ${pad('µs', timeWidth)}  HEADERS / WHAT CHANGED`));
  let leg: string | undefined;
  for (const h of r.hops) {
    if (h.leg !== leg) {
      if (leg !== undefined) lines.push(colours.dim('  — the answer —'));
      leg = h.leg;
    }
    const time = r.mode === 'static' ? '-' : String(h.atUs);
    lines.push(`${pad(String(h.n).padStart(3), 4)}  ${pad(h.node, nodeWidth)}  ${pad(h.iface, ifaceWidth)}  ${pad(h.direction, 7)}  ${time.padStart(timeWidth)}  ${h.summary}`);
    if (h.change) lines.push(`${indent}${colours.yellow('→ ' + h.change)}`);
    if (h.route) lines.push(`${indent}${colours.yellow('→ ' + h.route)}`);
  }
  if (r.hops.length === 0) lines.push(colours.dim('   (the probe was seen nowhere)'));
  if (r.astray.length) {
    lines.push(colours.dim('  copies that went nowhere:'));
    for (const h of r.astray) lines.push(colours.dim(`      ${h.node}:${h.iface} ${h.direction} at ${h.atUs} µs — ${h.change}`));
  }
  lines.push('');
  lines.push(r.delivered ? colours.green(outcomeLine(r)) : colours.red(outcomeLine(r)));
  if (r.replied !== undefined) lines.push(r.replied ? 'the answer came back' : 'no answer came back');
  if (r.drop?.evidence.length) {
    lines.push('evidence:');
    for (const e of r.drop.evidence) lines.push(`  - ${e}`);
  }
  if (r.disagreement) lines.push(colours.yellow(r.disagreement));
  for (const e of r.listenErrors ?? []) lines.push(colours.dim(`could not listen: ${e}`));
  return lines.join('\n');
}

/** One line per host (pods count as their host), in the order the probe met them, then the outcome. */
export function renderMinimal(r: TraceResult, facts: ChangeFact[][]): string {
  const segments: { node: string; tokens: string[]; bridged: boolean }[] = [];
  r.hops.forEach((h, i) => {
    const node = h.node.split('/')[0]! + (h.leg === 'reply' ? ' (answer)' : '');
    let segment = segments.at(-1);
    if (!segment || segment.node !== node) {
      segment = { node, tokens: [], bridged: false };
      segments.push(segment);
    }
    segment.tokens.push(...minimalTokens(facts[i] ?? []));
    if ((facts[i] ?? []).some((f) => f.kind === 'bridged')) segment.bridged = true;
  });
  const lines = segments.map((s) => `${s.node}: ${s.tokens.length ? s.tokens.join('; ') : s.bridged ? 'bridge' : 'pass'}`);
  lines.push(r.delivered ? 'delivered' : `dropped at ${r.drop?.node}:${r.drop?.iface}: ${r.drop?.reason}`);
  return lines.join('\n');
}
