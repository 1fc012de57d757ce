import { existsSync, mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, labSchema } from '../../src/lab-spec/schema-file.js';
import { schemaFileText, validatorModuleText } from '../../src/lab-loader/lab-schema-build.js';
import { NAME_RULES, RESERVED_NODE_NAMES } from '../../src/lab-spec/name-rules.js';
import { CHECK_KINDS } from '../../src/checks/check-kinds.js';

type S = Record<string, unknown>;

/** Every subschema with its JSON-pointer-ish location. */
function walk(node: unknown, at: string, visit: (s: S, at: string) => void): void {
  if (Array.isArray(node)) {
    node.forEach((n, i) => walk(n, `${at}/${i}`, visit));
    return;
  }
  if (!node || typeof node !== 'object') return;
  visit(node as S, at);
  for (const [k, v] of Object.entries(node as S)) {
    if (k === 'enum' || k === 'default' || k === 'required' || k === 'const') continue;
    walk(v, `${at}/${k}`, visit);
  }
}

describe('schema/lab.schema.json', () => {
  const schema = labSchema();
  const defs = schema.definitions as Record<string, S>;
  const target = (s: S): S => (typeof s.$ref === 'string' ? (defs[s.$ref.replace('#/definitions/', '')] ?? {}) : s);

  it('is the one generated from src/lab-spec/lab-schema.ts (run `npm run build` after changing the schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaFileText());
  });

  it('takes its name rules from src/lab-spec/name-rules.ts', () => {
    for (const [def, kind] of [['labName', 'lab'], ['nodeName', 'node'], ['podName', 'pod'], ['networkName', 'network'], ['ifaceName', 'iface']] as const) {
      expect(defs[def]?.pattern, def).toBe(NAME_RULES[kind].schemaPattern);
      expect(defs[def]?.maxLength, def).toBe(NAME_RULES[kind].maxBytes);
    }
    expect((defs.nodeName?.not as S).enum).toEqual(Object.keys(RESERVED_NODE_NAMES));
  });

  it('has one check property per registered check kind, exactly one required', () => {
    const check = defs.check as S;
    expect(Object.keys(check.properties as S)).toEqual(['name', 'description', ...CHECK_KINDS.map((k) => k.key)]);
    expect(check.oneOf).toEqual(CHECK_KINDS.map((k) => ({ required: [k.key] })));
  });

  it('the precompiled validator (Ajv standalone code) agrees with the schema on every fixture', async () => {
    // Inside the package, so the generated code's require('ajv/dist/runtime/…') resolves as it does in dist/.
    const dir = mkdtempSync(join(process.cwd(), 'node_modules', '.overlab-validator-'));
    const file = join(dir, 'lab-validator.cjs');
    try {
      writeFileSync(file, validatorModuleText());
      const standalone = createRequire(import.meta.url)(file) as (d: unknown) => boolean;
      const compiled = new Ajv({ allErrors: true, strict: false }).compile(schema);
      const fixtures = ['test/fixtures/specs/good', 'test/fixtures/specs/bad', 'labs'].flatMap((d) => readdirSync(d).map((f) => `${d}/${f}`));
      let invalid = 0;
      for (const f of fixtures) {
        let data: unknown;
        try {
          data = parse(readFileSync(f, 'utf8'));
        } catch {
          continue;
        }
        const a = standalone(data);
        expect(a, f).toBe(compiled(data));
        if (!a) invalid++;
      }
      expect(invalid).toBeGreaterThan(10); // the bad fixtures the schema alone refuses
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is found relative to the package root', () => {
    expect(SCHEMA_FILE).toBe(resolve('schema/lab.schema.json'));
    expect(existsSync(SCHEMA_FILE)).toBe(true);
  });

  it('closes every mapping definition with additionalProperties: false (the subnets map is keyed by network name)', () => {
    const open: string[] = [];
    walk(schema, '#', (s, at) => {
      if (s.type === 'object' && s.properties && s.additionalProperties !== false) open.push(at);
    });
    expect(open).toEqual([]);
  });

  it('describes every property', () => {
    const missing: string[] = [];
    walk(schema, '#', (s, at) => {
      if (s.type !== 'object' || !s.properties) return;
      for (const [name, prop] of Object.entries(s.properties as Record<string, S>)) {
        if (!prop.description && !target(prop).description) missing.push(`${at}/properties/${name}`);
      }
    });
    expect(missing).toEqual([]);
  });

  it('lists the model enums', () => {
    const props = schema.properties as Record<string, S>;
    const net = (props.network as S).properties as Record<string, S>;
    expect(net.backend?.enum).toEqual(['none', 'host-gw', 'vxlan', 'udp', 'bgp']);
    expect(net.controlPlane?.enum).toEqual(['static', 'etcd']);
    const match = defs.packetMatch?.properties as Record<string, S>;
    expect(match.proto?.enum).toEqual(['icmp', 'arp', 'udp', 'tcp', 'vxlan', 'flannel-udp', 'ipv4']);
  });

  it('accepts the good fixtures with a plain validator, as an editor would, via their $schema comment', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
    const dir = 'test/fixtures/specs/good';
    for (const f of readdirSync(dir)) {
      const text = readFileSync(`${dir}/${f}`, 'utf8');
      const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
      expect(m, f).not.toBeNull();
      expect(resolve(dirname(`${dir}/${f}`), m![1]!)).toBe(SCHEMA_FILE);
      expect(validate(parse(text)), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('rejects the shapes the format forbids', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
    const base = { name: 'x', hosts: [{ name: 'host1' }] };
    expect(validate(base)).toBe(true);
    expect(validate({ ...base, network: {}, networks: [{ name: 'a', cidr: '10.0.0.0/8' }] })).toBe(false);
    expect(validate({ ...base, network: { backend: 'host-gw', vni: 2 } })).toBe(false);
    expect(validate({ ...base, network: { backend: 'vxlan', vni: 2, port: 4789 } })).toBe(true);
    expect(validate({ ...base, network: { backend: 'udp', port: 9000 } })).toBe(true);
    expect(validate({ ...base, network: { port: 9000 } })).toBe(false);
    expect(validate({ ...base, checks: [{ name: 'c' }] })).toBe(false);
    expect(validate({ ...base, checks: [{ name: 'c', capture: { on: 'host1:eth0', during: { ping: { from: 'host1', to: 'host1' } }, expect: [] } }] })).toBe(false);
    expect(validate({ ...base, checks: [{ name: 'c', capture: { on: 'host1:eth0', during: { ping: { from: 'host1', to: 'host1' } }, absent: [{}] } }] })).toBe(true);
    expect(validate({ ...base, hosts: [{ name: 'a'.repeat(16) }] })).toBe(false);
    expect(validate({ ...base, hosts: [{ name: 'host1', pods: ['p', { name: 'q', ip: '172.16.1.2', network: 'default' }] }] })).toBe(true);
  });
});
