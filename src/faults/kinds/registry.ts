// Every fault kind, in the order the schema and `overlab fault add --help` list them. A new kind
// is one module in this folder plus one line here (src/faults/README.md).
import { blockKind } from './block.js';
import { stopAgentKind, stopEtcdKind } from './daemons.js';
import { detachKind } from './detach.js';
import { forwardingOffKind, noMasqueradeKind } from './forwarding.js';
import { linkDownKind } from './link-down.js';
import { lossKind } from './loss.js';
import { mtuKind } from './mtu.js';
import { delayKind, jitterKind } from './netem.js';
import { partitionKind } from './partition.js';
import { pauseKind } from './pause.js';
import { rateKind } from './rate.js';
import { delRouteKind, rerouteKind } from './routes.js';
import { delFdbKind, delNeighKind, vniKind } from './vxlan-state.js';

export const FAULT_KINDS = [
  linkDownKind,
  detachKind,
  mtuKind,
  lossKind,
  rateKind,
  delayKind,
  jitterKind,
  partitionKind,
  blockKind,
  delRouteKind,
  rerouteKind,
  delFdbKind,
  delNeighKind,
  vniKind,
  forwardingOffKind,
  noMasqueradeKind,
  stopAgentKind,
  stopEtcdKind,
  pauseKind,
] as const;

export type FaultKindEntry = (typeof FAULT_KINDS)[number];
export type FaultKey = FaultKindEntry['key'];

const BY_KEY = new Map<string, FaultKindEntry>(FAULT_KINDS.map((k) => [k.key, k]));

export function faultKindOf(key: string): FaultKindEntry | undefined {
  return BY_KEY.get(key);
}
