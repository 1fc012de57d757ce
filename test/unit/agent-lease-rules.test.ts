// Leases read from etcd are untrusted: which ones the agent programs, which it refuses and why,
// and that each refusal is logged once.
import { describe, expect, it } from 'vitest';
import type { KeyValue } from '../../src/agent/etcd/types.js';
import { formatNet, parseNet } from '../../src/shared/ipv4.js';
import { parseNetworkConfig } from '../../src/shared/flannel-lease.js';
import { LeaseBook } from '../../src/agent/lease-book.js';
import { type LeaseRulesContext, judgeLeases, shown } from '../../src/agent/lease-rules.js';
import type { Logger } from '../../src/agent/log.js';

const PREFIX = '/coreos.com/network';
const VXLAN = parseNetworkConfig('{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}');
const SELF = { key: `${PREFIX}/subnets/10.244.1.0-24`, subnet: parseNet('10.244.1.0/24'), publicIp: '192.168.50.2' };
const ctx = (over: Partial<LeaseRulesContext> = {}): LeaseRulesContext => ({ prefix: PREFIX, net: VXLAN, underlay: parseNet('192.168.50.0/24'), self: SELF, ...over });

let rev = 10;
function kv(tail: string, value: unknown): KeyValue {
  return { key: `${PREFIX}/subnets/${tail}`, value: typeof value === 'string' ? value : JSON.stringify(value), createRevision: rev, modRevision: rev++, version: 1, lease: '7' };
}
const vx = (ip: unknown, mac: unknown = '0a:00:00:00:00:05', extra: Record<string, unknown> = {}) => ({ PublicIP: ip, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: mac, ...extra } });

function verdicts(kvs: KeyValue[], c = ctx()) {
  const v = judgeLeases(c, kvs);
  return {
    accepted: v.accepted.map((p) => `${formatNet(p.subnet)} ${p.publicIp} ${p.vtepMac ?? '-'}`),
    rejected: Object.fromEntries(v.rejected.map((r) => [r.key.slice(`${PREFIX}/subnets/`.length), `${r.code}: ${r.reason}`])),
  };
}

describe('lease rules', () => {
  it('accepts well-formed peers in canonical form and skips this host\'s own key', () => {
    const v = verdicts([kv('10.244.3.0-24', vx('192.168.50.4', '0A:00:00:00:00:03')), kv('10.244.2.0-24', vx('192.168.50.3')), kv('10.244.1.0-24', 'anything')]);
    expect(v.accepted).toEqual(['10.244.2.0/24 192.168.50.3 0a:00:00:00:00:05', '10.244.3.0/24 192.168.50.4 0a:00:00:00:00:03']);
    expect(v.rejected).toEqual({});
  });

  it('refuses the hostile leases of issue 7 with a reason each', () => {
    const v = verdicts([
      kv('10.244.0.0-16', vx('192.168.50.9')),
      kv('10.244.8.0-24', vx('8.8.8.8')),
      kv('10.244.9.0-24', vx('192.168.50.10', 'zz;reboot')),
    ]);
    expect(v.accepted).toEqual([]);
    expect(v.rejected).toEqual({
      '10.244.0.0-16': 'subnet: subnet 10.244.0.0/16 is not a /24 subnet of 10.244.0.0/16',
      '10.244.8.0-24': 'public-ip: PublicIP 8.8.8.8 is outside the underlay 192.168.50.0/24',
      '10.244.9.0-24': 'vtep-mac: BackendData.VtepMAC "zz;reboot" is not a MAC address',
    });
  });

  it.each([
    ['10.244.01.0-24', vx('192.168.50.3'), 'key'],
    ['10.244.2.5-24', vx('192.168.50.3'), 'key'],
    ['garbage', vx('192.168.50.3'), 'key'],
    ['10.244.2.0-24/x', vx('192.168.50.3'), 'key'],
    ['10.245.2.0-24', vx('192.168.50.3'), 'subnet'],
    ['10.244.2.0-25', vx('192.168.50.3'), 'subnet'],
    ['10.244.2.0-24', 'zz;reboot', 'value'],
    ['10.244.2.0-24', '[1,2]', 'value'],
    ['10.244.2.0-24', 'null', 'value'],
    ['10.244.2.0-24', vx('010.168.50.3'), 'public-ip'],
    ['10.244.2.0-24', vx(' 192.168.50.3'), 'public-ip'],
    ['10.244.2.0-24', vx('192.168.50.3\nlink del eth0'), 'public-ip'],
    ['10.244.2.0-24', vx(3232248323), 'public-ip'],
    ['10.244.2.0-24', vx('192.168.50.0'), 'public-ip'],
    ['10.244.2.0-24', vx('192.168.50.255'), 'public-ip'],
    ['10.244.2.0-24', vx('10.244.7.1'), 'public-ip'],
    ['10.244.2.0-24', vx('127.0.0.1'), 'public-ip'],
    ['10.244.2.0-24', vx('224.0.0.1'), 'public-ip'],
    ['10.244.2.0-24', vx('192.168.50.2'), 'own-ip'],
    ['10.244.2.0-24', { PublicIP: '192.168.50.3', BackendType: 'host-gw' }, 'backend-type'],
    ['10.244.2.0-24', { PublicIP: '192.168.50.3' }, 'backend-type'],
    ['10.244.2.0-24', { PublicIP: '192.168.50.3', BackendType: 'vxlan' }, 'vtep-mac'],
    ['10.244.2.0-24', vx('192.168.50.3', '0a:00:00:00:00:05', { VNI: 2 }), 'vni'],
    ['10.244.2.0-24', vx('192.168.50.3', '0a:00:00:00:00:05', { VNI: '1' }), 'vni'],
    ['10.244.2.0-24', vx('192.168.50.3', '01:00:5e:00:00:01'), 'vtep-mac'],
    ['10.244.2.0-24', vx('192.168.50.3', '00:00:00:00:00:00'), 'vtep-mac'],
    ['10.244.2.0-24', vx('192.168.50.3', '0a:00:00:00:00:05 dev eth0'), 'vtep-mac'],
    ['10.244.2.0-24', vx('192.168.50.3', '0a:00:00:00:00:05\n'), 'vtep-mac'],
    ['10.244.2.0-24', vx('192.168.50.3', '0a-00-00-00-00-05'), 'vtep-mac'],
    ['10.244.2.0-24', vx('192.168.50.3', ['0a:00:00:00:00:05']), 'vtep-mac'],
  ])('refuses %s = %j (%s)', (tail, value, code) => {
    const v = judgeLeases(ctx(), [kv(tail, value)]);
    expect(v.accepted).toEqual([]);
    expect(v.rejected.map((r) => r.code)).toEqual([code]);
  });

  it('without a known underlay, PublicIP must still be unicast and outside the network', () => {
    const c = ctx({ underlay: null });
    expect(verdicts([kv('10.244.2.0-24', vx('8.8.8.8'))], c).accepted).toEqual(['10.244.2.0/24 8.8.8.8 0a:00:00:00:00:05']);
    expect(verdicts([kv('10.244.2.0-24', vx('0.1.2.3'))], c).rejected['10.244.2.0-24']).toMatch(/^public-ip: .*not a unicast address/);
  });

  it('udp and host-gw leases need no BackendData; a vxlan lease there is refused', () => {
    const udp = parseNetworkConfig('{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}');
    const v = verdicts([kv('10.244.2.0-24', { PublicIP: '192.168.50.3', BackendType: 'udp' }), kv('10.244.3.0-24', { PublicIP: '192.168.50.4' }), kv('10.244.4.0-24', vx('192.168.50.5'))], ctx({ net: udp }));
    expect(v.accepted).toEqual(['10.244.2.0/24 192.168.50.3 -', '10.244.3.0/24 192.168.50.4 -']);
    expect(v.rejected['10.244.4.0-24']).toBe('backend-type: BackendType "vxlan" is not this network\'s udp');
  });

  it('refuses a subnet that overlaps this host\'s (a rule the length rule already implies; kept as a second line)', () => {
    const wide = parseNetworkConfig('{"Network":"10.0.0.0/8","SubnetLen":16,"Backend":{"Type":"vxlan","VNI":1}}');
    const self = { key: `${PREFIX}/subnets/10.0.0.0-16`, subnet: parseNet('10.0.0.0/15'), publicIp: '192.168.50.2' };
    const v = judgeLeases({ ...ctx({ net: wide }), self }, [kv('10.1.0.0-16', vx('192.168.50.3')), kv('10.2.0.0-16', vx('192.168.50.4'))]);
    expect(v.accepted.map((p) => formatNet(p.subnet))).toEqual(['10.2.0.0/16']);
    expect(v.rejected.map((r) => `${r.code}: ${r.reason}`)).toEqual(["overlap: subnet 10.1.0.0/16 overlaps this host's subnet (10.0.0.0/15)"]);
  });

  it('quotes untrusted text in reasons: control characters escaped, long values cut', () => {
    expect(shown('a\u001b]0;x\u0007b')).toBe('"a\\u001b]0;x\\u0007b"');
    expect(shown('\u0085\u2028')).toBe('"\\u0085\\u2028"');
    expect(shown('x'.repeat(200))).toHaveLength(120);
  });
});

describe('lease book', () => {
  function recorder(): Logger & { lines: string[] } {
    const lines: string[] = [];
    return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`), debug() {} };
  }

  it('logs each refusal once across re-listings and watch events, again only when the reason changes', () => {
    const log = recorder();
    const book = new LeaseBook(ctx(), log);
    const bad = kv('10.244.9.0-24', vx('192.168.50.10', 'zz;reboot'));
    const good = kv('10.244.2.0-24', vx('192.168.50.3'));
    book.replaceAll([bad, good]);
    expect(book.peers.map((p) => p.key)).toEqual([good.key]);
    book.replaceAll([bad, good]); // a re-list
    book.judge();
    book.apply([{ type: 'PUT', kv: kv('10.244.3.0-24', vx('192.168.50.4')) }]);
    book.judge();
    expect(log.lines.filter((l) => l.includes('10.244.9.0-24'))).toEqual([
      `warn lease "${PREFIX}/subnets/10.244.9.0-24" refused (vtep-mac): BackendData.VtepMAC "zz;reboot" is not a MAC address; not programming it`,
    ]);
    book.apply([{ type: 'PUT', kv: kv('10.244.9.0-24', vx('8.8.8.8')) }]);
    expect(book.rejected.map((r) => r.code)).toEqual(['public-ip']);
    book.apply([{ type: 'DELETE', kv: { ...bad, value: '' } }]);
    expect(book.rejected).toEqual([]);
    expect(log.lines.filter((l) => l.includes('10.244.9.0-24'))).toHaveLength(3);
    expect(log.lines.at(-1)).toBe(`info refused lease "${PREFIX}/subnets/10.244.9.0-24" is gone`);
  });

  it('announces peers as they come, change and go', () => {
    const log = recorder();
    const book = new LeaseBook(ctx(), log);
    book.apply([{ type: 'PUT', kv: kv('10.244.2.0-24', vx('192.168.50.3')) }]);
    book.judge();
    book.apply([{ type: 'PUT', kv: kv('10.244.2.0-24', vx('192.168.50.3', '0a:00:00:00:00:99')) }]);
    book.judge();
    book.apply([{ type: 'PUT', kv: kv('10.244.2.0-24', vx('192.168.50.3', 'bad')) }]);
    book.judge();
    expect(log.lines.map((l) => l.replace(/ \(rev \d+\)/, ''))).toEqual([
      'info lease added: 10.244.2.0/24 -> 192.168.50.3 (VTEP 0a:00:00:00:00:05)',
      'info lease changed: 10.244.2.0/24 -> 192.168.50.3 (VTEP 0a:00:00:00:00:99)',
      `warn lease "${PREFIX}/subnets/10.244.2.0-24" refused (vtep-mac): BackendData.VtepMAC "bad" is not a MAC address; not programming it`,
      'info lease removed: 10.244.2.0/24 (now refused)',
    ]);
  });
});
