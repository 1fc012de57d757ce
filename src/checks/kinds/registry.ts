// Every check kind, in the order the schema lists them. A new kind is one module in this folder
// plus one line here (README.md beside this file shows how).
import { agentCostKind } from './agent-cost.js';
import { captureKind } from './capture.js';
import { kernelKind } from './kernel.js';
import { leaseKind } from './lease.js';
import { linkKind } from './link.js';
import { pingKind } from './ping.js';
import { traceKind } from './trace.js';

export const CHECK_KINDS = [pingKind, captureKind, kernelKind, leaseKind, agentCostKind, traceKind, linkKind] as const;

export type CheckKindEntry = (typeof CHECK_KINDS)[number];
export type CheckKey = CheckKindEntry['key'];

const BY_KEY = new Map<string, CheckKindEntry>(CHECK_KINDS.map((k) => [k.key, k]));

/** The kind registered under `key` (a CheckSpec's `kind`). */
export function checkKindOf(key: string): CheckKindEntry | undefined {
  return BY_KEY.get(key);
}
