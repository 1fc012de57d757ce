// The report's diagram of a lab across engines: a frame per engine (its name, how it is reached,
// its machine's address) holding exactly the hosts and nodes placed on it, its own switch, and the
// stitched VXLAN tunnels between the switches with VNI and UDP port. One engine: no frame at all.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { layoutTopology, renderTopologySvg } from '../../src/report/html/topology-svg.js';
import { stitchVni } from '../../src/plan/engine-placement.js';

const SPEC = `name: spread
engines:
  a: { host: unix:///var/run/docker.sock, address: 10.0.0.1 }
  b: { host: ssh://me@10.0.0.2 }
  c: { context: lab-c, address: 10.0.0.3 }
network: { backend: vxlan, controlPlane: etcd }
hosts:
  - { name: h1, pods: [p1] }
  - { name: h2, pods: [p1] }
  - { name: h3, pods: [p1] }
  - { name: h4, pods: [p1, p2] }
nodes:
  - { name: out, role: outside, engine: c }
`;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The first rect of each `<g class="…" data-attr="value">` in the SVG. */
function boxes(svg: string, cls: string, attr: string): Map<string, Box> {
  const found = new Map<string, Box>();
  const re = new RegExp(`<g class="${cls}"[^>]* ${attr}="([^"]+)"[^>]*><rect x="([\\d.]+)" y="([\\d.]+)" width="([\\d.]+)" height="([\\d.]+)"`, 'g');
  for (const m of svg.matchAll(re)) found.set(m[1]!, { x: Number(m[2]), y: Number(m[3]), width: Number(m[4]), height: Number(m[5]) });
  return found;
}

const inside = (inner: Box, outer: Box) => inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

describe('the report draws a lab across engines', () => {
  const lab = resolveLab(parseLabSpec(SPEC, '/labs/spread.yaml'), { takenSubnets: [] });
  const svg = renderTopologySvg(lab);

  it('a frame per engine, labelled with its name, endpoint and address, holding exactly the nodes placed on it', () => {
    const frames = boxes(svg, 'engine', 'data-engine');
    expect([...frames.keys()]).toEqual(['a', 'b', 'c']);
    expect(svg).toContain('engine a (primary)</text><text');
    expect(svg).toContain('>unix:///var/run/docker.sock · address 10.0.0.1</text>');
    expect(svg).toContain('>ssh://me@10.0.0.2 · address 10.0.0.2</text>');
    expect(svg).toContain('>context lab-c · address 10.0.0.3</text>');
    const nodes = new Map([...boxes(svg, 'node host', 'data-node'), ...boxes(svg, 'node external [a-z]+', 'data-node')]);
    const placed = [...lab.hosts, ...lab.externals].map((n) => [n.name, n.engine!] as const);
    expect(placed).toEqual([['h1', 'a'], ['h2', 'b'], ['h3', 'c'], ['h4', 'a'], ['out', 'c'], ['etcd', 'a']]);
    for (const [node, engine] of placed) {
      for (const [name, frame] of frames) expect(inside(nodes.get(node)!, frame), `${node} inside engine ${name}`).toBe(name === engine);
    }
    // Each engine's own switch, inside its frame.
    const switches = boxes(svg, 'switch', 'data-node');
    expect([...switches.keys()]).toEqual(['switch', 'switch@b', 'switch@c']);
    expect(inside(switches.get('switch@c')!, frames.get('c')!)).toBe(true);
  });

  it('the stitched tunnels between every pair of switches, with VNI and UDP port', () => {
    const vni = stitchVni('spread');
    const tunnels = [...svg.matchAll(/<g class="tunnel" data-tunnel="([^"]+)" data-vni="(\d+)" data-port="(\d+)">(.*?)<\/g>/g)];
    expect(tunnels.map((t) => `${t[1]} ${t[2]} ${t[3]}`)).toEqual([`a-b ${vni} 14789`, `a-c ${vni} 14789`, `b-c ${vni} 14789`]);
    expect(tunnels[0]![4]).toContain(`<title>stitched: VXLAN VNI ${vni} · UDP 14789, engine a (10.0.0.1) ↔ engine b (10.0.0.2)</title>`);
    // Side by side: across with its label; a and c (not side by side): over the frames.
    expect(tunnels[0]![4]).toContain(`>VXLAN VNI ${vni}</text>`);
    expect(tunnels[1]![4]).toMatch(/<polyline points=/);
    expect(tunnels[1]![4]).toContain(`>VXLAN VNI ${vni} · UDP 14789</text>`);
  });

  it('a trace\'s hops across engines have their places: each switch\'s ports and its tunnel end', () => {
    const { anchors } = layoutTopology(lab);
    for (const key of ['switch:h1', 'switch@b:h2', 'switch@c:h3', 'switch@c:out', 'switch@b:underlay', 'switch:stitch', 'switch@b:stitch']) expect(anchors.has(key), key).toBe(true);
  });

  it('one engine: no frame and no tunnel, one switch', () => {
    const one = renderTopologySvg(resolveLab(parseLabSpec(SPEC.replace(/^engines:\n(?: {2}.*\n)+/m, '').replace(', engine: c', ''), '/labs/one.yaml'), { takenSubnets: [] }));
    expect(one).not.toContain('class="engine"');
    expect(one).not.toContain('class="tunnel"');
    expect([...boxes(one, 'switch', 'data-node').keys()]).toEqual(['switch']);
  });
});
