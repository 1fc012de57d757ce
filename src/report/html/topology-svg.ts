// The lab drawn as SVG: the underlay switch as a bar, external nodes (router, outside, etcd)
// above it, each host below as a box holding its flannel devices, bridges and pods (with their
// veth pairs), and every interface a trace can pass given an anchor point — so a trace's hops
// are drawn numbered on the interfaces, the answer dashed, the drop marked. Pure.
import type { ResolvedLab } from '../../plan/resolved-lab.js';
import { isOverlay, vxlanDevice } from '../../plan/overlay.js';
import type { TraceResult } from '../../trace/trace-result.js';
import { esc } from './escape.js';

interface Point {
  x: number;
  y: number;
}

export interface TopologyLayout {
  width: number;
  height: number;
  /** "host1:eth0", "host1/pod1:eth0", "switch:host1", "host1:docker0" → where it is drawn. */
  anchors: Map<string, Point>;
  /** The y of each bridge (for frames seen passing through it): "switch:underlay", "host1:docker0". */
  bridgeY: Map<string, number>;
  svgBody: string[];
}

const HOST_W = 280;
const GAP = 28;
const EXT_W = 150;
const EXT_Y = 16;
const EXT_H = 58;
const BAR_Y = 120;
const BAR_H = 48;
const HOST_Y = 214;
const POD_W = 112;

function box(x: number, y: number, w: number, h: number, cls: string, attrs: string, lines: string[]): string {
  const text = lines
    .map((line, i) => `<text x="${x + w / 2}" y="${y + 18 + i * 15}" text-anchor="middle" class="${i === 0 ? 'label' : 'sub'}">${esc(line)}</text>`)
    .join('');
  return `<g class="${cls}" ${attrs}><rect x="${x}" y="${y}" width="${w}" height="${h}" rx="8"/>${text}</g>`;
}

export function layoutTopology(lab: ResolvedLab): TopologyLayout {
  const anchors = new Map<string, Point>();
  const bridgeY = new Map<string, number>();
  const body: string[] = [];
  const hostWidths = lab.hosts.map((h) => Math.max(HOST_W, h.pods.length * (POD_W + 12) + 24));
  const hostsWidth = hostWidths.reduce((a, b) => a + b, 0) + GAP * Math.max(0, lab.hosts.length - 1);
  const extWidth = lab.externals.length * (EXT_W + GAP);
  const width = Math.max(hostsWidth, extWidth, 400) + 40;

  // the switch
  const barX = 20;
  const barW = width - 40;
  body.push(
    `<g class="switch" data-node="switch"><rect x="${barX}" y="${BAR_Y}" width="${barW}" height="${BAR_H}" rx="6"/>` +
      `<text x="${barX + 10}" y="${BAR_Y + 15}" class="label">${esc(`underlay switch — bridge "${lab.underlay.bridge}", ${lab.underlay.subnet}`)}</text></g>`,
  );
  bridgeY.set(`switch:${lab.underlay.bridge}`, BAR_Y + 32);
  anchors.set(`switch:${lab.underlay.bridge}`, { x: barX + barW / 2, y: BAR_Y + 32 });

  // external nodes above the bar
  lab.externals.forEach((e, i) => {
    const x = 20 + i * (EXT_W + GAP) + (width - 40 - extWidth + GAP) / 2;
    const cx = x + EXT_W / 2;
    body.push(`<line class="cable" x1="${cx}" y1="${EXT_Y + EXT_H}" x2="${cx}" y2="${BAR_Y}"/>`);
    body.push(box(x, EXT_Y, EXT_W, EXT_H, `node external ${esc(e.role)}`, `data-node="${esc(e.name)}"`, [e.name, `${e.role} · eth0 ${e.underlayIp}`]));
    anchors.set(`${e.name}:eth0`, { x: cx, y: EXT_Y + EXT_H });
    anchors.set(`switch:${e.name}`, { x: cx, y: BAR_Y });
  });

  // hosts below
  let x = 20 + (width - 40 - hostsWidth) / 2;
  lab.hosts.forEach((host, hi) => {
    const w = hostWidths[hi]!;
    const cx = x + w / 2;
    const devices = lab.networks.filter(isOverlay).filter((n) => n.backend !== 'host-gw');
    const bridgeTop = HOST_Y + 60 + (devices.length ? 56 : 0);
    const podTop = bridgeTop + 110;
    const height = podTop + 70 - HOST_Y;
    body.push(`<line class="cable" x1="${cx}" y1="${BAR_Y + BAR_H}" x2="${cx}" y2="${HOST_Y}"/>`);
    body.push(
      `<g class="node host" data-node="${esc(host.name)}"><rect x="${x}" y="${HOST_Y}" width="${w}" height="${height}" rx="10"/>` +
        `<text x="${x + 12}" y="${HOST_Y + 20}" class="label">${esc(host.name)}</text>` +
        `<text x="${x + 12}" y="${HOST_Y + 36}" class="sub">${esc(`eth0 ${host.underlayIp} · ${host.underlayMac}`)}</text></g>`,
    );
    anchors.set(`${host.name}:eth0`, { x: cx, y: HOST_Y });
    anchors.set(`switch:${host.name}`, { x: cx, y: BAR_Y + BAR_H });

    devices.forEach((network, di) => {
      const name = network.backend === 'vxlan' ? vxlanDevice(network) : 'flannel0';
      const dw = 168;
      const dx = x + 12 + di * (dw + 10);
      const what = network.backend === 'vxlan' ? `VTEP · VNI ${network.vni} · UDP ${network.port}` : `TUN → agent · UDP ${network.port}`;
      body.push(box(dx, HOST_Y + 50, dw, 44, 'device', `data-iface="${esc(`${host.name}:${name}`)}"`, [name, what]));
      anchors.set(`${host.name}:${name}`, { x: dx + dw - 12, y: HOST_Y + 72 }); // beside the label, not on it
    });

    const bridges = host.networks;
    const bw = (w - 24 - (bridges.length - 1) * 10) / bridges.length;
    bridges.forEach((hn, bi) => {
      const bx = x + 12 + bi * (bw + 10);
      body.push(box(bx, bridgeTop, bw, 40, 'bridge', `data-iface="${esc(`${host.name}:${hn.bridge}`)}"`, [hn.bridge, `${hn.bridgeIp} · bridge, the pods' gateway`]));
      anchors.set(`${host.name}:${hn.bridge}`, { x: bx + bw - 14, y: bridgeTop + 20 });
      bridgeY.set(`${host.name}:${hn.bridge}`, bridgeTop + 20);
    });
    host.pods.forEach((pod, pi) => {
      const px = x + 12 + pi * (POD_W + 12);
      const pcx = px + POD_W / 2;
      body.push(`<line class="veth" x1="${pcx}" y1="${bridgeTop + 40}" x2="${pcx}" y2="${podTop}"/>`);
      body.push(`<text x="${pcx + 4}" y="${bridgeTop + 66}" class="sub veth-label">${esc(pod.hostVeth)}</text>`);
      body.push(box(px, podTop, POD_W, 50, 'pod', `data-pod="${esc(`${host.name}/${pod.name}`)}"`, [pod.name, pod.ip]));
      anchors.set(`${host.name}/${pod.name}:eth0`, { x: pcx, y: podTop });
      anchors.set(`${host.name}:${pod.hostVeth}`, { x: pcx, y: bridgeTop + 56 });
    });
    x += w + GAP;
  });
  const deepest = Math.max(...[...anchors.values()].map((p) => p.y)) + 90;
  return { width, height: deepest, anchors, bridgeY, svgBody: body };
}

/** A trace drawn on the layout: a line through its hops, a numbered dot per hop, a ✕ at the drop. */
export function traceOverlay(layout: TopologyLayout, trace: TraceResult, index: number): string {
  const parts: string[] = [];
  const placed = new Map<string, number>();
  let prev: Point | undefined;
  const points: { hop: TraceResult['hops'][number]; at: Point }[] = [];
  for (const hop of trace.hops) {
    const key = `${hop.node}:${hop.iface}`;
    let at = layout.anchors.get(key);
    const y = layout.bridgeY.get(key);
    if (hop.direction === 'through' && y !== undefined && prev) at = { x: prev.x, y };
    if (!at) continue;
    const repeat = placed.get(key) ?? 0;
    placed.set(key, repeat + 1);
    const shifted = { x: at.x + repeat * 13 + index * 4, y: at.y + (hop.leg === 'reply' ? 12 : 0) };
    points.push({ hop, at: shifted });
    prev = shifted;
  }
  for (const leg of ['request', 'reply'] as const) {
    const line = points.filter((p) => p.hop.leg === leg).map((p) => `${p.at.x},${p.at.y}`);
    if (line.length > 1) parts.push(`<polyline class="trace-line ${leg}" points="${line.join(' ')}"/>`);
  }
  for (const p of points) {
    parts.push(
      `<g class="hop" data-hop="${p.hop.n}" data-at="${esc(`${p.hop.node}:${p.hop.iface}`)}"><title>${esc(`${p.hop.n}. ${p.hop.node}:${p.hop.iface} ${p.hop.direction}${p.hop.change ? ` — ${p.hop.change}` : ''}`)}</title>` +
        `<circle cx="${p.at.x}" cy="${p.at.y}" r="8"/><text x="${p.at.x}" y="${p.at.y + 3.5}" text-anchor="middle">${p.hop.n}</text></g>`,
    );
  }
  if (trace.drop) {
    const key = `${trace.drop.node}:${trace.drop.iface}`;
    const found = layout.anchors.get(key) ?? points.at(-1)?.at;
    const at = found ? { x: found.x + 16, y: found.y } : undefined;
    if (at) {
      parts.push(
        `<g class="drop" data-drop="${esc(key)}"><title>${esc(`dropped at ${key}: ${trace.drop.reason}`)}</title>` +
          `<path d="M${at.x - 9},${at.y - 9} L${at.x + 9},${at.y + 9} M${at.x + 9},${at.y - 9} L${at.x - 9},${at.y + 9}"/></g>`,
      );
    }
  }
  return `<g class="trace trace-${index % 4}" data-trace="${index}">${parts.join('')}</g>`;
}

export function renderTopologySvg(lab: ResolvedLab, traces: TraceResult[] = []): string {
  const layout = layoutTopology(lab);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" role="img" aria-label="${esc(`lab ${lab.name}`)}">` +
    layout.svgBody.join('') +
    traces.map((t, i) => traceOverlay(layout, t, i)).join('') +
    '</svg>'
  );
}
