// Pure: which engine each node of a lab runs on, and the tunnels that join the engines' switches.
// Hosts pinned with `engine:` stay there; the others are dealt out in spec order (first host →
// first engine, second → second, …); external nodes and etcd go on the first engine (the
// primary), which also keeps the lab's model, marker and lock. One engine, or none named: the
// lab is as it always was (no engine fields at all).
import { createHash } from 'node:crypto';
import type { EngineSpec, LabSpec } from '../lab-spec/lab-spec.js';
import { containerName, SWITCH_NODE } from './container-names.js';
import { inputError } from '../base/errors.js';

/** What the switches of a lab are found from: its underlay's switch and its engines. */
interface SwitchesOf {
  underlay: { switchContainer: string };
  engines?: ResolvedEngine[];
}

/** The default UDP port of the tunnels between engines (containerlab's choice: 4789 is often
 * filtered, and Calico drops it). */
export const DEFAULT_STITCH_PORT = 14789;
/** The tunnel device inside each switch, enslaved to its underlay bridge. */
export const STITCH_DEVICE = 'stitch';

export interface ResolvedEngine {
  name: string;
  host?: string;
  context?: string;
  certPath?: string;
  tlsVerify?: boolean;
  /** The engine machine's IPv4 address the tunnels end at; '' until `up` has found it. */
  address: string;
  /** This engine's switch: the primary's is the lab's switch. */
  switchContainer: string;
}

export interface ResolvedStitch {
  vni: number;
  port: number;
  /** The device's name while it is briefly in the engine machine's own namespace (unique per lab
   * there), before it moves into the switch and is renamed `stitch`. */
  transitName: string;
  /** Whether vni/port came from the spec (a collision message names the field either way). */
  fromSpec: { vni: boolean; port: boolean };
}

export function engineSwitchContainer(lab: string, engine: string, primary: boolean): string {
  return primary ? containerName(lab, SWITCH_NODE) : containerName(lab, `${SWITCH_NODE}-${engine}`);
}

/** A VNI from the lab's name: stable, spread over 2..2^24-1 (1 is flannel's own default). */
export function stitchVni(lab: string): number {
  const h = createHash('sha256').update(`overlab-stitch:${lab}`).digest();
  return (h.readUInt32BE(0) % (0xffffff - 1)) + 2;
}

function hostIpLiteral(host: string | undefined): string {
  const m = /^(?:tcp|ssh):\/\/(?:[^@/]*@)?(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?\/?$/.exec(host ?? '');
  return m?.[1] ?? '';
}

export function resolveEngines(lab: string, engines: EngineSpec[]): ResolvedEngine[] {
  return engines.map((e, i) => ({
    name: e.name,
    ...(e.host !== undefined ? { host: e.host } : {}),
    ...(e.context !== undefined ? { context: e.context } : {}),
    ...(e.certPath !== undefined ? { certPath: e.certPath } : {}),
    ...(e.tlsVerify !== undefined ? { tlsVerify: e.tlsVerify } : {}),
    address: e.address ?? hostIpLiteral(e.host),
    switchContainer: engineSwitchContainer(lab, e.name, i === 0),
  }));
}

export function resolveStitch(spec: LabSpec): ResolvedStitch {
  const vni = spec.stitch?.vni ?? stitchVni(spec.name);
  const port = spec.stitch?.port ?? DEFAULT_STITCH_PORT;
  const transitName = `olst${createHash('sha256').update(spec.name).digest('hex').slice(0, 8)}`;
  return { vni, port, transitName, fromSpec: { vni: spec.stitch?.vni !== undefined, port: spec.stitch?.port !== undefined } };
}

/** Node name → engine name, for a spec with several engines. */
export function placeNodes(spec: LabSpec): Map<string, string> {
  const engines = spec.engines ?? [];
  const placed = new Map<string, string>();
  if (engines.length === 0) return placed;
  const primary = engines[0]!.name;
  spec.hosts.forEach((h, i) => placed.set(h.name, h.engine ?? engines[i % engines.length]!.name));
  for (const n of spec.externals) placed.set(n.name, n.engine ?? primary);
  placed.set('etcd', primary);
  return placed;
}

/** The engine a host joining a running lab (`node add`) goes to, and why that one. */
export interface JoiningEngine {
  engine: string;
  /** 'asked': named with --engine; 'in turn': dealt as the spec's order deals hosts. */
  chosen: 'asked' | 'in turn';
}

/** An engine name as `--engine` takes it: what a spec's engines: may be called. */
const ENGINE_NAME = /^[a-z][a-z0-9-]{0,14}$/;

/** An engine name given on the command line, checked before anything is asked of an engine. */
export function assertEngineName(value: string, where: string): string {
  if (!ENGINE_NAME.test(value)) throw inputError(`${where}: ${JSON.stringify(value.slice(0, 40))} is not an engine name`, 'an engine name is a lowercase letter, then lowercase letters, digits or -, at most 15 in all');
  return value;
}

/**
 * The engine of a host joining a lab: the one asked for, which must be one of the lab's; without
 * one, on a lab across engines, the next in turn as the spec's order deals hosts out (the lab's
 * k-th host, counted from 0, on engine k mod n). A lab on one engine: none (it is as it always was).
 */
export function joiningEngine(lab: { name: string; hosts: readonly unknown[]; engines?: readonly { name: string }[] }, asked?: string): JoiningEngine | undefined {
  const names = (lab.engines ?? []).map((e) => e.name);
  if (asked !== undefined) {
    assertEngineName(asked, '--engine');
    if (names.length <= 1) throw inputError(`--engine ${asked}: lab ${lab.name} runs on one engine, not across engines`, 'add the host without --engine (a lab spreads over engines when it is brought up with them: `engines:` in its spec, or `overlab up … --engine NAME=ENDPOINT`)');
    if (!names.includes(asked)) throw inputError(`--engine ${asked}: lab ${lab.name} has no engine "${asked}"`, `its engines: ${names.join(', ')}`);
    return { engine: asked, chosen: 'asked' };
  }
  if (names.length <= 1) return undefined;
  return { engine: names[lab.hosts.length % names.length]!, chosen: 'in turn' };
}

/** Where a stitch helper finds the switch's network namespace (bound read-only). */
export const SWITCH_NETNS = '/run/overlab/switch.netns';

/** The MTU inside a lab whose underlay crosses the tunnels: VXLAN over IPv4 costs 50 bytes. */
export const VXLAN_OVERHEAD = 50;

/** The largest VNI (24 bits). */
const MAX_VNI = 0xffffff;

/** One tunnel between the engines' switches: a bridge of the underlay (each segment's, on a
 * routed underlay) joined across engines on a VNI of its own. */
export interface StitchTunnel {
  bridge: string;
  /** The segment whose bridge it joins (a routed underlay). */
  segment?: string;
  vni: number;
  /** Its name in the switch: `stitch`, then `stitch1`, `stitch2`, … for later segments. */
  device: string;
  /** Its name while it is briefly in the engine machine's own namespace. */
  transitName: string;
}

/** The VNI of a lab's k-th segment: the lab's VNI, then the next ones (a derived VNI wraps within
 * 2..2^24-1; a VNI from the spec is checked to leave room: segment-rules.ts). */
export function segmentVni(stitch: Pick<ResolvedStitch, 'vni' | 'fromSpec'>, k: number): number {
  if (stitch.fromSpec.vni) return stitch.vni + k;
  return ((stitch.vni - 2 + k) % (MAX_VNI - 1)) + 2;
}

/** Every tunnel of a lab across engines: one for the underlay's bridge, or one per segment. */
export function stitchTunnels(lab: { underlay: { bridge: string; segments?: { name: string; bridge: string }[] }; stitch?: ResolvedStitch }): StitchTunnel[] {
  const st = lab.stitch;
  if (!st) return [];
  const bridges = lab.underlay.segments?.map((s) => ({ bridge: s.bridge, segment: s.name })) ?? [{ bridge: lab.underlay.bridge }];
  return bridges.map((b, k) => ({
    ...b,
    vni: segmentVni(st, k),
    device: k === 0 ? STITCH_DEVICE : `${STITCH_DEVICE}${k}`,
    transitName: k === 0 ? st.transitName : `${st.transitName}${k}`,
  }));
}

/** The helper's work on one engine (it runs in the engine machine's network namespace): the
 * tunnel device made there, moved into this engine's switch at once, renamed `stitch`, enslaved
 * to the underlay bridge, and one flooding entry per other engine (a full mesh of point-to-point
 * tunnels: a frame never comes back through a tunnel, so no loop and no STP). */
export function stitchPlan(lab: { underlay: { mtu: number; bridge: string; segments?: { name: string; bridge: string }[] }; engines?: ResolvedEngine[]; stitch?: ResolvedStitch }, engine: string, helper: string): { node: string; container: string; lines: ({ comment: string } | { argv: string[] })[] } {
  const engines = lab.engines ?? [];
  const me = engines.find((e) => e.name === engine)!;
  const st = lab.stitch!;
  const inSwitch = ['nsenter', `--net=${SWITCH_NETNS}`];
  const lines: ({ comment: string } | { argv: string[] })[] = [];
  for (const t of stitchTunnels(lab)) {
    const what = t.segment ? `segment ${t.segment}'s bridge` : 'the underlay';
    lines.push(
      { comment: `engine ${engine}: ${what} joined to the other engines' switches (VXLAN ${t.vni}, UDP ${st.port}), the device made in this machine's namespace and moved into the switch` },
      { argv: ['ip', 'link', 'add', 'name', t.transitName, 'type', 'vxlan', 'id', String(t.vni), 'dstport', String(st.port), 'local', me.address, 'nolearning'] },
      { argv: ['ip', 'link', 'set', 'dev', t.transitName, 'netns', SWITCH_NETNS] },
      { argv: [...inSwitch, 'ip', 'link', 'set', 'dev', t.transitName, 'name', t.device] },
      { argv: [...inSwitch, 'ip', 'link', 'set', 'dev', t.device, 'mtu', String(lab.underlay.mtu), 'master', t.bridge, 'up'] },
    );
    for (const peer of engines) {
      if (peer.name === engine) continue;
      lines.push({ argv: [...inSwitch, 'bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', t.device, 'dst', peer.address] });
    }
  }
  return { node: `stitch on ${engine}`, container: helper, lines };
}

/** The switch a node is cabled to: the lab's (`switch`), or on a lab across engines, its
 * engine's — `switch@<engine>` for every engine but the primary. */
export function switchKeyOf(lab: SwitchesOf, engine: string | undefined): string {
  const primary = lab.engines?.[0]?.name;
  return engine === undefined || primary === undefined || engine === primary ? SWITCH_NODE : `${SWITCH_NODE}@${engine}`;
}

/** Every switch of the lab: its namespace key, container and engine (one, unless across engines). */
export function labSwitches(lab: SwitchesOf): { key: string; container: string; engine?: string }[] {
  if (!lab.engines?.length) return [{ key: SWITCH_NODE, container: lab.underlay.switchContainer }];
  return lab.engines.map((e) => ({ key: switchKeyOf(lab, e.name), container: e.switchContainer, engine: e.name }));
}
