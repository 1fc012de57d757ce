import { describe, expect, it } from 'vitest';
import { parseNet } from '../../src/shared/ipv4.js';
import {
  bridgeAddress,
  desiredLocalState,
  desiredPeerState,
  diffPeerState,
  emptyPeerState,
  mtuFor,
  renderBridgeCommands,
  renderLocalCommands,
  renderMasqCommands,
  renderPeerCommands,
  renderPeerRemovalCommands,
} from '../../src/shared/peer-state.js';
import { parseFdb, parseLink, parseNeighbours, parseRoutes } from '../../src/shared/kernel-state.js';

const self = { subnet: '10.244.1.0/24', publicIp: '192.168.50.2', underlayIface: 'eth0' };
const peers = [
  { subnet: '10.244.3.0/24', publicIp: '192.168.50.4', vtepMac: '0A:00:00:00:00:03' },
  { subnet: '10.244.2.0/24', publicIp: '192.168.50.3', vtepMac: '0a:00:00:00:00:02' },
  { subnet: '10.244.1.0/24', publicIp: '192.168.50.2', vtepMac: '0a:00:00:00:00:01' }, // self: skipped
];

describe('desiredPeerState / renderPeerCommands', () => {
  it('vxlan: neighbour, fdb and onlink route per peer, sorted, self skipped', () => {
    const s = desiredPeerState({ type: 'vxlan', vni: 1 }, self, peers);
    expect(renderPeerCommands(s)).toEqual([
      'ip neigh replace 10.244.2.0 lladdr 0a:00:00:00:00:02 dev flannel.1 nud permanent',
      'ip neigh replace 10.244.3.0 lladdr 0a:00:00:00:00:03 dev flannel.1 nud permanent',
      'bridge fdb replace 0a:00:00:00:00:02 dev flannel.1 dst 192.168.50.3 self permanent',
      'bridge fdb replace 0a:00:00:00:00:03 dev flannel.1 dst 192.168.50.4 self permanent',
      'ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      'ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink',
    ]);
    expect(renderPeerRemovalCommands(s)).toEqual([
      'ip route del 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      'ip route del 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink',
      'ip neigh del 10.244.2.0 dev flannel.1',
      'ip neigh del 10.244.3.0 dev flannel.1',
      'bridge fdb del 0a:00:00:00:00:02 dev flannel.1 dst 192.168.50.3 self',
      'bridge fdb del 0a:00:00:00:00:03 dev flannel.1 dst 192.168.50.4 self',
    ]);
  });

  it('vxlan: VNI names the device; peers without a VTEP MAC are skipped', () => {
    const s = desiredPeerState({ type: 'vxlan', vni: 42 }, self, [{ subnet: '10.244.2.0/24', publicIp: '192.168.50.3', vtepMac: '0a:00:00:00:00:02' }, { subnet: '10.244.5.0/24', publicIp: '192.168.50.6' }]);
    expect(s.routes).toEqual([{ dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.42', onlink: true }]);
  });

  it('host-gw: a route via the peer\'s public IP on the underlay', () => {
    const s = desiredPeerState({ type: 'host-gw' }, self, peers);
    expect(renderPeerCommands(s)).toEqual(['ip route replace 10.244.2.0/24 via 192.168.50.3 dev eth0', 'ip route replace 10.244.3.0/24 via 192.168.50.4 dev eth0']);
    expect(s.neighbours).toEqual([]);
    expect(s.fdb).toEqual([]);
  });

  it('udp: no per-peer kernel state, only the forwarding table', () => {
    const s = desiredPeerState({ type: 'udp' }, self, peers);
    expect(renderPeerCommands(s)).toEqual([]);
    expect(s.forwarding).toEqual([
      { subnet: '10.244.2.0/24', endpoint: '192.168.50.3', port: 8285 },
      { subnet: '10.244.3.0/24', endpoint: '192.168.50.4', port: 8285 },
    ]);
  });

  it('is deterministic regardless of input order and de-duplicates subnets', () => {
    const a = desiredPeerState({ type: 'vxlan' }, self, peers);
    const b = desiredPeerState({ type: 'vxlan' }, self, [...peers].reverse());
    expect(a).toEqual(b);
    const dup = desiredPeerState({ type: 'host-gw' }, self, [
      { subnet: '10.244.2.0/24', publicIp: '192.168.50.9' },
      { subnet: '10.244.2.0/24', publicIp: '192.168.50.3' },
    ]);
    expect(dup.routes).toEqual([{ dst: '10.244.2.0/24', via: '192.168.50.3', dev: 'eth0' }]);
  });
});

describe('diffPeerState', () => {
  const desired = desiredPeerState({ type: 'vxlan' }, self, peers);

  it('is empty when the kernel already matches', () => {
    const d = diffPeerState(desired, desired);
    expect(renderPeerCommands(d.add)).toEqual([]);
    expect(renderPeerRemovalCommands(d.remove)).toEqual([]);
  });

  it('adds what is missing and removes what nobody wants', () => {
    const actual = emptyPeerState();
    actual.routes = [
      { dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true },
      { dst: '10.244.9.0/24', via: '10.244.9.0', dev: 'flannel.1', onlink: true },
    ];
    actual.neighbours = [{ ip: '10.244.2.0', lladdr: '0a:00:00:00:00:99', dev: 'flannel.1' }]; // MAC changed
    actual.fdb = [{ mac: '0a:00:00:00:00:99', dst: '192.168.50.3', dev: 'flannel.1' }];
    const d = diffPeerState(desired, actual);
    expect(renderPeerCommands(d.add)).toEqual([
      'ip neigh replace 10.244.2.0 lladdr 0a:00:00:00:00:02 dev flannel.1 nud permanent',
      'ip neigh replace 10.244.3.0 lladdr 0a:00:00:00:00:03 dev flannel.1 nud permanent',
      'bridge fdb replace 0a:00:00:00:00:02 dev flannel.1 dst 192.168.50.3 self permanent',
      'bridge fdb replace 0a:00:00:00:00:03 dev flannel.1 dst 192.168.50.4 self permanent',
      'ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink',
    ]);
    expect(renderPeerRemovalCommands(d.remove)).toEqual([
      'ip route del 10.244.9.0/24 via 10.244.9.0 dev flannel.1 onlink',
      'bridge fdb del 0a:00:00:00:00:99 dev flannel.1 dst 192.168.50.3 self',
    ]);
  });
});

describe('local state and pod side', () => {
  it('vxlan device as flannel creates it', () => {
    const l = desiredLocalState({ type: 'vxlan', vni: 1 }, self, { network: '10.244.0.0/16', underlayMtu: 1500 });
    expect(renderLocalCommands(l)).toEqual([
      'ip link add flannel.1 type vxlan id 1 local 192.168.50.2 dev eth0 dstport 8472 nolearning',
      'ip link set flannel.1 mtu 1450',
      'ip addr replace 10.244.1.0/32 dev flannel.1',
      'ip link set flannel.1 up',
    ]);
    const pinned = desiredLocalState({ type: 'vxlan', vni: 1 }, self, { network: '10.244.0.0/16', underlayMtu: 9000, vtepMac: '0A:00:00:00:00:01' });
    expect(renderLocalCommands(pinned)[0]).toBe('ip link add flannel.1 address 0a:00:00:00:00:01 type vxlan id 1 local 192.168.50.2 dev eth0 dstport 8472 nolearning');
    expect(renderLocalCommands(pinned)[1]).toBe('ip link set flannel.1 mtu 8950');
  });

  it('udp TUN with the whole-network route', () => {
    const l = desiredLocalState({ type: 'udp' }, self, { network: '10.244.0.0/16', underlayMtu: 1500 });
    expect(renderLocalCommands(l)).toEqual([
      'ip tuntap add dev flannel0 mode tun',
      'ip link set flannel0 mtu 1472',
      'ip addr replace 10.244.1.0/32 dev flannel0',
      'ip link set flannel0 up',
      'ip route replace 10.244.0.0/16 dev flannel0',
    ]);
  });

  it('host-gw has no device', () => {
    expect(renderLocalCommands(desiredLocalState({ type: 'host-gw' }, self, { network: '10.244.0.0/16', underlayMtu: 1500 }))).toEqual([]);
  });

  it('MTUs per backend', () => {
    expect(mtuFor('vxlan', 1500)).toBe(1450);
    expect(mtuFor('udp', 1500)).toBe(1472);
    expect(mtuFor('host-gw', 1500)).toBe(1500);
  });

  it('bridge and masquerade', () => {
    expect(bridgeAddress('10.244.1.0/24')).toBe('10.244.1.1/24');
    expect(renderBridgeCommands('cni0', '10.244.2.0/24')).toEqual(['ip link add cni0 type bridge', 'ip addr replace 10.244.2.1/24 dev cni0', 'ip link set cni0 up']);
    expect(renderMasqCommands('10.244.0.0/16')).toEqual([
      'iptables -t filter -C FORWARD -s 10.244.0.0/16 -j ACCEPT 2>/dev/null || iptables -t filter -A FORWARD -s 10.244.0.0/16 -j ACCEPT',
      'iptables -t filter -C FORWARD -d 10.244.0.0/16 -j ACCEPT 2>/dev/null || iptables -t filter -A FORWARD -d 10.244.0.0/16 -j ACCEPT',
      'iptables -t nat -C POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE 2>/dev/null || iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE',
    ]);
  });
});

describe('kernel state parsers (real iproute2 6.1 output)', () => {
  const net = parseNet('10.244.0.0/16');
  it('routes', () => {
    const all =
      '[{"dst":"10.244.1.0/24","dev":"docker0","protocol":"kernel","scope":"link","prefsrc":"10.244.1.1","flags":[]},{"dst":"10.244.2.0/24","gateway":"10.244.2.0","dev":"flannel.1","flags":["onlink"]},{"dst":"192.168.50.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.168.50.2","flags":[]}]';
    expect(parseRoutes(all, 'flannel.1', net)).toEqual([{ dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true }]);
    const byDev = '[{"dst":"10.244.3.0/24","gateway":"192.168.50.3","flags":[]},{"dst":"192.168.50.0/24","protocol":"kernel","scope":"link","prefsrc":"192.168.50.2","flags":[]}]';
    expect(parseRoutes(byDev, 'eth0', net)).toEqual([{ dst: '10.244.3.0/24', via: '192.168.50.3', dev: 'eth0' }]);
    expect(parseRoutes('[{"dst":"10.244.0.0/16","scope":"link","flags":[]}]', 'flannel0', net)).toEqual([]);
    expect(parseRoutes('', 'eth0', net)).toEqual([]);
  });
  it('neighbours and fdb', () => {
    expect(parseNeighbours('[{"dst":"10.244.2.0","lladdr":"0A:00:00:00:00:02","state":["PERMANENT"]},{"dst":"192.168.50.1","lladdr":"aa:aa:aa:aa:aa:aa","state":["REACHABLE"]}]', 'flannel.1', net)).toEqual([
      { ip: '10.244.2.0', lladdr: '0a:00:00:00:00:02', dev: 'flannel.1' },
    ]);
    const fdb =
      '[{"mac":"33:33:00:00:00:01","ifname":"eth0","flags":["self"],"state":"permanent"},{"mac":"0a:00:00:00:00:02","ifname":"flannel.1","dst":"192.168.50.3","flags":["self"],"state":"permanent"},{"mac":"00:00:00:00:00:00","ifname":"flannel.1","dst":"192.168.50.9","flags":["self"],"state":"permanent"}]';
    expect(parseFdb(fdb, 'flannel.1')).toEqual([{ mac: '0a:00:00:00:00:02', dst: '192.168.50.3', dev: 'flannel.1' }]);
  });
  it('vxlan link details', () => {
    const link =
      '[{"ifindex":4,"ifname":"flannel.1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"address":"62:f7:4c:e5:66:42","linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"192.168.50.2","link":"eth0","port":8472,"learning":false}}}]';
    const addr = '[{"ifindex":4,"ifname":"flannel.1","addr_info":[{"family":"inet","local":"10.244.1.0","prefixlen":32}]}]';
    expect(parseLink(link, addr)).toEqual({
      name: 'flannel.1',
      index: 4,
      mac: '62:f7:4c:e5:66:42',
      mtu: 1450,
      up: true,
      kind: 'vxlan',
      vxlan: { id: 1, local: '192.168.50.2', link: 'eth0', port: 8472, learning: false },
      addresses: [{ ip: '10.244.1.0', prefixLen: 32 }],
    });
    expect(parseLink('')).toBeNull();
  });
});
