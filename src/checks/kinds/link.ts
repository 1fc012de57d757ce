// link: one interface's kernel state — up or down, its MTU, the bridge it is a port of — read
// with `ip -j link show dev <iface>` where it lives (a host, a pod or a node). The check that pins
// what a behaviour cannot: an MTU that only matters for large packets, a port on the right bridge.
import type { LinkCheckSpec } from '../../lab-spec/lab-spec.js';
import { defineCheckKind } from '../check-kind.js';

export interface LinkObservation {
  exists: boolean;
  up?: boolean;
  mtu?: number;
  master?: string;
}

/** Pure: the fields of `ip -j link show dev X` this check compares. */
export function parseLink(stdout: string): LinkObservation {
  const [link] = JSON.parse(stdout || '[]') as { flags?: string[]; mtu?: number; master?: string }[];
  if (!link) return { exists: false };
  return { exists: true, up: (link.flags ?? []).includes('UP'), ...(link.mtu !== undefined ? { mtu: link.mtu } : {}), ...(link.master ? { master: link.master } : {}) };
}

export const linkKind = defineCheckKind({
  key: 'link',
  label: 'link',
  summary: 'link: {on, up|mtu|master}',
  schema: (k) =>
    k.T.Object(
      {
        on: k.ref('The interface: host:iface, host/pod:iface or node:iface.'),
        up: k.T.Optional(k.T.Boolean({ description: 'Whether it must be up (true) or down (false).' })),
        mtu: k.T.Optional(k.T.Integer({ minimum: 68, maximum: 65535, description: 'The MTU it must have.' })),
        master: k.T.Optional(k.ifaceName('The bridge it must be a port of.')),
      },
      {
        additionalProperties: false,
        anyOf: [{ required: ['up'] }, { required: ['mtu'] }, { required: ['master'] }],
        description: "One interface's kernel state: up/down, MTU, bridge port (ip -j link).",
      },
    ),
  resolve: (raw, scope, at): LinkCheckSpec => {
    scope.iface(raw.on, [...at, 'on']);
    return { on: raw.on, ...(raw.up !== undefined ? { up: raw.up } : {}), ...(raw.mtu !== undefined ? { mtu: raw.mtu } : {}), ...(raw.master !== undefined ? { master: raw.master } : {}) };
  },
  footprint: (spec, names) => ({ nodes: names.nodesOf(spec.on), captures: [] }),
  run: async (spec, { runtime, names }, signal): Promise<LinkObservation> => {
    const { inEndpoint } = await import('../../probes/endpoint.js');
    const target = names.captureTarget(spec.on);
    const r = await runtime.exec(target.container, inEndpoint(target, ['ip', '-j', 'link', 'show', 'dev', target.iface]), signal ? { signal } : {});
    return r.exitCode === 0 ? parseLink(r.stdout) : { exists: false };
  },
  verdict: (spec, o) => {
    if (!o.exists) return { status: 'fail', seen: `${spec.on}: no such interface`, reason: `${spec.on} does not exist`, details: {} };
    const seen = `${spec.on}: ${o.up ? 'up' : 'down'}, mtu ${o.mtu}${o.master ? `, port of ${o.master}` : ''}`;
    const wrong: string[] = [];
    if (spec.up !== undefined && o.up !== spec.up) wrong.push(`it is ${o.up ? 'up' : 'down'}, expected ${spec.up ? 'up' : 'down'}`);
    if (spec.mtu !== undefined && o.mtu !== spec.mtu) wrong.push(`its MTU is ${o.mtu}, expected ${spec.mtu}`);
    if (spec.master !== undefined && o.master !== spec.master) wrong.push(o.master ? `it is a port of ${o.master}, expected ${spec.master}` : `it is a port of no bridge, expected ${spec.master}`);
    return wrong.length ? { status: 'fail', seen, reason: `${spec.on}: ${wrong.join('; ')}`, details: { ...o } } : { status: 'pass', seen, details: { ...o } };
  },
});
