// The lab drawn as SVG: the underlay switch as a bar, external nodes (router, outside, etcd)
// above it, each host below as a box holding its flannel devices, bridges and pods (with their
// veth pairs), and every interface a trace can pass given an anchor point — so a trace's hops
// are drawn numbered on the interfaces, the answer dashed, the drop marked. A lab across
// engines: the same per engine, inside a frame naming the engine, with the stitched tunnels
// between the engines' switches. Pure.
import type { ResolvedLab } from '../../plan/resolved-lab.js';
import { isOverlay, vxlanDevice } from '../../plan/overlay.js';
import { stitchTunnels, switchKeyOf, type ResolvedEngine } from '../../plan/engine-placement.js';
import { SWITCH_NODE } from '../../plan/container-names.js';
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

interface Drawing {
  lab: ResolvedLab;
  body: string[];
  anchors: Map<string, Point>;
  bridgeY: Map<string, number>;
}

/** Width of a host's box: room for its pods. */
function hostWidth(host: ResolvedLab['hosts'][number]): number {
  return Math.max(HOST_W, host.pods.length * (POD_W + 12) + 24);
}

/** One host's box at x (width w), `dy` below where a lab on one engine has it, cabled to the
 * switch `switchKey` (`switch`, or `switch@<engine>` on a lab across engines). */
function drawHost({ lab, body, anchors, bridgeY }: Drawing, host: ResolvedLab['hosts'][number], x: number, w: number, dy: number, switchKey: string): void {
  const cx = x + w / 2;
  const top = HOST_Y + dy;
  const barBottom = BAR_Y + dy + BAR_H;
  const devices = lab.networks.filter(isOverlay).filter((n) => n.backend !== 'host-gw');
  const bridgeTop = top + 60 + (devices.length ? 56 : 0);
  const podTop = bridgeTop + 110;
  const height = podTop + 70 - top;
  body.push(`<line class="cable" x1="${cx}" y1="${barBottom}" x2="${cx}" y2="${top}"/>`);
  body.push(
    `<g class="node host" data-node="${esc(host.name)}"><rect x="${x}" y="${top}" width="${w}" height="${height}" rx="10"/>` +
      `<text x="${x + 12}" y="${top + 20}" class="label">${esc(host.name)}</text>` +
      `<text x="${x + 12}" y="${top + 36}" class="sub">${esc(`eth0 ${host.underlayIp} · ${host.underlayMac}`)}</text></g>`,
  );
  anchors.set(`${host.name}:eth0`, { x: cx, y: top });
  anchors.set(`${switchKey}:${host.name}`, { x: cx, y: barBottom });

  devices.forEach((network, di) => {
    const name = network.backend === 'vxlan' ? vxlanDevice(network) : 'flannel0';
    const dw = 168;
    const dx = x + 12 + di * (dw + 10);
    const what = network.backend === 'vxlan' ? `VTEP · VNI ${network.vni} · UDP ${network.port}` : `TUN → agent · UDP ${network.port}`;
    body.push(box(dx, top + 50, dw, 44, 'device', `data-iface="${esc(`${host.name}:${name}`)}"`, [name, what]));
    anchors.set(`${host.name}:${name}`, { x: dx + dw - 12, y: top + 72 }); // beside the label, not on it
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
}

export function layoutTopology(lab: ResolvedLab): TopologyLayout {
  if ((lab.engines?.length ?? 0) > 1) return layoutAcrossEngines(lab);
  const anchors = new Map<string, Point>();
  const bridgeY = new Map<string, number>();
  const body: string[] = [];
  const hostWidths = lab.hosts.map(hostWidth);
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
    drawHost({ lab, body, anchors, bridgeY }, host, x, w, 0, SWITCH_NODE);
    x += w + GAP;
  });
  const deepest = Math.max(...[...anchors.values()].map((p) => p.y)) + 90;
  return { width, height: deepest, anchors, bridgeY, svgBody: body };
}

/** Room above the frames for each tunnel between engines that are not side by side. */
const LANE_H = 26;
/** Room in a frame above its externals: the engine's name, endpoint and address. */
const FRAME_HEAD = 44;
/** Between two frames side by side: their tunnel and its label. */
const FRAME_GAP = 150;

function endpointOf(e: ResolvedEngine): string {
  return e.host ?? (e.context ? `context ${e.context}` : '');
}

/** A lab across engines: each engine a frame holding its switch (a bar), the external nodes
 * placed on it above and its hosts below — each where it runs —, labelled with its name, how it
 * is reached and its machine's address; the stitched VXLAN tunnels drawn between the switches
 * (side by side: straight across; farther: over the frames), each labelled with VNI and port. */
function layoutAcrossEngines(lab: ResolvedLab): TopologyLayout {
  const engines = lab.engines!;
  const anchors = new Map<string, Point>();
  const bridgeY = new Map<string, number>();
  const body: string[] = [];
  const drawing = { lab, body, anchors, bridgeY };
  const pairs = engines.flatMap((a, i) => engines.slice(i + 1).map((b, k) => ({ a, b, i, j: i + 1 + k })));
  const lanes = pairs.filter((p) => p.j > p.i + 1);
  const dy = lanes.length * LANE_H + FRAME_HEAD;
  const frameTop = lanes.length * LANE_H + 8;
  const groups = engines.map((e) => {
    const hosts = lab.hosts.filter((h) => h.engine === e.name);
    const externals = lab.externals.filter((x) => x.engine === e.name);
    const hostWidths = hosts.map(hostWidth);
    const hostsWidth = hostWidths.reduce((a, b) => a + b, 0) + GAP * Math.max(0, hosts.length - 1);
    const extWidth = externals.length * (EXT_W + GAP);
    return { engine: e, hosts, externals, hostWidths, hostsWidth, extWidth, width: Math.max(hostsWidth, extWidth, 400) + 40 };
  });
  const tunnels = stitchTunnels(lab);
  const port = lab.stitch?.port;
  const said = `VXLAN VNI ${tunnels.map((t) => t.vni).join(', ')} · UDP ${port}`;
  let left = 20;
  const frames = groups.map((g, gi) => {
    const frameX = left;
    left += g.width + FRAME_GAP;
    const key = switchKeyOf(lab, g.engine.name);
    const barX = frameX + 20;
    const barW = g.width - 40;
    const barY = BAR_Y + dy;
    const endpoint = endpointOf(g.engine);
    body.push(
      `<g class="engine" data-engine="${esc(g.engine.name)}"><rect x="${frameX}" y="${frameTop}" width="${g.width}" height="0" rx="12"/>` +
        `<text x="${frameX + 28}" y="${frameTop + 18}" class="label">${esc(`engine ${g.engine.name}${gi === 0 ? ' (primary)' : ''}`)}</text>` +
        `<text x="${frameX + 28}" y="${frameTop + 34}" class="sub">${esc([endpoint, g.engine.address ? `address ${g.engine.address}` : ''].filter(Boolean).join(' · '))}</text></g>`,
    );
    body.push(
      `<g class="switch" data-node="${esc(key)}"><rect x="${barX}" y="${barY}" width="${barW}" height="${BAR_H}" rx="6"/>` +
        `<text x="${barX + 10}" y="${barY + 15}" class="label">${esc(gi === 0 ? `underlay switch — bridge "${lab.underlay.bridge}", ${lab.underlay.subnet}` : `switch on ${g.engine.name} — bridge "${lab.underlay.bridge}"`)}</text></g>`,
    );
    bridgeY.set(`${key}:${lab.underlay.bridge}`, barY + 32);
    anchors.set(`${key}:${lab.underlay.bridge}`, { x: barX + barW / 2, y: barY + 32 });
    g.externals.forEach((e, i) => {
      const x = barX + i * (EXT_W + GAP) + (barW - g.extWidth + GAP) / 2;
      const cx = x + EXT_W / 2;
      body.push(`<line class="cable" x1="${cx}" y1="${EXT_Y + dy + EXT_H}" x2="${cx}" y2="${barY}"/>`);
      body.push(box(x, EXT_Y + dy, EXT_W, EXT_H, `node external ${esc(e.role)}`, `data-node="${esc(e.name)}"`, [e.name, `${e.role} · eth0 ${e.underlayIp}`]));
      anchors.set(`${e.name}:eth0`, { x: cx, y: EXT_Y + dy + EXT_H });
      anchors.set(`${key}:${e.name}`, { x: cx, y: barY });
    });
    let x = barX + (barW - g.hostsWidth) / 2;
    g.hosts.forEach((host, hi) => {
      drawHost(drawing, host, x, g.hostWidths[hi]!, dy, key);
      x += g.hostWidths[hi]! + GAP;
    });
    return { frameX, width: g.width, barX, barW, barY, key };
  });
  // Each frame as tall as the tallest: it holds everything drawn for its engine.
  const bottom = Math.max(...[...anchors.values()].map((p) => p.y)) + 80;
  for (let i = 0; i < body.length; i++) body[i] = body[i]!.replace(/^(<g class="engine"[^>]*><rect [^>]*height=")0"/, `$1${bottom - frameTop}"`);
  // The tunnels, after the frames so they are drawn over them.
  pairs.forEach(({ a, b, i, j }) => {
    const fa = frames[i]!;
    const fb = frames[j]!;
    const attrs = `data-tunnel="${esc(`${a.name}-${b.name}`)}" data-vni="${tunnels.map((t) => t.vni).join(',')}" data-port="${port}"`;
    const title = `<title>${esc(`stitched: ${said}, engine ${a.name} (${a.address || '?'}) ↔ engine ${b.name} (${b.address || '?'})`)}</title>`;
    if (j === i + 1) {
      const y = fa.barY + BAR_H / 2;
      const x1 = fa.barX + fa.barW;
      const x2 = fb.barX;
      body.push(
        `<g class="tunnel" ${attrs}>${title}<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}"/>` +
          `<text x="${(x1 + x2) / 2}" y="${y - 26}" text-anchor="middle" class="sub">${esc(`VXLAN VNI ${tunnels.map((t) => t.vni).join(', ')}`)}</text>` +
          `<text x="${(x1 + x2) / 2}" y="${y - 12}" text-anchor="middle" class="sub">${esc(`UDP ${port}`)}</text></g>`,
      );
      anchors.set(`${fa.key}:stitch`, { x: x1, y });
      anchors.set(`${fb.key}:stitch`, { x: x2, y });
    } else {
      const lane = lanes.findIndex((l) => l.i === i && l.j === j);
      const y = 8 + lane * LANE_H + LANE_H / 2;
      const x1 = fa.frameX + fa.width - 14;
      const x2 = fb.frameX + 14;
      body.push(
        `<g class="tunnel" ${attrs}>${title}<polyline points="${x1},${fa.barY} ${x1},${y} ${x2},${y} ${x2},${fb.barY}"/>` +
          `<text x="${(x1 + x2) / 2}" y="${y - 4}" text-anchor="middle" class="sub">${esc(said)}</text></g>`,
      );
    }
  });
  return { width: left - FRAME_GAP + 20, height: bottom + 10, anchors, bridgeY, svgBody: body };
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
