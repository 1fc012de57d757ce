// Ajv's errors → precise SpecIssues: one issue per real problem, pointing at the offending value
// or key. Errors are told apart by keyword and schemaPath — every string format is a definition
// (#/definitions/<format>/…, src/lab-spec/lab-schema.ts) — never by the text of Ajv's messages; the
// words come from the rules themselves (src/lab-spec/name-rules.ts).
import type { ErrorObject } from 'ajv';
import type { SpecIssue } from './spec-error.js';
import { isValidIpv4 } from '../shared/ipv4.js';
import { NAME_RULES, RESERVED_NODE_NAMES, TEXT_RULES, imageProblem, textProblem, type NameKind } from './name-rules.js';
import { refProblem } from './refs.js';
import { labSchema } from './schema-file.js';
import { closest } from './suggest.js';
import { formatPath } from './yaml-source.js';
import type { PathSeg, SpecSource } from './yaml-source.js';

/** One issue per problem Ajv found (empty when there were none). */
export function schemaIssues(data: unknown, errors: ErrorObject[], src: SpecSource): SpecIssue[] {
  if (errors.length === 0) return [];
  return new ErrorMapper(data, src, errors.map((e) => ({ ...e, schemaPath: absoluteSchemaPath(data, e) }))).run();
}

/**
 * Ajv compiles a definition that itself holds $refs (check, ping, packetMatch) as a function of
 * its own, and reports schemaPaths inside it relative to it ("#/oneOf"); definitions without refs
 * are inlined and keep "#/definitions/<name>/…". This makes every schemaPath absolute: the frame
 * of a relative one is the innermost such definition on the way from the root to the error's
 * instancePath.
 */
export function absoluteSchemaPath(data: unknown, e: ErrorObject): string {
  if (e.schemaPath.startsWith('#/definitions/')) return e.schemaPath;
  const frame = frameAt(data, pointerToPath(data, e.instancePath));
  return frame ? `#/definitions/${frame}${e.schemaPath.slice(1)}` : e.schemaPath;
}

let compiledApart: Set<string> | undefined;

/** The definitions Ajv compiles apart: those whose body holds a $ref. */
function definitionsCompiledApart(): Set<string> {
  if (!compiledApart) {
    const defs = (labSchema().definitions ?? {}) as Record<string, unknown>;
    compiledApart = new Set(Object.entries(defs).filter(([, d]) => JSON.stringify(d).includes('"$ref"')).map(([k]) => k));
  }
  return compiledApart;
}

function frameAt(data: unknown, path: readonly PathSeg[]): string | undefined {
  let node = labSchema() as Record<string, unknown> | undefined;
  let frame: string | undefined;
  let value: unknown = data;
  const enter = () => {
    while (node && typeof node.$ref === 'string') {
      const name = /^#\/definitions\/(.+)$/.exec(node.$ref)?.[1];
      if (name && definitionsCompiledApart().has(name)) frame = name;
      node = schemaAt(node.$ref) as Record<string, unknown> | undefined;
    }
    if (node && Array.isArray(node.anyOf) && node.type === undefined && node.properties === undefined) {
      // A value that may be a string or a mapping (a pod): follow the branch of its type.
      const t = jsonType(value);
      const branch = (node.anyOf as Record<string, unknown>[]).find((b) => {
        const d = typeof b.$ref === 'string' ? (schemaAt(b.$ref) as Record<string, unknown>) : b;
        return d?.type === undefined || (typeof d.type === 'string' && typeMatches(d.type, t === 'object' ? 'object' : t));
      });
      if (branch) node = branch;
      while (node && typeof node.$ref === 'string') {
        const name = /^#\/definitions\/(.+)$/.exec(node.$ref)?.[1];
        if (name && definitionsCompiledApart().has(name)) frame = name;
        node = schemaAt(node.$ref) as Record<string, unknown> | undefined;
      }
    }
  };
  enter();
  for (const seg of path) {
    if (!node) break;
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[seg] : undefined;
    if (typeof seg === 'number') node = node.items as Record<string, unknown> | undefined;
    else node = ((node.properties as Record<string, unknown> | undefined)?.[seg] ?? node.additionalProperties) as Record<string, unknown> | undefined;
    if (node && typeof node !== 'object') node = undefined;
    enter();
  }
  return frame;
}

interface Located {
  path: PathSeg[];
  message: string;
  hint?: string;
  anchor?: 'value' | 'key';
  /** Where to point when that differs from `path` (a missing key: its parent mapping). */
  at?: PathSeg[];
}

/** The definition a schemaPath lies in, and the keyword path inside it: "#/definitions/cidr/pattern" → ["cidr", "pattern"]. */
export function definitionOf(schemaPath: string): { definition?: string; rest: string } {
  const m = /^#\/definitions\/([^/]+)\/(.*)$/.exec(schemaPath);
  return m ? { definition: m[1]!, rest: m[2]! } : { rest: schemaPath.replace(/^#\//, '') };
}

/** The subschema at a schemaPath ("#/definitions/ping/properties/count/maximum" → that object). */
function schemaAt(pointer: string): unknown {
  let cur: unknown = labSchema();
  for (const raw of pointer.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** The schema object holding the failing keyword. */
const parentSchemaOf = (e: ErrorObject) => (schemaAt(e.schemaPath.slice(0, e.schemaPath.lastIndexOf('/'))) ?? {}) as Record<string, unknown>;

const NAME_DEFINITIONS: Record<string, NameKind> = { labName: 'lab', nodeName: 'node', podName: 'pod', networkName: 'network', ifaceName: 'iface', serviceName: 'service', namespaceName: 'namespace', servicePortName: 'servicePort', segmentName: 'segment' };

class ErrorMapper {
  private readonly dropped = new Set<ErrorObject>();
  private readonly out: Located[] = [];

  constructor(
    private readonly data: unknown,
    private readonly src: SpecSource,
    private readonly errors: ErrorObject[],
  ) {}

  run(): SpecIssue[] {
    this.combinators();
    for (const e of this.errors) {
      if (this.dropped.has(e)) continue;
      const loc = this.describe(e);
      if (loc) this.out.push(loc);
    }
    return this.out.map((l) => {
      const issue = this.src.issue(l.at ?? l.path, l.message, l.hint, l.anchor ?? 'value');
      issue.path = formatPath(l.path);
      return issue;
    });
  }

  private segs(e: ErrorObject): PathSeg[] {
    return pointerToPath(this.data, e.instancePath);
  }

  private valueOf(e: ErrorObject): unknown {
    return getAt(this.data, this.segs(e));
  }

  /** Handles errors of anyOf / oneOf / if / not: decides which branch the user meant. */
  private combinators(): void {
    for (const e of this.errors) {
      if (e.keyword === 'if') this.dropped.add(e);
    }
    for (const e of this.errors) {
      if (this.dropped.has(e)) continue;
      const path = this.segs(e);
      const v = this.valueOf(e);
      const isMapping = v !== null && typeof v === 'object' && !Array.isArray(v);
      const { definition, rest } = definitionOf(e.schemaPath);
      // Checks and faults are keyed kinds (src/lab-spec/keyed-kinds.ts): exactly one kind key each.
      const checkOneOf = (definition === 'check' || definition === 'fault') && rest === 'oneOf';
      const entry = definition === 'fault' ? 'fault' : 'check';
      const captureAnyOf = definition === 'check' && rest === 'properties/capture/anyOf';
      if ((checkOneOf || captureAnyOf) && !isMapping) {
        // `required` holds vacuously for non-mappings; the type error says what is wrong.
        this.dropped.add(e);
        continue;
      }
      if (checkOneOf) {
        // A check has exactly one kind key: drop the per-branch "required" errors.
        for (const s of this.errors) {
          if (s.instancePath === e.instancePath && s.keyword === 'required' && s.schemaPath.startsWith(`${e.schemaPath}/`)) this.dropped.add(s);
        }
        this.dropped.add(e);
        const kinds = ((schemaAt(e.schemaPath) ?? []) as { required: string[] }[]).map((b) => b.required[0]!);
        const present = kinds.filter((k) => Object.prototype.hasOwnProperty.call(v, k));
        if (present.length > 1) {
          this.out.push({
            path: [...path, present[1]!],
            anchor: 'key',
            message: `a ${entry} has one kind, but this one has ${present.map((k) => `"${k}"`).join(' and ')}.`,
            hint: `Split it into one ${entry} per kind.`,
          });
        } else {
          this.out.push({
            path,
            message: `a ${entry} needs one of ${kinds.map((k) => `"${k}"`).join(', ')}.`,
            hint: entry === 'check' ? 'Add e.g. ping: {from: ..., to: ...} or capture: {on: ..., during: ..., expect: [...]}.' : 'Add e.g. link-down: {on: host1:eth0} (`overlab fault add --help` lists what each kind takes).',
          });
        }
      } else if (captureAnyOf) {
        for (const s of this.errors) {
          if ((s.instancePath === e.instancePath || s.instancePath.startsWith(`${e.instancePath}/`)) && s.schemaPath.startsWith(`${e.schemaPath}/`)) this.dropped.add(s);
        }
        this.dropped.add(e);
        this.out.push({
          path,
          message: 'a capture needs at least one "expect" or "absent" entry.',
          hint: 'Add expect: [{...}] (packets that must be seen) or absent: [{...}] (packets that must not).',
        });
      } else if (e.keyword === 'anyOf') {
        this.anyOfByType(e, path, v);
      }
    }
  }

  /** A value that may be one of several types: keep only the errors of the branch matching its type. */
  private anyOfByType(e: ErrorObject, path: PathSeg[], v: unknown): void {
    const t = jsonType(v);
    const raw = (schemaAt(e.schemaPath) ?? []) as Record<string, unknown>[];
    // An inlined $ref branch reports its errors under the definition's path, not under anyOf/<i>.
    const branches = raw.map((b, i) => ({
      prefix: typeof b.$ref === 'string' ? `${b.$ref}/` : `${e.schemaPath}/${i}/`,
      type: (this.deref(b) as { type?: string } | undefined)?.type,
    }));
    let kept = 0;
    for (const s of this.errors) {
      if (s === e || this.dropped.has(s)) continue;
      if (s.instancePath === e.instancePath) {
        const branch = branches.find((b) => s.schemaPath.startsWith(b.prefix));
        if (!branch) continue;
        if (branch.type !== undefined && !typeMatches(branch.type, t)) this.dropped.add(s);
        else kept++;
      } else if (s.instancePath.startsWith(`${e.instancePath}/`)) {
        kept++;
      }
    }
    this.dropped.add(e);
    if (kept > 0) return;
    const field = path[path.length - 1];
    const types = branches.map((b) => b.type ?? 'value');
    let expected = types.map(typeName).join(' or ');
    if (field === 'icmpType') expected = 'echo-request, echo-reply, unreachable or a whole number 0..255';
    else if (typeof field === 'number' && path[path.length - 2] === 'pods') expected = 'a pod name or a mapping with "name"';
    this.out.push({ path, message: `expected ${expected}, found ${describeValue(v)}.` });
  }

  private deref(schema: unknown): unknown {
    if (schema && typeof schema === 'object' && '$ref' in schema) return schemaAt(String((schema as { $ref: string }).$ref));
    return schema;
  }

  private describe(e: ErrorObject): Located | undefined {
    if (e.keyword === 'propertyNames') return undefined; // its inner error names the key
    // An error about a mapping's key (propertyNames): point at the key, judge the key's text.
    const key = (e as { propertyName?: string }).propertyName;
    const path = key === undefined ? this.segs(e) : [...this.segs(e), key];
    const field = path[path.length - 1];
    const v = key === undefined ? this.valueOf(e) : key;
    const keyAnchor = key === undefined ? {} : { anchor: 'key' as const };
    const { definition, rest } = definitionOf(e.schemaPath);
    switch (e.keyword) {
      case 'type': {
        if (path.length === 0)
          return { path, message: `a lab spec is a mapping (name:, hosts:, ...), but this file holds ${describeValue(v)}.` };
        const type = String((e.params as { type: string }).type);
        return { path, message: `expected ${typeName(type)}, found ${describeValue(v)}.`, hint: typeHint(type, v) };
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        return { path: [...path, missing], at: path, message: `"${missing}" is required.`, hint: requiredHint(path, missing) };
      }
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = Object.keys((parentSchemaOf(e).properties ?? {}) as Record<string, unknown>);
        return { path: [...path, key], anchor: 'key', message: `unknown key ${JSON.stringify(key)}.`, hint: unknownKeyHint(path, key, allowed) };
      }
      case 'enum': {
        const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
        if (definition === 'nodeName' && rest === 'not/enum') return undefined; // the `not` error says it
        if (field === 'icmpType')
          return { path, message: `${describeScalar(v)} is not an ICMP type; use echo-request, echo-reply, unreachable or a number 0..255.` };
        const close = typeof v === 'string' ? closest(v, allowed) : undefined;
        return { path, message: `${describeScalar(v)} is not one of ${allowed.join(', ')}.`, hint: close ? `Did you mean "${close}"?` : undefined };
      }
      case 'pattern':
        return { path, ...keyAnchor, ...patternMessage(definition, String(v), path) };
      case 'maxLength':
      case 'minLength': {
        const s = String(v);
        const limit = (e.params as { limit: number }).limit;
        if (e.keyword === 'minLength') return { path, message: 'must not be empty.' };
        if (definition === 'description' || definition === 'checkName') {
          const rule = TEXT_RULES[definition];
          return { path, message: `${textProblem(definition, s) ?? `${rule.what} is too long`}.`, hint: 'Shorten it.' };
        }
        if (definition === 'image') return { path, message: `${imageProblem(s)}.` };
        if (definition === 'ref') return { path, message: `${JSON.stringify(s.slice(0, 40))}… is ${[...s].length} characters; a reference has at most ${limit}.` };
        return { path, ...keyAnchor, message: `${JSON.stringify(s)} is ${[...s].length} characters; ${lengthReason(definition, limit)}.`, hint: 'Use a shorter name.' };
      }
      case 'minimum':
      case 'maximum': {
        if (field === 'vni') return { path, message: `${String(v)} is out of range; a VXLAN VNI is 24 bits (0..16777215).` };
        if (field === 'icmpType') return { path, message: `${String(v)} is out of range; ICMP types are 0..255.` };
        const ps = parentSchemaOf(e);
        return { path, message: `${String(v)} is out of range; ${String(field)} must be between ${ps.minimum as number} and ${ps.maximum as number}.` };
      }
      case 'minItems': {
        const limit = (e.params as { limit: number }).limit;
        if (field === 'hosts') return { path, message: 'a lab needs at least one host.' };
        if (field === 'networks')
          return { path, message: 'the list is empty; a lab needs at least one pod network.', hint: 'Add a network, or leave "networks" out for the default one.' };
        return { path, message: `needs at least ${limit} ${limit === 1 ? 'entry' : 'entries'}.` };
      }
      case 'maxItems': {
        const limit = (e.params as { limit: number }).limit;
        const n = Array.isArray(v) ? v.length : 0;
        if (field === 'hosts') return { path, message: `${n} hosts are too many; a lab has at most ${limit}.` };
        return { path, message: `${n} entries are too many; at most ${limit}.` };
      }
      case 'false schema': {
        const key = String(field);
        const parent = getAt(this.data, path.slice(0, -1)) as { backend?: string } | undefined;
        const shown = parent?.backend === undefined ? 'none (the default)' : parent.backend;
        if (key === 'vni')
          return { path, anchor: 'key', message: `"vni" only applies to the vxlan backend, but this network's backend is ${shown}.`, hint: 'Remove vni, or set backend: vxlan.' };
        if (key === 'port')
          return { path, anchor: 'key', message: `"port" only applies to the vxlan and udp backends, but this network's backend is ${shown}.`, hint: 'Remove port, or set backend: vxlan or udp.' };
        return { path, anchor: 'key', message: `"${key}" is not allowed here.` };
      }
      case 'not':
        if (path.length === 0)
          return {
            path: ['networks'],
            anchor: 'key',
            message: '"network" and "networks" are both given.',
            hint: 'Use "network" for one pod network or "networks" for several, not both.',
          };
        if (definition === 'nodeName') {
          const name = String(v);
          return { path, message: `"${name}" is reserved: ${RESERVED_NODE_NAMES[name] ?? 'overlab uses it'}.`, hint: 'Use another name.' };
        }
        return { path, message: `${describeScalar(v)} is not allowed here.` };
      default:
        return { path, message: `${describeScalar(v)} does not fit the schema (${e.keyword} at ${e.schemaPath}).` };
    }
  }
}

/** JSON pointer ("/hosts/1/name") → path segments, with numbers for array indexes. */
export function pointerToPath(data: unknown, pointer: string): PathSeg[] {
  if (pointer === '') return [];
  const out: PathSeg[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

export function getAt(data: unknown, path: readonly PathSeg[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(schemaType: string, actual: string): boolean {
  return schemaType === actual || (schemaType === 'number' && actual === 'integer');
}

function typeName(t: string): string {
  switch (t) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'nothing';
    default:
      return t;
  }
}

/** "the string \"x\"", "the number 5", "a list", "a mapping", "nothing". */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary data';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : typeof v;
}

function describeScalar(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined) return String(v);
  return describeValue(v);
}

function typeHint(expected: string, v: unknown): string | undefined {
  if (expected === 'boolean' && typeof v === 'string' && /^(yes|no|on|off|y|n|true|false)$/i.test(v))
    return 'Write true or false (YAML 1.2 reads yes/no/on/off as strings).';
  if ((expected === 'integer' || expected === 'number') && typeof v === 'string' && /^-?\d+$/.test(v.trim())) return 'Remove the quotes.';
  return undefined;
}

function requiredHint(path: PathSeg[], missing: string): string | undefined {
  if (path.length === 0 && missing === 'hosts') return 'Add hosts: [{name: host1}].';
  if (path.length === 0 && missing === 'name') return 'Add name: <lab-name> at the top.';
  if (path[0] === 'networks' && missing === 'cidr') return 'Each network in "networks" needs its own cidr, e.g. cidr: 10.1.0.0/16.';
  if (path[0] === 'nodes' && missing === 'role') return 'Add role: outside or role: router.';
  return undefined;
}

function unknownKeyHint(path: PathSeg[], key: string, allowed: string[]): string | undefined {
  if (path.length === 1 && path[0] === 'network' && key === 'name')
    return 'The single network is always named "default"; use "networks" for named networks.';
  const close = closest(key, allowed);
  if (close) return `Did you mean "${close}"?`;
  return allowed.length ? `Allowed here: ${allowed.join(', ')}.` : undefined;
}

/** What kind of node name sits at `path`: "host" or "node" (both use the nodeName definition). */
function memberWord(path: readonly PathSeg[]): string {
  return path[0] === 'hosts' ? 'host' : 'node';
}

function lengthReason(definition: string | undefined, limit: number): string {
  if (definition === 'labName') return `lab names are at most ${limit} (they become part of Docker container names)`;
  if (definition === 'ifaceName') return `Linux interface names are at most ${limit}`;
  if (definition === 'networkName') return `network names are at most ${limit}`;
  if (definition === 'serviceName' || definition === 'namespaceName') return `Kubernetes allows at most ${limit} (a DNS label)`;
  if (definition === 'servicePortName') return `Kubernetes allows at most ${limit} (an IANA service name)`;
  return `Linux interface and namespace names are at most ${limit}`;
}

function patternMessage(definition: string | undefined, v: string, path: PathSeg[]): { message: string; hint?: string } {
  const q = JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  const kind = definition ? NAME_DEFINITIONS[definition] : undefined;
  if (kind !== undefined && kind !== 'iface') {
    const rule = NAME_RULES[kind];
    const what = kind === 'node' ? memberWord(path) : kind;
    const suggestion = v.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
    const hint = suggestion && suggestion !== v && rule.pattern.test(suggestion) && suggestion.length <= rule.maxBytes ? `Try "${suggestion}".` : undefined;
    const ascii = /[^\x20-\x7e]/.test(v) ? 'only ASCII ' : '';
    if (kind === 'service' || kind === 'namespace' || kind === 'servicePort') return { message: `${q} is not ${rule.what}; use ${ascii}${rule.rule}.`, hint };
    return { message: `${q} is not a valid ${what} name; use ${ascii}lower-case letters, digits and "-", starting with a letter.`, hint };
  }
  switch (definition) {
    case 'ifaceName':
      return { message: `${q} is not a valid Linux interface name; use ${NAME_RULES.iface.rule}.` };
    case 'cidr':
      if (isValidIpv4(v)) return { message: `${q} has no prefix length.`, hint: `Write the network with its length, e.g. "${v}/24".` };
      return { message: `${q} is not a valid IPv4 network; write it in CIDR notation, e.g. "10.1.0.0/16".` };
    case 'ipv4':
      if (/^[\d.]+\/\d+$/.test(v)) return { message: `${q} is a network, not an address.`, hint: `Write just the address, e.g. "${v.split('/')[0]}".` };
      return { message: `${q} is not a valid IPv4 address.` };
    case 'ref':
      return {
        message: `${refProblem(v) ?? `${q} is not a valid reference`}.`,
        hint: 'Use host, host/pod, node, host:iface, host/pod:iface, an IPv4 address or a MAC address.',
      };
    case 'image':
      return { message: `${imageProblem(v) ?? `${q} is not an image reference`}.` };
    case 'podRef':
      return { message: `${q} is not a pod; write <host>/<pod>.` };
    case 'description':
    case 'checkName':
      return { message: `${textProblem(definition, v) ?? `${q} is not allowed`}.`, hint: 'Remove the control characters (terminal escapes, line breaks in a name).' };
    default:
      return { message: `${q} does not have the expected form.` };
  }
}
