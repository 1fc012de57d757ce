// JSON Schema validation of a spec's data (schema/lab.schema.json), turning Ajv's errors into
// precise SpecIssues: one issue per real problem, pointing at the offending value or key.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { SpecIssue } from './errors.js';
import { isValidIpv4 } from './ipv4.js';
import { refProblem } from './refs.js';
import { closest } from './suggest.js';
import { formatPath } from './source.js';
import type { PathSeg, SpecSource } from './source.js';

/** Absolute path of schema/lab.schema.json (src/spec/schema.ts and dist/spec/schema.js are both two levels below the package root). */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/lab.schema.json', import.meta.url));

/** Patterns used in the schema, to recognise which kind of string failed. */
export const NAME_PATTERN = '^[a-z][a-z0-9-]*$';

let compiled: { schema: Record<string, unknown>; validate: ValidateFunction } | undefined;

/** The lab JSON Schema, read from disk once. */
export function labSchema(): Record<string, unknown> {
  return compile().schema;
}

function compile(): { schema: Record<string, unknown>; validate: ValidateFunction } {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
    compiled = { schema, validate: ajv.compile(schema) };
  }
  return compiled;
}

/** Validates `data` against the schema; returns one issue per problem (empty when valid). */
export function schemaIssues(data: unknown, src: SpecSource): SpecIssue[] {
  const { validate } = compile();
  if (validate(data)) return [];
  const errors = [...(validate.errors ?? [])];
  const mapper = new ErrorMapper(data, src, errors);
  return mapper.run();
}

type Json = unknown;

interface Located {
  path: PathSeg[];
  message: string;
  hint?: string;
  anchor?: 'value' | 'key';
  /** Where to point when that differs from `path` (a missing key: its parent mapping). */
  at?: PathSeg[];
}

class ErrorMapper {
  private readonly dropped = new Set<ErrorObject>();
  private readonly out: Located[] = [];

  constructor(
    private readonly data: Json,
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

  /** Handles errors of anyOf / oneOf / if / not: decides which branch the user meant. */
  private combinators(): void {
    for (const e of this.errors) {
      if (e.keyword === 'if') this.dropped.add(e);
    }
    for (const e of this.errors) {
      if (this.dropped.has(e)) continue;
      const path = this.segs(e);
      const last = path[path.length - 1];
      const isMapping = e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data);
      if ((e.keyword === 'oneOf' || (e.keyword === 'anyOf' && last === 'capture')) && !isMapping) {
        // `required` holds vacuously for non-mappings; the type error says what is wrong.
        this.dropped.add(e);
        continue;
      }
      if (e.keyword === 'oneOf') {
        // The only oneOf: a check has exactly one of ping / capture.
        for (const s of this.errors) {
          if (s.instancePath === e.instancePath && /\/oneOf\/\d+\/required$/.test(s.schemaPath)) this.dropped.add(s);
        }
        this.dropped.add(e);
        const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
        if (passing && passing.length > 1) {
          this.out.push({
            path: [...path, 'capture'],
            anchor: 'key',
            message: 'a check has either "ping" or "capture", not both.',
            hint: 'Split it into two checks.',
          });
        } else {
          this.out.push({
            path,
            message: 'a check needs "ping" or "capture".',
            hint: 'Add ping: {from: ..., to: ...} or capture: {on: ..., during: ..., expect: [...]}.',
          });
        }
      } else if (e.keyword === 'anyOf' && last === 'capture') {
        for (const s of this.errors) {
          if (
            (s.instancePath === e.instancePath || s.instancePath.startsWith(`${e.instancePath}/`)) &&
            /\/anyOf\/\d+\/(required$|properties\/(expect|absent)\/)/.test(s.schemaPath)
          )
            this.dropped.add(s);
        }
        this.dropped.add(e);
        this.out.push({
          path,
          message: 'a capture needs at least one "expect" or "absent" entry.',
          hint: 'Add expect: [{...}] (packets that must be seen) or absent: [{...}] (packets that must not).',
        });
      } else if (e.keyword === 'anyOf') {
        this.anyOfByType(e, path);
      }
    }
  }

  /** A value that may be one of several types: keep only the errors of the branch matching its type. */
  private anyOfByType(e: ErrorObject, path: PathSeg[]): void {
    const t = jsonType(e.data);
    const branches = ((e.schema as unknown[]) ?? []).map((b) => this.resolve(b));
    let kept = 0;
    for (const s of this.errors) {
      if (s === e || this.dropped.has(s)) continue;
      if (s.instancePath === e.instancePath) {
        const bt = (s.parentSchema as { type?: string } | undefined)?.type;
        if (bt !== undefined && !typeMatches(bt, t)) this.dropped.add(s);
        else kept++;
      } else if (s.instancePath.startsWith(`${e.instancePath}/`)) {
        kept++;
      }
    }
    this.dropped.add(e);
    if (kept > 0) return;
    const field = path[path.length - 1];
    const types = branches.map((b) => (b as { type?: string }).type ?? 'value');
    let expected = types.map(typeName).join(' or ');
    if (field === 'icmpType') expected = 'echo-request, echo-reply, unreachable or a whole number 0..255';
    else if (typeof field === 'number' && path[path.length - 2] === 'pods') expected = 'a pod name or a mapping with "name"';
    this.out.push({ path, message: `expected ${expected}, found ${describeValue(e.data)}.` });
  }

  private resolve(schema: unknown): unknown {
    if (schema && typeof schema === 'object' && '$ref' in schema) {
      const ref = String((schema as { $ref: string }).$ref);
      const m = /^#\/definitions\/(.+)$/.exec(ref);
      const defs = (compile().schema.definitions ?? {}) as Record<string, unknown>;
      if (m && m[1] !== undefined) return defs[m[1]];
    }
    return schema;
  }

  private describe(e: ErrorObject): Located | undefined {
    const path = this.segs(e);
    const field = fieldName(path);
    const ps = (e.parentSchema ?? {}) as Record<string, unknown>;
    const v = e.data;
    switch (e.keyword) {
      case 'type': {
        if (path.length === 0)
          return { path, message: `a lab spec is a mapping (name:, hosts:, ...), but this file holds ${describeValue(v)}.` };
        const expected = typeName(String((e.params as { type: string }).type));
        return { path, message: `expected ${expected}, found ${describeValue(v)}.`, hint: typeHint(String((e.params as { type: string }).type), v) };
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        return { path: [...path, missing], at: path, message: `"${missing}" is required.`, hint: requiredHint(path, missing) };
      }
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = Object.keys((ps.properties ?? {}) as Record<string, unknown>);
        return { path: [...path, key], anchor: 'key', message: `unknown key "${key}".`, hint: unknownKeyHint(path, key, allowed) };
      }
      case 'enum': {
        const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
        if (field === 'icmpType')
          return { path, message: `${describeScalar(v)} is not an ICMP type; use echo-request, echo-reply, unreachable or a number 0..255.` };
        const close = typeof v === 'string' ? closest(v, allowed) : undefined;
        return {
          path,
          message: `${describeScalar(v)} is not one of ${allowed.join(', ')}.`,
          hint: close ? `Did you mean "${close}"?` : undefined,
        };
      }
      case 'pattern':
        return { path, ...patternMessage(String(ps.pattern), String(v), path, ps) };
      case 'maxLength': {
        const s = String(v);
        const limit = (e.params as { limit: number }).limit;
        return { path, message: `${JSON.stringify(s)} is ${[...s].length} characters; ${lengthReason(path, limit)}.`, hint: 'Use a shorter name.' };
      }
      case 'minLength':
        return { path, message: `must not be empty.` };
      case 'minimum':
      case 'maximum': {
        if (field === 'vni') return { path, message: `${String(v)} is out of range; a VXLAN VNI is 24 bits (0..16777215).` };
        const min = ps.minimum as number | undefined;
        const max = ps.maximum as number | undefined;
        if (field === 'icmpType') return { path, message: `${String(v)} is out of range; ICMP types are 0..255.` };
        return { path, message: `${String(v)} is out of range; ${field} must be between ${min} and ${max}.` };
      }
      case 'minItems': {
        const limit = (e.params as { limit: number }).limit;
        if (field === 'hosts') return { path, message: 'a lab needs at least one host.' };
        if (field === 'networks') return { path, message: 'the list is empty; a lab needs at least one pod network.', hint: 'Add a network, or leave "networks" out for the default one.' };
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
        const backend = parent?.backend ?? 'none';
        const shown = parent?.backend === undefined ? 'none (the default)' : backend;
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
        return { path, message: `${sentenceOf(e.message)}` };
      default:
        return { path, message: sentenceOf(e.message) };
    }
  }
}

function sentenceOf(m: string | undefined): string {
  const s = (m ?? 'is invalid').trim();
  return s.endsWith('.') ? s : `${s}.`;
}

/** JSON pointer ("/hosts/1/name") → path segments, with numbers for array indexes. */
export function pointerToPath(data: Json, pointer: string): PathSeg[] {
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

export function getAt(data: Json, path: readonly PathSeg[]): unknown {
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
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return String(v);
}

function describeScalar(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function typeHint(expected: string, v: unknown): string | undefined {
  if (expected === 'boolean' && typeof v === 'string' && /^(yes|no|on|off|y|n|true|false)$/i.test(v))
    return 'Write true or false (YAML 1.2 reads yes/no/on/off as strings).';
  if ((expected === 'integer' || expected === 'number') && typeof v === 'string' && /^-?\d+$/.test(v.trim()))
    return 'Remove the quotes.';
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

/** The last non-index segment of a path: "name", "cidr", ... */
function fieldName(path: PathSeg[]): PathSeg | undefined {
  return path[path.length - 1];
}

/** What kind of name sits at `path`, for messages. */
export function nameKind(path: readonly PathSeg[]): string {
  const [a, , c] = path;
  if (path.length === 1 && a === 'name') return 'lab';
  if (a === 'hosts' && c === 'name') return 'host';
  if (a === 'hosts' && c === 'pods') return path[path.length - 1] === 'network' ? 'network' : 'pod';
  if (a === 'nodes') return 'node';
  if (a === 'networks') return 'network';
  if (a === 'underlay') return 'node';
  return '';
}

function lengthReason(path: PathSeg[], limit: number): string {
  const kind = nameKind(path);
  if (kind === 'lab') return `lab names are at most ${limit} (they become part of Docker container names)`;
  if (path[path.length - 1] === 'bridge') return `Linux interface names are at most ${limit}`;
  if (kind === 'network') return `network names are at most ${limit}`;
  return `Linux interface and namespace names are at most ${limit}`;
}

function patternMessage(pattern: string, v: string, path: PathSeg[], ps: Record<string, unknown>): { message: string; hint?: string } {
  const q = JSON.stringify(v);
  if (pattern === NAME_PATTERN) {
    const kind = nameKind(path);
    const what = kind ? `${kind} name` : 'name';
    const suggestion = v.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
    const max = typeof ps.maxLength === 'number' ? ps.maxLength : 15;
    const hint =
      suggestion && suggestion !== v && new RegExp(NAME_PATTERN).test(suggestion) && suggestion.length <= max ? `Try "${suggestion}".` : undefined;
    return { message: `${q} is not a valid ${what}; use lower-case letters, digits and "-", starting with a letter.`, hint };
  }
  const field = path[path.length - 1];
  const kind = typeof field === 'string' ? field : path[path.length - 2];
  if (kind === 'bridge') return { message: `${q} is not a valid Linux interface name; it may not contain "/", ":" or spaces, nor be "." or "..".` };
  if (pattern.includes('/(?:3[0-2]')) {
    if (isValidIpv4(v)) return { message: `${q} has no prefix length.`, hint: `Write the network with its length, e.g. "${v}/24".` };
    return { message: `${q} is not a valid IPv4 network; write it in CIDR notation, e.g. "10.1.0.0/16".` };
  }
  if (pattern.includes('[0-9A-Fa-f]{2}')) {
    return {
      message: `${(refProblem(v) ?? `${q} is not a valid reference`)}.`,
      hint: 'Use host, host/pod, node, host:iface, host/pod:iface, an IPv4 address or a MAC address.',
    };
  }
  if (/^\^\(\?:\(\?:25/.test(pattern)) {
    if (/^[\d.]+\/\d+$/.test(v)) return { message: `${q} is a network, not an address.`, hint: `Write just the address, e.g. "${v.split('/')[0]}".` };
    return { message: `${q} is not a valid IPv4 address.` };
  }
  return { message: `${q} does not match the pattern ${pattern}.` };
}
