// A trace for a person (the numbered timeline, the summary, the verdict with its evidence) and
// the minimal form for tests and CI logs: one stable line per host, then the outcome. Pure.
import type { Palette } from '../text/colour.js';
import { minimalTokens, type ChangeFact } from './change-facts.js';
import type { TraceHop, TraceResult, TraceService } from './trace-result.js';
import { share } from './service-hop.js';

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
  const timeline = (hops: TraceHop[]) => {
    let leg: string | undefined;
    for (const h of hops) {
      if (h.leg !== leg) {
        if (leg !== undefined) lines.push(colours.dim('  — the answer —'));
        leg = h.leg;
      }
      const time = r.mode === 'static' ? '-' : String(h.atUs);
      lines.push(`${pad(String(h.n).padStart(3), 4)}  ${pad(h.node, nodeWidth)}  ${pad(h.iface, ifaceWidth)}  ${pad(h.direction, 7)}  ${time.padStart(timeWidth)}  ${h.summary}`);
      if (h.change) lines.push(`${indent}${colours.yellow('→ ' + h.change)}`);
      if (h.route) lines.push(`${indent}${colours.yellow('→ ' + h.route)}`);
    }
  };
  const branchTitle = (b: NonNullable<TraceResult['branches']>[number]) => colours.dim(`  — towards ${b.endpoint}${b.owner ? ` (${b.owner})` : ''}, probability ${share(b.probability)} —`);
  if (r.branches?.length) lines.push(branchTitle(r.branches[0]!));
  timeline(r.hops);
  if (r.hops.length === 0) lines.push(colours.dim('   (the probe was seen nowhere)'));
  for (const b of r.branches?.slice(1) ?? []) {
    lines.push(branchTitle(b));
    timeline(b.hops);
    lines.push(colours.dim(`      ${b.delivered ? 'would be delivered' : `would not be delivered: dropped at ${b.drop?.node}:${b.drop?.iface} — ${b.drop?.reason}`}`));
  }
  if (r.service) lines.push('', ...serviceLines(r.service, r.mode));
  if (r.astray.length) {
    lines.push(colours.dim('  copies that went nowhere:'));
    for (const h of r.astray) lines.push(colours.dim(`      ${h.node}:${h.iface} ${h.direction} at ${h.atUs} µs — ${h.change}`));
  }
  lines.push('');
  lines.push(r.delivered ? colours.green(outcomeLine(r)) : colours.red(outcomeLine(r)));
  if (r.replied !== undefined) lines.push(r.replied ? 'the answer came back' : 'no answer came back');
  for (const a of r.absent ?? []) lines.push(colours.yellow(`not in the lab now: ${a}`));
  if (r.drop?.evidence.length) {
    lines.push('evidence:');
    for (const e of r.drop.evidence) lines.push(`  - ${e}`);
  }
  if (r.disagreement) lines.push(colours.yellow(r.disagreement));
  for (const e of r.listenErrors ?? []) lines.push(colours.dim(`could not listen: ${e}`));
  if (r.clocks) lines.push(colours.dim(r.clocks));
  return lines.join('\n');
}

/** The Service hop: which rules, how they choose, which endpoint, and the kernel's word for it. */
export function serviceLines(service: TraceService, mode: TraceResult['mode']): string[] {
  const lines: string[] = [];
  if (service.refused) {
    lines.push(`Service ${service.name} (${service.frontend}) has no endpoints: ${service.node}'s ${service.mode} rules refuse it`);
  } else {
    const n = service.endpoints.length;
    lines.push(`Service ${service.name} (${service.frontend}), translated by ${service.node}'s ${service.mode} rules: ${n === 1 ? 'its one endpoint' : `one of ${n} endpoints`}`);
    for (const e of service.endpoints) {
      const mark = e.destination === service.chosen ? (mode === 'live' ? '  ← this probe' : '  ← followed first') : '';
      lines.push(`  ${e.destination}${e.owner ? ` (${e.owner})` : ''}  ${e.chain}  probability ${share(e.probability)}${mark}`);
    }
    if (mode === 'live' && !service.chosen) lines.push('  (which endpoint took it, nothing showed)');
    if (service.masquerade) lines.push(`  masqueraded on the way out: ${service.masquerade}`);
  }
  if (service.evidence.length) {
    lines.push(mode === 'live' ? 'what the kernel showed:' : 'the rules followed:');
    for (const e of service.evidence) lines.push(`  - ${e}`);
  }
  return lines;
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
