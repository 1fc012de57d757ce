import { describe, expect, it } from 'vitest';
import { MemoryEtcd } from '../support/etcd-memory.js';
import { JsonObjectSplitter } from '../../src/agent/etcd/json-stream.js';
import { prefixRangeEnd } from '../../src/agent/etcd/types.js';
import { decodeKv } from '../../src/agent/etcd/http.js';
import { formatNet, parseNet } from '../../src/shared/ipv4.js';
import { parseNetworkConfig } from '../../src/shared/flannel-lease.js';
import { SubnetRegistry } from '../../src/agent/lease-store.js';
import { LeaseBook } from '../../src/agent/lease-book.js';
import { silentLogger } from '../../src/agent/log.js';

const PREFIX = '/coreos.com/network';
const CFG = '{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}';
const net = parseNetworkConfig(CFG);
const req = (ip: string, mac = '0a:00:00:00:00:01', ttl = 60) => ({ publicIp: ip, backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: mac }, ttlSeconds: ttl });

async function setup() {
  const etcd = new MemoryEtcd();
  await etcd.put(`${PREFIX}/config`, CFG);
  return { etcd, reg: new SubnetRegistry(etcd, PREFIX) };
}

describe('SubnetRegistry', () => {
  it('reads the network config and reports a missing one clearly', async () => {
    const { reg } = await setup();
    expect((await reg.getNetworkConfig()).backend.type).toBe('vxlan');
    await expect(new SubnetRegistry(new MemoryEtcd(), PREFIX).getNetworkConfig()).rejects.toThrow(/no network config at \/coreos.com\/network\/config/);
  });

  it('allocates subnets in order under an etcd lease with the value flannel writes', async () => {
    const { etcd, reg } = await setup();
    const a = await reg.acquireLease(net, req('192.168.50.2', '0a:00:00:00:00:02'));
    const b = await reg.acquireLease(net, req('192.168.50.3', '0a:00:00:00:00:03'));
    expect(formatNet(a.subnet)).toBe('10.244.1.0/24');
    expect(formatNet(b.subnet)).toBe('10.244.2.0/24');
    expect(a.reused).toBe(false);
    const kv = etcd.peek(`${PREFIX}/subnets/10.244.1.0-24`)!;
    expect(kv.value).toBe('{"PublicIP":"192.168.50.2","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0a:00:00:00:00:02"}}');
    expect(kv.lease).toBe(a.etcdLease);
    expect((await etcd.leaseTimeToLive(a.etcdLease)).grantedTtl).toBe(60);
  });

  it('reuses this host\'s lease on restart without rewriting it', async () => {
    const { etcd, reg } = await setup();
    const a = await reg.acquireLease(net, req('192.168.50.2'));
    const rev = etcd.revision;
    const again = await reg.acquireLease(net, req('192.168.50.2'));
    expect(again.reused).toBe(true);
    expect(again.key).toBe(a.key);
    expect(again.etcdLease).toBe(a.etcdLease);
    expect(etcd.revision).toBe(rev); // nothing written
  });

  it('rewrites the value (same subnet) when the VTEP MAC changed', async () => {
    const { etcd, reg } = await setup();
    const a = await reg.acquireLease(net, req('192.168.50.2', '0a:00:00:00:00:01'));
    const b = await reg.acquireLease(net, req('192.168.50.2', '0a:00:00:00:00:99'));
    expect(b.key).toBe(a.key);
    expect(etcd.peek(a.key)!.value).toContain('0a:00:00:00:00:99');
  });

  it('takes a new etcd lease when the old one expired but the key is still there', async () => {
    const { etcd, reg } = await setup();
    const a = await reg.acquireLease(net, req('192.168.50.2'));
    // simulate: key without a live lease (e.g. lease revoked out of band, key re-put without lease)
    await etcd.put(a.key, etcd.peek(a.key)!.value);
    const b = await reg.acquireLease(net, req('192.168.50.2'));
    expect(b.key).toBe(a.key);
    expect(b.etcdLease).not.toBe('0');
    expect(etcd.peek(a.key)!.lease).toBe(b.etcdLease);
  });

  it('prefers the previous subnet (from subnet.env) when it is free', async () => {
    const { reg } = await setup();
    const a = await reg.acquireLease(net, { ...req('192.168.50.2'), preferred: parseNet('10.244.7.0/24') });
    expect(formatNet(a.subnet)).toBe('10.244.7.0/24');
  });

  it('counts malformed lease keys as taken and skips them', async () => {
    const { etcd, reg } = await setup();
    await etcd.put(`${PREFIX}/subnets/10.244.1.0-24`, 'garbage');
    const a = await reg.acquireLease(net, req('192.168.50.2'));
    expect(formatNet(a.subnet)).toBe('10.244.2.0/24');
    const { leases, taken } = await reg.listLeases();
    expect(leases.map((l) => formatNet(l.subnet))).toEqual(['10.244.2.0/24']);
    expect(taken.length).toBe(2);
  });

  it('renewal reports an expired lease', async () => {
    const { etcd, reg } = await setup();
    const a = await reg.acquireLease(net, req('192.168.50.2', undefined, 10));
    etcd.advance(5000);
    expect(await reg.renew(a)).toBe(true);
    etcd.advance(9000);
    expect(etcd.peek(a.key)).toBeDefined();
    etcd.advance(2000);
    expect(etcd.peek(a.key)).toBeUndefined(); // key went with the lease
    expect(await reg.renew(a)).toBe(false);
  });

  it('feeds watch events into the lease book: a lease comes, then goes with its etcd lease', async () => {
    const { etcd, reg } = await setup();
    const self = await reg.acquireLease(net, req('192.168.50.2', '0a:00:00:00:00:02', 60));
    const book = new LeaseBook({ prefix: PREFIX, net, underlay: parseNet('192.168.50.0/24'), self: { key: self.key, subnet: self.subnet, publicIp: '192.168.50.2' } }, silentLogger);
    const seen: string[][] = [];
    etcd.watch(`${PREFIX}/subnets/`, { prefix: true }, {
      onEvents: (evs) => {
        book.apply(evs);
        seen.push(book.peers.map((p) => `${formatNet(p.subnet)} ${p.publicIp} ${p.vtepMac}`));
      },
      onEnd: () => undefined,
    });
    const a = await reg.acquireLease(net, req('192.168.50.5', '0A:00:00:00:00:05', 10));
    etcd.advance(11_000);
    expect(seen).toEqual([['10.244.2.0/24 192.168.50.5 0a:00:00:00:00:05'], []]);
    expect(a.key).toBe(`${PREFIX}/subnets/10.244.2.0-24`);
  });

  it('takes back its previous subnet when garbage was written over it while the host was down', async () => {
    const { etcd, reg } = await setup();
    await etcd.put(`${PREFIX}/subnets/10.244.7.0-24`, 'zz;reboot');
    const a = await reg.acquireLease(net, { ...req('192.168.50.2'), preferred: parseNet('10.244.7.0/24') });
    expect(formatNet(a.subnet)).toBe('10.244.7.0/24');
    expect(etcd.peek(a.key)!.value).toContain('"PublicIP":"192.168.50.2"');
    expect(etcd.peek(a.key)!.lease).toBe(a.etcdLease);
  });
});

describe('etcd gateway encoding', () => {
  it('computes the prefix range end', () => {
    expect(prefixRangeEnd(Buffer.from('/coreos.com/network/subnets/')).toString()).toBe('/coreos.com/network/subnets0');
    expect([...prefixRangeEnd(Buffer.from([0x61, 0xff]))]).toEqual([0x62]);
  });
  it('decodes gateway key-values (base64, int64 as strings)', () => {
    const kv = decodeKv({
      key: Buffer.from('/coreos.com/network/subnets/10.244.1.0-24').toString('base64'),
      value: Buffer.from('{"PublicIP":"192.168.50.2"}').toString('base64'),
      create_revision: '5',
      mod_revision: '7',
      version: '2',
      lease: '7587869184425734148',
    });
    expect(kv).toEqual({ key: '/coreos.com/network/subnets/10.244.1.0-24', value: '{"PublicIP":"192.168.50.2"}', createRevision: 5, modRevision: 7, version: 2, lease: '7587869184425734148' });
    expect(decodeKv({ key: 'YQ==' }).lease).toBe('0');
  });
  it('splits a streamed watch response into objects across chunk boundaries', () => {
    const s = new JsonObjectSplitter();
    expect(s.push('{"result":{"header":{"revision":"4"},"created":true}}\n{"result":{"events":[{"kv":{"key":"a}b')).toEqual([
      '{"result":{"header":{"revision":"4"},"created":true}}',
    ]);
    expect(s.push('\\"{"}}]}}')).toEqual(['{"result":{"events":[{"kv":{"key":"a}b\\"{"}}]}}']);
    expect(s.push('')).toEqual([]);
  });
});
