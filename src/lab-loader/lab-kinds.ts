// The kinds a lab spec may use: every check kind and every fault kind. The language below
// (src/lab-spec/) takes them as a parameter; this is where they are put together with it.
import { CHECK_KINDS } from '../checks/check-kinds.js';
import { FAULT_KINDS } from '../faults/fault-kinds.js';
import type { LabKinds } from '../lab-spec/keyed-kinds.js';

export const LAB_KINDS: LabKinds = { checks: CHECK_KINDS, faults: FAULT_KINDS };
