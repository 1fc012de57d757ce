// After the schema pass, the parts of a spec that are well-formed, so the rules (names,
// addresses, references) can run on them in the same pass — `validate` reports every problem at
// once, like a compiler — without a malformed part causing follow-on errors elsewhere: a broken
// declaration is left out (a hole), and its name is remembered so references to it stay quiet.
import type { ErrorObject } from 'ajv';
import type { RawCheck, RawEngine, RawFault, RawHost, RawLab, RawNetwork, RawNode, RawPod, RawService } from './lab-schema.js';
import { noGaps, type ScopeGaps } from './spec-scope.js';
import { pointerToPath } from './schema-issues.js';
import type { PathSeg } from './yaml-source.js';

export type DraftHost = Omit<RawHost, 'pods'> & { pods?: (RawPod | string | undefined)[] };

/** A spec's data with malformed entries replaced by holes (`undefined`), indexes kept for positions. */
export interface DraftLab {
  name?: string;
  description?: string;
  image?: string;
  network?: RawNetwork;
  networks?: (RawNetwork | undefined)[];
  underlay?: RawLab['underlay'];
  hosts: (DraftHost | undefined)[];
  nodes?: (RawNode | undefined)[];
  checks?: (RawCheck | undefined)[];
  faults?: (RawFault | undefined)[];
  proxyMode?: RawLab['proxyMode'];
  serviceCIDR?: string;
  services?: (RawService | undefined)[];
  engines?: Record<string, RawEngine | undefined>;
  stitch?: RawLab['stitch'];
}

export interface Draft {
  lab: DraftLab;
  gaps: ScopeGaps;
  /** Networks (by index; the single form is 0) whose declaration had errors: their cidr is unknown. */
  brokenNetworks: Set<number>;
  /** underlay.subnet had errors: addresses cannot be checked against it. */
  underlayUnknown: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const nameOf = (v: unknown): string | undefined => (isObject(v) && typeof v.name === 'string' ? v.name : typeof v === 'string' ? v : undefined);

/** The well-formed parts of `data` given the schema's errors; undefined when nothing is (not a mapping). */
export function draftFrom(data: unknown, errors: readonly ErrorObject[]): Draft | undefined {
  if (!isObject(data)) return undefined;
  const lab = structuredClone(data) as Record<string, unknown>;
  const gaps = noGaps();
  const brokenNetworks = new Set<number>();
  let underlayUnknown = false;
  const holes: PathSeg[][] = [];

  const brokenMember = (entry: unknown) => {
    const n = nameOf(entry);
    if (n === undefined) gaps.anyMember = true;
    else gaps.members.add(n);
  };

  for (const e of errors) {
    const path = pointerToPath(data, e.instancePath);
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      holes.push([...path, key]);
      continue;
    }
    const [a, b, c, d] = path;
    if (path.length === 0) {
      if (e.keyword === 'required' && (e.params as { missingProperty: string }).missingProperty === 'hosts') gaps.anyMember = true;
      if (e.keyword === 'not') {
        gaps.anyNetwork = true;
        holes.push(['network']);
      }
      continue;
    }
    if (a === 'name' || a === 'description' || a === 'image') holes.push([a]);
    else if (a === 'network') {
      brokenNetworks.add(0);
      gaps.networks.add('default');
    } else if (a === 'networks') {
      if (typeof b === 'number') {
        brokenNetworks.add(b);
        const n = nameOf((data.networks as unknown[])[b]);
        if (n === undefined) gaps.anyNetwork = true;
        else gaps.networks.add(n);
      } else {
        gaps.anyNetwork = true;
        holes.push(['networks']);
      }
    } else if (a === 'underlay') {
      if (b === 'subnet' || b === undefined) underlayUnknown = true;
      holes.push(b === undefined ? ['underlay'] : ['underlay', b]);
    } else if (a === 'hosts' || a === 'nodes') {
      const list = data[a];
      if (typeof b !== 'number') {
        gaps.anyMember = true;
        holes.push([a]);
      } else if (a === 'hosts' && c === 'pods' && typeof d === 'number') {
        const host = nameOf((list as unknown[])[b]);
        const pod = nameOf(((list as Record<string, unknown>[])[b]!.pods as unknown[])[d]);
        if (host !== undefined && pod !== undefined) gaps.pods.add(`${host}/${pod}`);
        else if (host !== undefined) gaps.hostsWithUnnamedPods.add(host);
        holes.push(path.slice(0, 4));
      } else {
        brokenMember((list as unknown[])[b]);
        holes.push([a, b]);
      }
    } else if (a === 'checks' || a === 'faults') {
      holes.push(typeof b === 'number' ? [a, b] : [a]);
    } else if (a === 'services') {
      const n = typeof b === 'number' ? nameOf((data.services as unknown[])[b]) : undefined;
      if (n === undefined) gaps.anyService = true;
      else gaps.services.add(n);
      holes.push(typeof b === 'number' ? [a, b] : [a]);
    } else if (a === 'proxyMode' || a === 'serviceCIDR') {
      holes.push([a]);
    }
  }
  for (const hole of holes) punch(lab, hole);
  if (!Array.isArray(lab.hosts)) lab.hosts = [];
  return { lab: lab as unknown as DraftLab, gaps, brokenNetworks, underlayUnknown };
}

/** Removes the value at `path`: a list item becomes undefined (indexes stay), a key is deleted. */
function punch(root: Record<string, unknown>, path: PathSeg[]): void {
  let cur: unknown = root;
  for (const seg of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(cur) && typeof last === 'number') cur[last] = undefined;
  else if (isObject(cur)) delete cur[last as string];
}
