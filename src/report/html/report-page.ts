// `overlab report`: one self-contained HTML page (styles inline, no script, nothing fetched) with
// the lab drawn as SVG, the traces drawn on it beside their timelines, the verify results, the
// leases and each host's routes, neighbours and FDB. Pure: data in, text out.
import type { ResolvedLab } from '../../plan/resolved-lab.js';
import type { VerifyReport } from '../../checks/run-checks.js';
import type { LeaseRecord } from '../../lab/etcd-leases.js';
import type { FdbState, NeighbourState, RouteState } from '../../trace/kernel-snapshot.js';
import type { TraceResult } from '../../trace/trace-result.js';
import { outcomeLine } from '../../trace/trace-text.js';
import { esc } from './escape.js';
import { REPORT_CSS } from './report-style.js';
import { renderTopologySvg } from './topology-svg.js';

export interface HostTables {
  node: string;
  routes: RouteState[];
  neighbours: NeighbourState[];
  fdb: FdbState[];
}

export interface ReportData {
  lab: ResolvedLab;
  generatedAt: string;
  /** The lab was degraded: what is missing or broken (its tables show what is there). */
  degraded?: string;
  verify?: VerifyReport;
  /** One entry per etcd-backed network (none: the lab has no etcd); `unreadable` when etcd could
   * not be read for it (why). */
  leases: { network: string; leases: LeaseRecord[]; unreadable?: string }[];
  hosts: HostTables[];
  traces: TraceResult[];
}

function table(headers: string[], rows: string[][], mono = true): string {
  if (rows.length === 0) return '<p class="muted">(none)</p>';
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td${mono ? ' class="mono"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function traceSection(t: TraceResult, i: number): string {
  const rows = t.hops.map((h) => [
    esc(h.n),
    esc(h.node),
    esc(h.iface),
    esc(h.direction),
    esc(t.mode === 'static' ? '-' : h.atUs),
    `${esc(h.summary)}${h.change ? `<br><span class="change">→ ${esc(h.change)}</span>` : ''}`,
  ]);
  const evidence = t.drop?.evidence.length ? `<ul class="evidence">${t.drop.evidence.map((e) => `<li class="mono">${esc(e)}</li>`).join('')}</ul>` : '';
  return `<section class="panel trace-block" data-trace-table="${i}">
<h3><span class="swatch swatch-${i % 4}"></span>${esc(`${t.from} → ${t.to}`)} <span class="muted">${esc(t.probe)} (${esc(t.mode)})</span></h3>
<p class="${t.delivered ? 'pass' : 'fail'}">${esc(outcomeLine(t))}</p>${evidence}
${t.disagreement ? `<p class="muted">${esc(t.disagreement)}</p>` : ''}
${table(['#', 'node', 'iface', 'dir', 'µs', 'headers / what changed'], rows)}
</section>`;
}

function verifySection(v: VerifyReport | undefined): string {
  if (!v) return '<p class="muted">not run</p>';
  const rows = v.checks.map((c) => [`<span class="${esc(c.status)}">${c.status === 'pass' ? '✓' : c.status === 'unreachable' ? '?' : '✗'} ${esc(c.status)}</span>`, esc(c.name), esc(c.kind), esc(c.seen), esc(c.reason ?? '')]);
  return `<p>${esc(`${v.passed} passed, ${v.failed} failed`)}</p>${table(['', 'check', 'kind', 'seen', 'why it failed'], rows, false)}`;
}

function leaseSection(data: ReportData): string {
  if (data.leases.length === 0) return '<p class="muted">no etcd in this lab (the static control plane programs the hosts)</p>';
  // What is true of each network that has none to show: etcd unreadable, or holding no lease.
  const notes = data.leases
    .filter((n) => n.leases.length === 0)
    .map((n) => `<p class="muted">${esc(n.unreadable ? `network ${n.network}: etcd could not be read (${n.unreadable})` : `network ${n.network}: etcd holds no lease`)}</p>`);
  const all = data.leases.flatMap((n) => n.leases.map((l) => ({ network: n.network, l })));
  const rows = all.length
    ? table(
        ['network', 'key', 'subnet', 'PublicIP', 'backend', 'VtepMAC', 'etcd lease'],
        all.map(({ network, l }) => [esc(network), esc(l.key), esc(l.subnet), esc(l.publicIp), esc(l.backendType), esc(l.vtepMac ?? ''), esc(l.leaseId ?? '')]),
      )
    : '';
  return rows + notes.join('');
}

function hostSection(h: HostTables): string {
  return `<section class="panel" data-host-tables="${esc(h.node)}"><h3>${esc(h.node)}</h3>
<strong>routes</strong>${table(['destination', 'via', 'dev', ''], h.routes.map((r) => [esc(r.dst), esc(r.gateway ?? ''), esc(r.dev ?? ''), esc([r.type, r.onlink ? 'onlink' : '', r.prefsrc ? `src ${r.prefsrc}` : ''].filter(Boolean).join(' '))]))}
<strong>neighbours</strong>${table(['address', 'MAC', 'dev', 'state'], h.neighbours.map((n) => [esc(n.ip), esc(n.lladdr ?? ''), esc(n.dev), esc(n.state.join(','))]))}
<strong>FDB</strong>${table(['MAC', 'dev', 'dst', 'state'], h.fdb.filter((f) => f.dst || (f.master && f.state !== 'permanent')).map((f) => [esc(f.mac), esc(f.dev), esc(f.dst ?? f.master ?? ''), esc(f.state)]))}
</section>`;
}

export function renderReportHtml(data: ReportData): string {
  const lab = data.lab;
  const traces = data.traces.map(traceSection).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(`overlab report: ${lab.name}`)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${esc(`lab ${lab.name}`)}</h1>
<p class="muted">${esc(lab.description ?? '')}${lab.description ? ' · ' : ''}${esc(`underlay ${lab.underlay.subnet}${lab.underlay.gateway ? `, gateway ${lab.underlay.gateway}` : ''} · networks ${lab.networks.map((n) => `${n.name} ${n.cidr} (${n.backend}${n.backend === 'vxlan' ? ` VNI ${n.vni}` : ''})`).join(', ')} · ${data.generatedAt}`)}</p>
${data.degraded ? `<p class="degraded"><strong>degraded:</strong> ${esc(data.degraded)}</p>` : ''}
</header>
<h2>Topology</h2>
<div class="diagram">${renderTopologySvg(lab, data.traces)}</div>
${data.traces.length ? `<h2>Traces</h2>\n${traces}` : ''}
<h2>Verify</h2>
${verifySection(data.verify)}
<h2>Leases</h2>
${leaseSection(data)}
<h2>Routes, neighbours and FDB per host</h2>
<div class="hosts">${data.hosts.map(hostSection).join('\n')}</div>
</body>
</html>
`;
}
