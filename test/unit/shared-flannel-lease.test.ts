import { describe, expect, it } from 'vitest';
import { formatNet, formatIp, parseNet, parseIp, parseSubnetKey, subnetKey } from '../../src/shared/ipv4.js';
import {
  allocateSubnet,
  decodeLeaseValue,
  encodeLeaseValue,
  findOwnLease,
  leaseKey,
  parseNetworkConfig,
  renderNetworkConfig,
  subnetFromKey,
  type Lease,
} from '../../src/shared/flannel-lease.js';
import { parseSubnetEnv, renderSubnetEnv, subnetEnvFor } from '../../src/shared/subnet-env.js';

const FLANNEL_CFG = '{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}';

describe('ip4', () => {
  it('parses and formats addresses and CIDRs', () => {
    expect(parseIp('10.244.1.0')).toBe(0x0af40100);
    expect(formatIp(0xc0a83202)).toBe('192.168.50.2');
    expect(formatIp(0xffffffff)).toBe('255.255.255.255');
    expect(formatNet(parseNet('10.244.0.0/16'))).toBe('10.244.0.0/16');
    expect(() => parseNet('10.244.1.1/16')).toThrow(/host bits/);
    expect(formatNet(parseNet('10.244.1.1/24', false))).toBe('10.244.1.0/24');
    expect(() => parseIp('10.244.256.1')).toThrow();
    expect(() => parseNet('10.244.0.0/33')).toThrow();
  });

  it('encodes and decodes flannel subnet keys', () => {
    expect(subnetKey(parseNet('10.244.1.0/24'))).toBe('10.244.1.0-24');
    expect(parseSubnetKey('10.244.1.0-24')).toEqual(parseNet('10.244.1.0/24'));
    expect(parseSubnetKey('10.244.1.1-24')).toBeNull(); // host bits
    expect(parseSubnetKey('config')).toBeNull();
    expect(parseSubnetKey('10.244.1.0/24')).toBeNull();
  });
});

describe('network config', () => {
  it('parses flannel\'s config JSON', () => {
    const c = parseNetworkConfig(FLANNEL_CFG);
    expect(formatNet(c.network)).toBe('10.244.0.0/16');
    expect(c.subnetLen).toBe(24);
    expect(c.backend).toEqual({ type: 'vxlan', vni: 1, port: 8472 });
    expect(formatNet(c.subnetMin)).toBe('10.244.1.0/24');
    expect(formatNet(c.subnetMax)).toBe('10.244.255.0/24');
  });

  it('applies flannel defaults per backend', () => {
    expect(parseNetworkConfig('{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}').backend).toEqual({ type: 'udp', vni: 1, port: 8285 });
    expect(parseNetworkConfig('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}').backend.port).toBe(8472);
    expect(parseNetworkConfig('{"Network":"10.244.0.0/16"}').backend.type).toBe('udp');
    expect(parseNetworkConfig('{"Network":"10.244.0.0/16"}').subnetLen).toBe(24);
  });

  it('rejects bad configs with a clear message', () => {
    expect(() => parseNetworkConfig('{')).toThrow(/not JSON/);
    expect(() => parseNetworkConfig('{"SubnetLen":24}')).toThrow(/Network/);
    expect(() => parseNetworkConfig('{"Network":"10.244.0.0/16","SubnetLen":8}')).toThrow(/SubnetLen/);
    expect(() => parseNetworkConfig('{"Network":"10.244.0.0/16","Backend":{"Type":"ipip"}}')).toThrow(/Backend.Type/);
    expect(() => parseNetworkConfig('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":16777216}}')).toThrow(/VNI/);
  });

  it('renders the JSON the CLI writes to <prefix>/config', () => {
    expect(renderNetworkConfig('10.244.0.0/16', 24, 'vxlan')).toBe(FLANNEL_CFG);
    expect(renderNetworkConfig('10.244.0.0/16', 24, 'host-gw')).toBe('{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"host-gw"}}');
    expect(parseNetworkConfig(renderNetworkConfig('10.244.0.0/16', 24, 'udp')).backend.port).toBe(8285);
  });
});

describe('lease key/value', () => {
  const sn = parseNet('10.244.1.0/24');

  it('builds keys like flannel', () => {
    expect(leaseKey('/coreos.com/network', sn)).toBe('/coreos.com/network/subnets/10.244.1.0-24');
    expect(leaseKey('/coreos.com/network/', sn)).toBe('/coreos.com/network/subnets/10.244.1.0-24');
    expect(subnetFromKey('/coreos.com/network', '/coreos.com/network/subnets/10.244.7.0-24')).toEqual(parseNet('10.244.7.0/24'));
    expect(subnetFromKey('/coreos.com/network', '/coreos.com/network/config')).toBeNull();
  });

  it('encodes values exactly like flannel', () => {
    expect(encodeLeaseValue({ publicIp: '192.168.50.2', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: 'aa:bb:cc:dd:ee:ff' } })).toBe(
      '{"PublicIP":"192.168.50.2","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}}',
    );
    // udp / host-gw: no BackendData
    expect(encodeLeaseValue({ publicIp: '192.168.50.2', backendType: 'udp', backendData: {} })).toBe('{"PublicIP":"192.168.50.2","BackendType":"udp"}');
    expect(encodeLeaseValue({ publicIp: '192.168.50.3', backendType: 'host-gw', backendData: {} })).toBe('{"PublicIP":"192.168.50.3","BackendType":"host-gw"}');
  });

  it('decodes values, tolerating missing BackendData', () => {
    const l = decodeLeaseValue(sn, '{"PublicIP":"192.168.50.2","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"AA:BB:CC:DD:EE:FF"}}');
    expect(l.publicIp).toBe('192.168.50.2');
    expect(l.backendData).toEqual({ VNI: 1, VtepMAC: 'AA:BB:CC:DD:EE:FF' });
    const u = decodeLeaseValue(sn, '{"PublicIP":"192.168.50.2","BackendType":"udp","BackendData":null}');
    expect(u.backendData).toEqual({});
    expect(() => decodeLeaseValue(sn, 'nope')).toThrow(/not JSON/);
    expect(() => decodeLeaseValue(sn, '{"PublicIP":"x"}')).toThrow(/PublicIP/);
    // round trip
    expect(encodeLeaseValue(l)).toBe('{"PublicIP":"192.168.50.2","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"AA:BB:CC:DD:EE:FF"}}');
  });
});

describe('subnet allocation', () => {
  const cfg = parseNetworkConfig(FLANNEL_CFG);
  const nets = (...s: string[]) => s.map((x) => parseNet(x));

  it('picks free subnets in order, skipping the network\'s first subnet', () => {
    expect(formatNet(allocateSubnet(cfg, [])!)).toBe('10.244.1.0/24');
    expect(formatNet(allocateSubnet(cfg, nets('10.244.1.0/24'))!)).toBe('10.244.2.0/24');
    expect(formatNet(allocateSubnet(cfg, nets('10.244.1.0/24', '10.244.3.0/24'))!)).toBe('10.244.2.0/24');
  });

  it('honours a preferred subnet when it is valid and free', () => {
    expect(formatNet(allocateSubnet(cfg, nets('10.244.1.0/24'), parseNet('10.244.7.0/24'))!)).toBe('10.244.7.0/24');
    expect(formatNet(allocateSubnet(cfg, nets('10.244.1.0/24'), parseNet('10.244.1.0/24'))!)).toBe('10.244.2.0/24');
    expect(formatNet(allocateSubnet(cfg, [], parseNet('10.244.0.0/24'))!)).toBe('10.244.1.0/24'); // below SubnetMin
    expect(formatNet(allocateSubnet(cfg, [], parseNet('10.245.1.0/24'))!)).toBe('10.244.1.0/24'); // outside
  });

  it('returns null when the network is full', () => {
    const small = parseNetworkConfig('{"Network":"10.10.0.0/22","SubnetLen":24}');
    expect(formatNet(small.subnetMax)).toBe('10.10.3.0/24');
    expect(allocateSubnet(small, nets('10.10.1.0/24', '10.10.2.0/24', '10.10.3.0/24'))).toBeNull();
  });

  it('finds the lease this host already holds', () => {
    const leases: Lease[] = [
      { subnet: parseNet('10.244.2.0/24'), publicIp: '192.168.50.3', backendType: 'vxlan', backendData: {} },
      { subnet: parseNet('10.244.4.0/24'), publicIp: '192.168.50.2', backendType: 'vxlan', backendData: {} },
      { subnet: parseNet('10.244.3.0/24'), publicIp: '192.168.50.2', backendType: 'vxlan', backendData: {} },
    ];
    expect(formatNet(findOwnLease(cfg, leases, '192.168.50.2')!.subnet)).toBe('10.244.3.0/24');
    expect(findOwnLease(cfg, leases, '192.168.50.9')).toBeUndefined();
    expect(formatNet(findOwnLease(cfg, leases, '192.168.50.2', parseNet('10.244.4.0/24'))!.subnet)).toBe('10.244.4.0/24');
  });
});

describe('subnet.env', () => {
  it('renders flannel\'s four variables', () => {
    const env = subnetEnvFor(parseNet('10.244.0.0/16'), parseNet('10.244.1.0/24'), 1450, true);
    expect(renderSubnetEnv(env)).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
    expect(parseSubnetEnv(renderSubnetEnv(env))).toEqual(env);
    expect(parseSubnetEnv('FLANNEL_NETWORK=10.244.0.0/16\n')).toBeNull();
  });
});
