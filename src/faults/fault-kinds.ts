// Every fault kind, in the order the schema and `overlab fault add --help` list them. A new kind
// is one module in this folder plus one line here (src/faults/README.md).
import { blockKind } from './kinds/block.js';
import { cutTunnelKind } from './kinds/cut-tunnel.js';
import { bgpDropNeighbourKind, bgpExportFilterKind, bgpSessionDownKind, bgpWithdrawKind, bgpWrongAsKind, stopBirdKind, stopReflectorKind } from './kinds/bgp.js';
import { stopAgentKind, stopEtcdKind } from './kinds/daemons.js';
import { detachKind } from './kinds/detach.js';
import { forwardingOffKind, noMasqueradeKind } from './kinds/forwarding.js';
import { linkDownKind } from './kinds/link-down.js';
import { lossKind } from './kinds/loss.js';
import { mtuKind } from './kinds/mtu.js';
import { delayKind, jitterKind } from './kinds/netem.js';
import { partitionKind } from './kinds/partition.js';
import { pauseKind } from './kinds/pause.js';
import { rateKind } from './kinds/rate.js';
import { delRouteKind, rerouteKind } from './kinds/routes.js';
import { delFdbKind, delNeighKind, vniKind } from './kinds/vxlan-state.js';
import { noEndpointsKind, staleEndpointKind } from './kinds/service-endpoints.js';
import { bridgeNfOffKind, hairpinOffKind } from './kinds/service-bridge.js';
import { noServiceSnatKind } from './kinds/service-snat.js';

export const FAULT_KINDS = [
  linkDownKind,
  detachKind,
  mtuKind,
  lossKind,
  rateKind,
  delayKind,
  jitterKind,
  partitionKind,
  cutTunnelKind,
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
  bgpSessionDownKind,
  bgpWithdrawKind,
  stopBirdKind,
  stopReflectorKind,
  bgpWrongAsKind,
  bgpDropNeighbourKind,
  bgpExportFilterKind,
  noEndpointsKind,
  staleEndpointKind,
  bridgeNfOffKind,
  hairpinOffKind,
  noServiceSnatKind,
] as const;

export type FaultKindEntry = (typeof FAULT_KINDS)[number];

const BY_KEY = new Map<string, FaultKindEntry>(FAULT_KINDS.map((k) => [k.key, k]));

export function faultKindOf(key: string): FaultKindEntry | undefined {
  return BY_KEY.get(key);
}
