// overlab's flannel CNI plugin (src/cni-plugin/flannel-plugin.ts) against flannel-io/cni-plugin's
// behaviour: the delegate it builds from subnet.env, where it keeps it, how it runs the delegate
// and what it prints — with fake I/O, so every branch runs without a kernel.
import { describe, expect, it } from 'vitest';
import { buildDelegate, goJson, loadFlannelNetConf, parseCidrNetwork, parseFlannelEnv, runFlannelPlugin, type CniIo } from '../../src/cni-plugin/flannel-plugin.js';

const ID = 'a'.repeat(64);
const SUBNET_ENV = 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';
const FLANNEL_STDIN = '{"cniVersion":"0.3.1","delegate":{"hairpinMode":true,"isDefaultGateway":true},"name":"cbr0","type":"flannel"}';
const BRIDGE_RESULT = { cniVersion: '0.3.1', interfaces: [{ name: 'cni0', mac: '3a:ec:d5:b5:16:e8' }], ips: [], routes: [], dns: {} };

interface FakeIo extends CniIo {
  files: Map<string, string>;
  execs: { path: string; env: Record<string, string | undefined>; stdin: string }[];
  errors: string[];
}

function fakeIo(env: Record<string, string> = {}, answer: { status: number; stdout: string; stderr?: string } = { status: 0, stdout: JSON.stringify(BRIDGE_RESULT) }): FakeIo {
  const files = new Map<string, string>([['/run/flannel/subnet.env', SUBNET_ENV], ['/usr/lib/cni/bridge', '']]);
  const io: FakeIo = {
    files,
    execs: [],
    errors: [],
    env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: ID, CNI_NETNS: '/var/run/netns/web', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni', CNI_ARGS: 'IgnoreUnknown=1', ...env },
    readFile(path) {
      const f = files.get(path);
      if (f === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return f;
    },
    writeFileSynced: (path, content) => void files.set(path, content),
    removeFile: (path) => void files.delete(path),
    exists: (path) => files.has(path),
    exec(path, e, stdin) {
      io.execs.push({ path, env: e, stdin });
      return { status: answer.status, stdout: answer.stdout, stderr: answer.stderr ?? '' };
    },
    stderr: (text) => void io.errors.push(text),
  };
  return io;
}

const DELEGATE =
  '{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}';

describe('flannel shim: ADD', () => {
  it('builds flannel\'s bridge delegate from subnet.env, keeps it under /var/lib/cni/flannel/<ID> and runs bridge with the same environment', () => {
    const io = fakeIo();
    const out = runFlannelPlugin(io, FLANNEL_STDIN);
    expect(out.exitCode).toBe(0);
    expect(io.files.get(`/var/lib/cni/flannel/${ID}`)).toBe(DELEGATE);
    expect(io.execs).toHaveLength(1);
    expect(io.execs[0]!.path).toBe('/usr/lib/cni/bridge'); // found in CNI_PATH (not in /opt/cni/bin)
    expect(io.execs[0]!.stdin).toBe(DELEGATE);
    expect(io.execs[0]!.env).toMatchObject({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: ID, CNI_NETNS: '/var/run/netns/web', CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1' });
    expect(JSON.parse(out.stdout)).toEqual(BRIDGE_RESULT); // the delegate's result is the plugin's
    expect(io.errors.join('\n')).toContain('delegateAdd: netconf sent to delegate plugin:');
  });

  it('sets ipMasq to the opposite of FLANNEL_IPMASQ, and lets the delegate fields win', () => {
    const conf = loadFlannelNetConf('{"cniVersion":"0.3.1","name":"cbr0","type":"flannel","delegate":{"bridge":"kube0","mtu":1400,"ipMasq":false}}');
    const env = parseFlannelEnv(SUBNET_ENV.replace('IPMASQ=true', 'IPMASQ=false'), 'x');
    expect(buildDelegate(loadFlannelNetConf(FLANNEL_STDIN), env).ipMasq).toBe(true);
    expect(buildDelegate(conf, env)).toMatchObject({ bridge: 'kube0', mtu: 1400, ipMasq: false, isGateway: true, type: 'bridge' });
  });

  it('refuses a delegate with a name or ipam, or a non-string type, as flannel does', () => {
    const env = parseFlannelEnv(SUBNET_ENV, 'x');
    for (const [delegate, msg] of [
      ['{"name":"x"}', "must not have 'name' field"],
      ['{"ipam":{}}', "must not have 'ipam' field"],
      ['{"type":5}', "must have (string) 'type' field"],
    ] as const) {
      expect(() => buildDelegate(loadFlannelNetConf(`{"name":"cbr0","delegate":${delegate}}`), env)).toThrow(msg);
    }
  });

  it('says which variables subnet.env lacks, as flannel\'s error does', () => {
    const io = fakeIo();
    io.files.set('/run/flannel/subnet.env', 'FLANNEL_NETWORK=10.244.0.0/16\n');
    const out = runFlannelPlugin(io, FLANNEL_STDIN);
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: '0.3.1',
      code: 999,
      msg: "failed to load flannel 'subnet.env' file: /run/flannel/subnet.env is missing FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ. Check the flannel pod log for this node.",
    });
    expect(io.execs).toEqual([]);
  });

  it('passes the delegate\'s CNI error on, and keeps the delegate config (flannel removes it only on DEL)', () => {
    const io = fakeIo({}, { status: 1, stdout: '{"code":11,"msg":"could not add IP address to \\"cni0\\": file exists"}' });
    const out = runFlannelPlugin(io, FLANNEL_STDIN);
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout).msg).toBe('failed to delegate add: could not add IP address to "cni0": file exists');
    expect(io.files.has(`/var/lib/cni/flannel/${ID}`)).toBe(true);
  });

  it('checks the environment as skel does: a container ID is a file name, so no path gets in', () => {
    for (const [env, msg] of [
      [{ CNI_CONTAINERID: '../../etc/passwd' }, 'invalid characters in containerID'],
      [{ CNI_NETNS: '' }, 'required env variables [CNI_NETNS] missing'],
      [{ CNI_IFNAME: 'a/b' }, 'interface name contains / or : or whitespace characters'],
      [{ CNI_COMMAND: 'FROB' }, 'unknown CNI_COMMAND: FROB'],
    ] as const) {
      const io = fakeIo(env);
      const out = runFlannelPlugin(io, FLANNEL_STDIN);
      expect(out.exitCode).toBe(1);
      expect(JSON.parse(out.stdout).msg).toBe(msg);
      expect([...io.files.keys()].filter((k) => k.startsWith('/var/lib') || k.startsWith('/etc'))).toEqual([]);
    }
    expect(JSON.parse(runFlannelPlugin(fakeIo(), '{"cniVersion":"9.9.9","name":"cbr0"}').stdout)).toMatchObject({ code: 1, msg: 'incompatible CNI versions' });
  });

  it('answers VERSION with the versions it speaks', () => {
    const out = runFlannelPlugin(fakeIo({ CNI_COMMAND: 'VERSION' }), '');
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  });
});

describe('flannel shim: DEL', () => {
  it('runs the delegate with the kept config and removes it', () => {
    const io = fakeIo({ CNI_COMMAND: 'DEL' }, { status: 0, stdout: '' });
    io.files.set(`/var/lib/cni/flannel/${ID}`, DELEGATE);
    const out = runFlannelPlugin(io, FLANNEL_STDIN);
    expect(out).toEqual({ exitCode: 0, stdout: '' });
    expect(io.execs.map((e) => [e.path, e.env.CNI_COMMAND, e.stdin])).toEqual([['/usr/lib/cni/bridge', 'DEL', DELEGATE]]);
    expect(io.files.has(`/var/lib/cni/flannel/${ID}`)).toBe(false);
  });

  it('succeeds with nothing to do when the config is gone (DEL twice), and needs no netns or subnet.env', () => {
    const io = fakeIo({ CNI_COMMAND: 'DEL', CNI_NETNS: '' });
    io.files.delete('/run/flannel/subnet.env');
    expect(runFlannelPlugin(io, FLANNEL_STDIN)).toEqual({ exitCode: 0, stdout: '' });
    expect(io.execs).toEqual([]);
  });

  it('removes the kept config even when the delegate\'s DEL fails, and reports that failure (flannel\'s deferred cleanup)', () => {
    const io = fakeIo({ CNI_COMMAND: 'DEL' }, { status: 1, stdout: '{"code":999,"msg":"boom"}' });
    io.files.set(`/var/lib/cni/flannel/${ID}`, DELEGATE);
    const out = runFlannelPlugin(io, FLANNEL_STDIN);
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout).msg).toBe('boom');
    expect(io.files.has(`/var/lib/cni/flannel/${ID}`)).toBe(false);
  });

  it('drops an unreadable kept config and succeeds, as flannel does', () => {
    const io = fakeIo({ CNI_COMMAND: 'DEL' });
    io.files.set(`/var/lib/cni/flannel/${ID}`, '{not json');
    expect(runFlannelPlugin(io, FLANNEL_STDIN).exitCode).toBe(0);
    expect(io.execs).toEqual([]);
    expect(io.files.has(`/var/lib/cni/flannel/${ID}`)).toBe(false);
  });
});

describe('flannel shim: reading subnet.env', () => {
  it('parses as flannel does: FLANNEL_SUBNET to its network, networks de-duplicated, IPMASQ only "true" is true', () => {
    expect(parseFlannelEnv('FLANNEL_NETWORK=10.244.0.0/16,10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=yes\n', 'f')).toEqual({
      networks: ['10.244.0.0/16'],
      subnet: '10.244.7.0/24',
      mtu: 1472,
      ipMasq: false,
    });
    expect(parseCidrNetwork('10.244.1.1/24')).toBe('10.244.1.0/24');
    expect(parseCidrNetwork('10.244.01.1/24')).toBeUndefined();
    expect(() => parseFlannelEnv('FLANNEL_MTU=big\n', 'f')).toThrow('invalid syntax');
  });

  it('writes JSON as Go writes a map: every level sorted, no spaces', () => {
    expect(goJson({ z: 1, a: [{ y: true, b: null }] })).toBe('{"a":[{"b":null,"y":true}],"z":1}');
  });
});
