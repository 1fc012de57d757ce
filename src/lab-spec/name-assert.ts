// Names that enter from the command line (`node add`, `exec` targets, flags) meet the same rules
// as names in a spec (src/lab-spec/name-rules.ts). Each assert throws overlab's input error (exit 2)
// naming where the value came from and what would be right; otherwise it returns the value typed.
import { inputError } from '../base/errors.js';
import { NAME_RULES, bridgeNameProblem, nameProblem, newNodeNameProblem, type NameKind } from './name-rules.js';
import { parseRef, refProblem, type ParsedRef, type RefKind } from './refs.js';

/** A name of this kind, e.g. `assertName('pod', value, '--pods')`. */
export function assertName(kind: NameKind, value: unknown, where: string): string {
  const problem = nameProblem(kind, value);
  if (problem) throw inputError(`${where}: ${problem}`, `${NAME_RULES[kind].what} is ${NAME_RULES[kind].rule}, e.g. ${NAME_RULES[kind].example}`);
  return value as string;
}

/** A name for a node that does not exist yet (`node add`): also not one overlab reserves (switch, etcd, …). */
export function assertNewNodeName(value: unknown, where: string): string {
  const problem = newNodeNameProblem(value);
  if (problem) throw inputError(`${where}: ${problem}`, `a node name is ${NAME_RULES.node.rule}, e.g. ${NAME_RULES.node.example}`);
  return value as string;
}

/** A pod network's bridge name. */
export function assertBridgeName(value: unknown, where: string): string {
  const problem = bridgeNameProblem(value);
  if (problem) throw inputError(`${where}: ${problem}`, `e.g. cni0`);
  return value as string;
}

/** A reference (host, host/pod, node, host:iface, …) of one of the `allowed` kinds, parsed.
 * `externals` (external node names) tells a bare node from a host when known. */
export function assertRef(value: unknown, allowed: readonly RefKind[], where: string, externals?: Iterable<string>): ParsedRef {
  const text = typeof value === 'string' ? value : '';
  const parsed = typeof value === 'string' ? parseRef(value, externals) : undefined;
  if (!parsed) throw inputError(`${where}: ${typeof value === 'string' ? refProblem(text) : 'a reference must be a string'}`, `use ${allowed.map(refExample).join(', ')}`);
  // Without the external node names a bare name parses as a host; a node is allowed wherever a host is asked for by name.
  const kind = parsed.kind === 'host' && allowed.includes('node') && !allowed.includes('host') ? 'node' : parsed.kind;
  if (!allowed.includes(kind)) throw inputError(`${where}: ${JSON.stringify(text)} is ${kindWord(kind)}`, `use ${allowed.map(refExample).join(', ')}`);
  return parsed;
}

function refExample(kind: RefKind): string {
  switch (kind) {
    case 'host':
      return '<host>';
    case 'pod':
      return '<host>/<pod>';
    case 'node':
      return '<node>';
    case 'iface':
      return '<host>:<iface> or <host>/<pod>:<iface>';
    case 'ip':
      return 'an IPv4 address';
    case 'mac':
      return 'a MAC address';
  }
}

function kindWord(kind: RefKind): string {
  return { host: 'a host', pod: 'a pod', node: 'a node', iface: 'an interface', ip: 'an IPv4 address', mac: 'a MAC address' }[kind];
}

/** `<node>` or `<host>/<pod>` (an `exec` target from the command line), each part a valid name. */
export function checkedTarget(value: string, field = 'target'): string {
  const parts = value.split('/');
  if (parts.length > 2) throw inputError(`${field}: ${JSON.stringify(value)} is not <node> or <host>/<pod>`, 'e.g. host1/pod1');
  assertName('node', parts[0]!, field);
  if (parts.length === 2) assertName('pod', parts[1]!, field);
  return value;
}
