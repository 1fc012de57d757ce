import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseAgentConfig, validateAgentConfig } from '../../src/agent/config.js';

const GOOD = {
  host: 'host1',
  publicIp: '192.168.50.2',
  underlayIface: 'eth0',
  underlayMtu: 1500,
  etcdEndpoints: ['http://192.168.50.250:2379'],
  prefix: '/coreos.com/network',
  leaseTtlSeconds: 86400,
  logFile: '/var/log/overlab-agent.log',
  bridge: 'docker0',
};

describe('agent config', () => {
  it('accepts the documented config and fills defaults', () => {
    const c = validateAgentConfig(GOOD);
    expect(c).toMatchObject({ ...GOOD, ipMasq: false, subnetEnvFile: '/run/flannel/subnet.env', statsFile: '/run/overlab/agent-stats.json', tunIo: 'poll' });
    expect(validateAgentConfig({ ...GOOD, ipMasq: true, bridge: 'cni0' }).ipMasq).toBe(true);
    expect(validateAgentConfig({ ...GOOD, etcdEndpoints: ['http://10.0.0.1:2379/'] }).etcdEndpoints).toEqual(['http://10.0.0.1:2379']);
  });

  it('lists every problem in one error', () => {
    let err: unknown;
    try {
      validateAgentConfig({ ...GOOD, publicIp: '192.168.50', etcdEndpoints: [], leaseTtlSeconds: 1, bridge: 'a bridge', extra: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/unknown key "extra"/);
    expect(msg).toMatch(/"publicIp" "192.168.50" is not an IPv4 address/);
    expect(msg).toMatch(/"etcdEndpoints" must be a non-empty array/);
    expect(msg).toMatch(/"leaseTtlSeconds" must be an integer/);
    expect(msg).toMatch(/"bridge" "a bridge" is not an interface name/);
  });

  it('rejects non-JSON and non-objects', () => {
    expect(() => parseAgentConfig('{', '/etc/overlab/agent.json')).toThrow(/agent.json is not valid JSON/);
    expect(() => parseAgentConfig('[]')).toThrow(ConfigError);
    expect(() => validateAgentConfig({ ...GOOD, host: undefined })).toThrow(/"host" must be a non-empty string/);
    expect(() => validateAgentConfig({ ...GOOD, tunIo: 'magic' })).toThrow(/tunIo/);
  });
});

describe('agent config: the underlay', () => {
  it('takes an optional underlayCidr that must hold publicIp', () => {
    expect(validateAgentConfig({ ...GOOD, underlayCidr: '192.168.50.0/24' }).underlayCidr).toBe('192.168.50.0/24');
    expect(validateAgentConfig(GOOD).underlayCidr).toBeUndefined();
    expect(() => validateAgentConfig({ ...GOOD, underlayCidr: '10.0.0.0/24' })).toThrow(/"publicIp" 192.168.50.2 is outside "underlayCidr" 10.0.0.0\/24/);
    expect(() => validateAgentConfig({ ...GOOD, underlayCidr: '192.168.50.0' })).toThrow(/"underlayCidr" "192.168.50.0" is not an IPv4 CIDR/);
    expect(() => validateAgentConfig({ ...GOOD, underlayCidr: '0.0.0.0/0' })).toThrow(/prefix length in \[8, 30\]/);
  });
});

describe('agent packaging', () => {
  // The agent is bundled alone into the lab hosts (Node 18): only node built-ins, files under
  // src/agent and the pure modules it shares with the CLI and the CNI plugin (src/shared).
  const root = resolve(dirname(new URL(import.meta.url).pathname), '../../src/agent');
  const shared = resolve(root, '../shared');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(root);

  it('imports only node built-ins and files under src/agent and src/shared', () => {
    expect(files.length).toBeGreaterThan(10);
    const bad: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1] as string;
        if (spec.startsWith('node:')) {
          if (!builtinModules.includes(spec.slice(5))) bad.push(`${relative(root, f)}: ${spec}`);
          continue;
        }
        if (!spec.startsWith('.')) {
          bad.push(`${relative(root, f)}: ${spec} (not a node: built-in)`);
          continue;
        }
        if (!spec.endsWith('.js')) bad.push(`${relative(root, f)}: ${spec} (relative imports end in .js)`);
        const target = resolve(dirname(f), spec);
        if (!target.startsWith(root + '/') && !target.startsWith(shared + '/')) bad.push(`${relative(root, f)}: ${spec} (outside src/agent and src/shared)`);
      }
    }
    expect(bad).toEqual([]);
  });
});
