// Every check kind, in the order the schema lists them. A new kind is one module in this folder
// plus one line here (README.md beside this file shows how).
import { agentCostKind } from './kinds/agent-cost.js';
import { bgpKind } from './kinds/bgp.js';
import { captureKind } from './kinds/capture.js';
import { kernelKind } from './kinds/kernel.js';
import { leaseKind } from './kinds/lease.js';
import { linkKind } from './kinds/link.js';
import { pingKind } from './kinds/ping.js';
import { serviceKind } from './kinds/service.js';
import { traceKind } from './kinds/trace.js';

export const CHECK_KINDS = [pingKind, captureKind, kernelKind, leaseKind, agentCostKind, traceKind, linkKind, serviceKind, bgpKind] as const;

export type CheckKindEntry = (typeof CHECK_KINDS)[number];

const BY_KEY = new Map<string, CheckKindEntry>(CHECK_KINDS.map((k) => [k.key, k]));

/** The kind registered under `key` (a CheckSpec's `kind`). */
export function checkKindOf(key: string): CheckKindEntry | undefined {
  return BY_KEY.get(key);
}
