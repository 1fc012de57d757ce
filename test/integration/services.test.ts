// Kubernetes Services on the wire, on the real engine: labs/k8s-service.yaml (kube-proxy's
// iptables mode, flannel VXLAN, CNI) and a small two-host lab in kube-proxy's nftables mode,
// built side by side once for the file; the kernel holding kube-proxy's layout, the service
// checks passing, traces naming the DNAT hop and its rule, each Service fault breaking what it
// should and `fault clear` putting the kernel back exactly; proxyMode ipvs refused (exit 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { containersWithLabel, downLabs, overlab, overlabJson, seedAs } from './harness.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';
import type { TraceResult } from '../../src/trace/trace-result.js';

const IPT = 'svc-ipt';
const NFT = 'svc-nft';
const IPVS = 'svc-ipvs';
let nftSpec = '';

/** Checks with fewer requests (still enough to hear from every endpoint: at least 37 for three),
 * so a broken lab fails them in seconds rather than after the default 300. */
const QUICK = `
  - name: quick clusterip
    service: { from: host1/client, to: web, requests: 40 }
  - name: quick hairpin
    service: { from: host1/web1, to: web, requests: 40 }
  - name: quick nodeport
    service: { from: outside, to: web, via: nodePort, node: host2, requests: 40 }
  - name: snat nodeport
    service: { from: outside, to: web, via: nodePort, node: host2, requests: 300 }
`;
const withQuickChecks = (text: string) => `${text.trimEnd()}\n${QUICK}`;

/** nftables mode on the quickest lab that still has a pod per endpoint node and an outside node. */
const NFT_SPEC = `name: ${NFT}
proxyMode: nftables
network: { cidr: 10.244.0.0/16, backend: host-gw }
hosts:
  - name: host1
    pods: [{ name: web1, serve: [{ port: 8080 }] }, client]
  - name: host2
    pods: [{ name: web2, serve: [{ port: 8080 }] }]
nodes:
  - { name: outside, role: outside }
services:
  - { name: web, type: NodePort, ports: [{ name: http, port: 80, targetPort: 8080, nodePort: 30080 }], endpoints: [host1/web1, host2/web2] }
  - { name: empty, ports: [{ port: 80, targetPort: 8080 }], endpoints: [] }
checks:
  - { name: quick clusterip, service: { from: host1/client, to: web, requests: 40 } }
  - { name: quick nodeport, service: { from: outside, to: web, via: nodePort, node: host2, requests: 40 } }
  - { name: refused, service: { from: host1/client, to: empty } }
`;

const exec = async (container: string, argv: string[]) => (await execa('docker', ['exec', container, ...argv])).stdout;

async function verify(lab: string, checks: string[] = []) {
  const r = await overlabJson<VerifyReport>(['verify', lab, ...checks.flatMap((c) => ['--check', c])]);
  return { exitCode: r.exitCode, checks: r.body.result.checks };
}

/** What the Service faults may change on a host and in its pods, as the kernel prints it. */
async function hostState(lab: string, host: string): Promise<string> {
  const c = `overlab-${lab}-${host}`;
  const script = [
    'iptables-save | grep -v "^#"',
    'nft list table ip kube-proxy 2>/dev/null | sed "s/ # handle [0-9]*$//"',
    'cat /proc/sys/net/bridge/bridge-nf-call-iptables',
    'bridge -d link show | grep -o "^[0-9]*: [^:]*\\|hairpin [a-z]*"',
    'for p in $(ip netns list | cut -d" " -f1); do echo "== $p"; ip -n $p -4 -o addr; ip -n $p route; done',
  ].join('; ');
  return exec(c, ['sh', '-c', script]);
}

beforeAll(async () => {
  await downLabs([IPT, NFT, IPVS]);
  const { writeFile, mkdtemp } = await import('node:fs/promises');
  const dir = await mkdtemp('/tmp/overlab-test-');
  const ipt = await seedAs('k8s-service', IPT, withQuickChecks);
  const nft = `${dir}/${NFT}.yaml`;
  nftSpec = nft;
  await writeFile(nft, NFT_SPEC);
  const ups = await Promise.all([overlab(['up', ipt]), overlab(['up', nft])]);
  for (const up of ups) expect(up.exitCode, up.stderr).toBe(0);
});

afterAll(async () => {
  await downLabs([IPT, NFT, IPVS]);
});

describe('iptables mode', () => {
  it("every host holds kube-proxy's chains, and the lab's checks pass", async () => {
    const save = await exec(`overlab-${IPT}-host1`, ['iptables-save']);
    // kube-proxy wrote 0.3333333333 and 0.5000000000; the kernel keeps a 32-bit threshold and prints it so
    expect(save).toMatch(/-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default\/web:http -> 10\.244\.1\.2:8080" -m statistic --mode random --probability 0\.33333333349 -j KUBE-SEP-UIQK3OSOSTRHRPBX/);
    expect(save).toMatch(/-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default\/web:http -> 10\.244\.3\.2:8080" -j KUBE-SEP-/);
    expect(save).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(save).toMatch(/-A KUBE-SERVICES -d 10\.96\.0\.11\/32 -p tcp -m comment --comment "default\/empty:http has no endpoints" -m tcp --dport 80 -j REJECT/);
    expect(save).toMatch(/--nfacct-name +ct_state_invalid_dropped_pkts/);
    const spreadCheck = 'the ClusterIP spreads the client\'s requests over the three pods on three nodes';
    const refusedCheck = 'a Service without endpoints refuses at once (REJECT), it does not time out';
    const { exitCode, checks } = await verify(IPT, [spreadCheck, refusedCheck, 'quick nodeport']);
    expect(checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.reason}`)).toEqual([]);
    expect(exitCode).toBe(0);
    const spread = checks.find((c) => c.name === spreadCheck)!;
    expect(spread.seen).toMatch(/^300 requests to 10\.96\.0\.10:80 \(host1, iptables\): host1\/web1 \(10\.244\.1\.2:8080\) \d+, host2\/web2 \(10\.244\.2\.2:8080\) \d+, host3\/web3 \(10\.244\.3\.2:8080\) \d+ \(each 60\.\.143 for p=33\.3%, α=1e-6\); DNAT counters \+300; conntrack: tcp 10\.244\.1\.3:\d+ → 10\.96\.0\.10:80, DNAT to 10\.244\.\d\.2:8080/);
    expect(checks.find((c) => c.name === 'quick nodeport')!.seen).toMatch(/source masqueraded to 10\.244\.2\.[01]:\d+/);
  });

  it('trace: the DNAT hop with the rule that did it (nft trace, counter, conntrack), and REJECT for a Service without endpoints', async () => {
    const web = await overlabJson<TraceResult>(['trace', IPT, 'host1/client', 'svc/web', '--reply']);
    expect(web.exitCode).toBe(0);
    const r = web.body.result;
    expect(r.delivered).toBe(true);
    expect(['10.244.1.2:8080', '10.244.2.2:8080', '10.244.3.2:8080']).toContain(r.service!.chosen);
    expect(r.hops.some((h) => h.leg === 'request' && h.change?.includes(`destination rewritten: 10.96.0.10:80 → ${r.service!.chosen!} by KUBE-SEP-`))).toBe(true);
    expect(r.hops.some((h) => h.leg === 'reply' && h.change?.includes('un-DNAT: conntrack gave the answer the Service\'s address back'))).toBe(true);
    expect(r.service!.evidence.some((l) => l.startsWith('host1: nft trace: ip nat KUBE-SEP-') && l.includes(`dnat to ${r.service!.chosen!}`))).toBe(true);
    expect(r.service!.evidence.some((l) => /^host1: conntrack: tcp 10\.244\.1\.3:\d+ → 10\.96\.0\.10:80, DNAT to /.test(l))).toBe(true);
    const empty = await overlabJson<TraceResult>(['trace', IPT, 'host1/client', 'svc/empty']);
    expect(empty.exitCode).toBe(1);
    expect(empty.body.result.drop!.reason).toContain('REJECT: Service default/empty:http has no endpoints');
    // nothing of the trace's own is left on the translating node
    expect(await exec(`overlab-${IPT}-host1`, ['sh', '-c', 'nft list tables; ls /tmp | grep -c overlab-nft || true'])).not.toMatch(/overlab-trace|^[1-9]/m);
  });

  it('hairpin-off: a pod cannot reach itself; bridge-nf-off: the same-node endpoint never answers (and hairpin no longer matters); static traces say why; clear restores every bit', async () => {
    const before = await hostState(IPT, 'host1');
    expect((await overlab(['fault', 'add', IPT, 'hairpin-off', 'host1/web1'])).exitCode).toBe(0);
    const noHairpin = await verify(IPT, ['quick hairpin']);
    // web1 asking its own Service: when it picks itself, the frame cannot go back out its own port
    expect(noHairpin.checks[0]!.reason).toMatch(/never answered: host1\/web1 \(10\.244\.1\.2:8080\)/);
    const self = await overlabJson<TraceResult>(['trace', IPT, 'host1/web1', 'svc/web', '--static']);
    expect(self.exitCode).toBe(1);
    expect(self.body.result.branches!.map((b) => b.delivered)).toEqual([false, true, true]);
    expect(self.body.result.drop!.reason).toMatch(/^towards 10\.244\.1\.2:8080 \(host1\/web1\): host1\/web1 is behind the port it came from \(\S+\) and hairpin mode is off/);

    expect((await overlab(['fault', 'add', IPT, 'bridge-nf-off', 'host1'])).exitCode).toBe(0);
    const noBridgeNf = await verify(IPT, ['quick clusterip', 'quick nodeport', 'quick hairpin']);
    // the client's reply from web1 is bridged straight back (no un-DNAT): never answered
    expect(noBridgeNf.checks.find((c) => c.name === 'quick clusterip')!.reason).toMatch(/never answered: host1\/web1 \(10\.244\.1\.2:8080\)/);
    // from outside, web1's replies leave host1 routed (through flannel.1): the NodePort still works
    expect(noBridgeNf.checks.find((c) => c.name === 'quick nodeport')!.status).toBe('pass');
    // with iptables no longer in the bridge, web1's own Service is routed, not bridged: hairpin no longer matters
    expect(noBridgeNf.checks.find((c) => c.name === 'quick hairpin')!.status).toBe('pass');
    const predicted = await overlabJson<TraceResult>(['trace', IPT, 'host1/client', 'svc/web', '--static']);
    expect(predicted.exitCode).toBe(1);
    expect(predicted.body.result.branches!.map((b) => b.delivered)).toEqual([false, true, true]);
    expect(predicted.body.result.drop!.reason).toMatch(/^towards 10\.244\.1\.2:8080 \(host1\/web1\): the answer skipped the un-DNAT/);

    expect((await overlab(['fault', 'clear', IPT, '--all'])).exitCode).toBe(0);
    expect(await hostState(IPT, 'host1')).toBe(before);
  });

  it("no-service-snat: through host2's NodePort only host2's own pod answers (the others answer outside directly, past the un-DNAT); refused in nftables mode; clear restores every bit", async () => {
    const before = await hostState(IPT, 'host2');
    expect((await overlab(['fault', 'add', IPT, 'no-service-snat', 'host2'])).exitCode).toBe(0);
    expect(await exec(`overlab-${IPT}-host2`, ['iptables-save', '-t', 'nat'])).not.toMatch(/-A KUBE-POSTROUTING .*-j MASQUERADE/);
    // Two requests in three go to a pod that cannot answer and each costs the probe a 1 s timeout:
    // a 40-request check has time for five of them (its 5 s budget), so 1 run in 7 never picked
    // host2's pod at all. 300 requests buy 15 s: host2's pod is missed by chance 1 run in 400.
    const broken = await verify(IPT, ['snat nodeport']);
    expect(broken.checks[0]!.reason).toMatch(/never answered: host1\/web1 \(10\.244\.1\.2:8080\), host3\/web3 \(10\.244\.3\.2:8080\)/);
    const refused = await overlab(['fault', 'add', NFT, 'no-service-snat', 'host2']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('runs kube-proxy in nftables mode');
    expect((await overlab(['fault', 'clear', IPT, '--all'])).exitCode).toBe(0);
    expect(await hostState(IPT, 'host2')).toBe(before);
  });
});

describe('nftables mode', () => {
  it("table ip kube-proxy instead of iptables chains; no-endpoints and stale-endpoint break the Service; clear puts every host and pod back exactly", async () => {
    const table = await exec(`overlab-${NFT}-host2`, ['nft', 'list', 'table', 'ip', 'kube-proxy']);
    expect(table).toContain('10.96.0.10 . tcp . 80 : goto service-SUSTUHLJ-default/web/tcp/http');
    expect(table).toMatch(/numgen random mod 2 vmap \{ 0 : goto endpoint-\S+__10\.244\.1\.2\/8080, 1 : goto endpoint-\S+__10\.244\.2\.2\/8080 \}/);
    expect(await exec(`overlab-${NFT}-host2`, ['sh', '-c', 'iptables-save | grep -c KUBE || true'])).toBe('0');
    const ok = await verify(NFT);
    expect(ok.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.reason}`)).toEqual([]);
    expect(ok.checks.find((c) => c.name === 'refused')!.seen).toContain('no-endpoint-services { 10.96.0.10 . tcp . 80 : goto reject-chain }'.replace('10.96.0.10', '10.96.0.11'));

    const hosts = ['host1', 'host2'];
    const before = await Promise.all(hosts.map((h) => hostState(NFT, h)));
    expect((await overlab(['fault', 'add', NFT, 'stale-endpoint', 'host2/web2'])).exitCode).toBe(0);
    const stale = await verify(NFT, ['quick nodeport']);
    // web2 never answers; under load the check's 5 s may hold so few requests (each timeout 1 s)
    // that web1 was not heard either
    expect(stale.checks[0]!.reason).toMatch(/never answered: (host1\/web1 \(10\.244\.1\.2:8080\), )?host2\/web2 \(10\.244\.2\.2:8080\)/);
    expect((await overlab(['fault', 'add', NFT, 'no-endpoints', 'web'])).exitCode).toBe(0);
    const gone = await verify(NFT, ['quick clusterip']);
    expect(gone.checks[0]!.reason).toBe("host1's rules refuse 10.96.0.10:80 (no-endpoint-services { 10.96.0.10 . tcp . 80 : goto reject-chain }): the Service has no endpoints there");
    const cleared = await overlab(['fault', 'clear', NFT, '--all']);
    expect(cleared.exitCode, cleared.stderr).toBe(0);
    expect(await Promise.all(hosts.map((h) => hostState(NFT, h)))).toEqual(before);
  });

  it("a host that restarts: its pod's server comes back from its supervisor once `up` has re-wired it, and kube-proxy's table with it", async () => {
    await execa('docker', ['restart', `overlab-${NFT}-host2`]);
    expect(await exec(`overlab-${NFT}-host2`, ['sh', '-c', 'nft list table ip kube-proxy 2>&1 || true'])).not.toContain('service-ips');
    const up = await overlab(['up', nftSpec]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(await exec(`overlab-${NFT}-host2`, ['overlab-daemon', 'status'])).toMatch(/^serve-web2\s+running/m);
    const ok = await verify(NFT, ['quick clusterip', 'quick nodeport']);
    expect(ok.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.reason}`)).toEqual([]);
  });
});

describe('proxyMode: ipvs', () => {
  it('says plainly that this kernel has no ip_vs (exit 3) and leaves nothing behind', async () => {
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/overlab-test-');
    await writeFile(`${dir}/ipvs.yaml`, `name: ${IPVS}\nproxyMode: ipvs\nhosts:\n  - name: host1\n    pods: [{ name: web, serve: [{ port: 8080 }] }]\nservices:\n  - { name: web, ports: [{ port: 80, targetPort: 8080 }], endpoints: [host1/web] }\n`);
    const r = await overlab(['up', `${dir}/ipvs.yaml`]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain("proxyMode: ipvs needs the kernel's IPVS (ip_vs), and this kernel has none");
    expect(await containersWithLabel(`overlab.lab=${IPVS}`)).toEqual([]);
  });
});
