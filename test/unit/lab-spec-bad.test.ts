// The corpus of bad specs: every file in test/fixtures/specs/bad must fail with EXACTLY these
// lines (as printed: "<file>:<line>:<col> <path>: <message> <hint>").
//
// What the corpus covers:
//   YAML syntax ........... yaml-syntax, yaml-duplicate-key, aliases, empty
//   unknown keys .......... unknown-keys, single-network-name, packet-match-schema
//   wrong types ........... wrong-types, wrong-types-nested
//   required keys / shape . missing-required, capture-shape, network-and-networks, no-hosts, too-many-hosts-65, ranges
//   names ................. bad-names, long-names (15 chars for interfaces and bridges, 24 for the lab)
//   duplicate names ....... duplicate-names (hosts, pods in a host, nodes, checks, host/node namespace), duplicate-networks
//   CIDRs ................. cidr-syntax, cidr-host-bits, networks-overlap, underlay-overlap, underlay-prefix
//   host subnets .......... host-subnets (outside, wrong length, overlapping), multi-network-subnet, subnet-len
//   addresses ............. pod-ips, pod-without-subnet, underlay-ips, underlay-full
//   references ............ unknown-refs, unknown-networks, ping-targets, packet-matches
//   gateway ............... gateway-not-router, gateway-is-host, gateway-unknown
//   overlay options ....... udp-static, vni-range, backend-options, vni-clash, port-clash, shared-bridge
//   capacity .............. too-many-hosts (cidr /24, subnetLen 24, 2 hosts), subnet-len, underlay-full
//   pod attachment ........ pod-attach-bridge, pod-attach-networks, pod-attach-value

import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SpecError, formatIssue } from '../../src/lab-spec/spec-error.js';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';

const DIR = 'test/fixtures/specs/bad';

const cases: [file: string, expected: string[]][] = [
  [
    'pod-attach-bridge.yaml',
    [
      `pod-attach-bridge.yaml:4:14 network.podAttach: podAttach: cni puts pods on cni0 (flannel's CNI config leaves the bridge to the bridge plugin, whose default it is), but this lab's pod network uses bridge "docker0" (the default). Set bridge: cni0 on the network (network).`,
      `pod-attach-bridge.yaml:9:16 hosts[1].podAttach: podAttach: cni puts pods on cni0 (flannel's CNI config leaves the bridge to the bridge plugin, whose default it is), but this lab's pod network uses bridge "docker0" (the default). Set bridge: cni0 on the network (network).`,
    ],
  ],
  [
    'pod-attach-networks.yaml',
    [
      `pod-attach-networks.yaml:7:16 hosts[0].podAttach: podAttach: cni attaches pods as a kubelet does, through one CNI network (the first config in /etc/cni/net.d, flannel's 10-flannel.conflist); this lab has 2 pod networks. Use podAttach: cni in a lab with a single network, or podAttach: ip here.`,
    ],
  ],
  [
    'pod-attach-value.yaml',
    [
      `pod-attach-value.yaml:2:37 network.podAttach: "kubelet" is not one of ip, cni.`,
      `pod-attach-value.yaml:4:31 hosts[0].podAttach: "CNI" is not one of ip, cni. Did you mean "cni"?`,
    ],
  ],
  [
    'aliases.yaml',
    [
      `aliases.yaml:7:19: invalid YAML: alias *missing has no anchor &missing before it.`,
    ],
  ],
  [
    'udp-static.yaml',
    [
      `udp-static.yaml:4:17 network.controlPlane: the udp backend forwards every packet through the userspace agent, which learns its peers from etcd; it has no static form. Use controlPlane: etcd (the default for udp), or backend: vxlan or host-gw for a static control plane.`,
    ],
  ],
  [
    'backend-options.yaml',
    [
      `backend-options.yaml:6:5 networks[0].port: "port" only applies to the vxlan and udp backends, but this network's backend is none (the default). Remove port, or set backend: vxlan or udp.`,
      `backend-options.yaml:11:5 networks[1].vni: "vni" only applies to the vxlan backend, but this network's backend is host-gw. Remove vni, or set backend: vxlan.`,
    ],
  ],
  [
    'bad-names.yaml',
    [
      `bad-names.yaml:1:7 name: "Lab_1" is not a valid lab name; use lower-case letters, digits and "-", starting with a letter. Try "lab-1".`,
      `bad-names.yaml:3:11 network.bridge: "br/0" is not a valid Linux interface name; use letters, digits, "_", "." and "-", not starting with "-", not "." or "..", at most 15 bytes.`,
      `bad-names.yaml:5:11 hosts[0].name: "Host1" is not a valid host name; use lower-case letters, digits and "-", starting with a letter. Try "host1".`,
      `bad-names.yaml:6:12 hosts[0].pods[0]: "1pod" is not a valid pod name; use lower-case letters, digits and "-", starting with a letter.`,
    ],
  ],
  [
    'capture-shape.yaml',
    [
      `capture-shape.yaml:8:7 checks[0].capture: a capture needs at least one "expect" or "absent" entry. Add expect: [{...}] (packets that must be seen) or absent: [{...}] (packets that must not).`,
      `capture-shape.yaml:13:5 checks[1].capture: a check has one kind, but this one has "ping" and "capture". Split it into one check per kind.`,
      `capture-shape.yaml:17:5 checks[2]: a check needs one of "ping", "capture", "kernel", "lease", "agentCost", "trace", "link", "service", "bgp". Add e.g. ping: {from: ..., to: ...} or capture: {on: ..., during: ..., expect: [...]}.`,
      `capture-shape.yaml:21:7 checks[3].capture.during: "during" is required.`,
    ],
  ],
  [
    'cidr-host-bits.yaml',
    [
      `cidr-host-bits.yaml:3:9 network.cidr: "172.16.1.5/16" has host bits set; the network it belongs to is 172.16.0.0/16. Write "172.16.0.0/16".`,
      `cidr-host-bits.yaml:5:11 underlay.subnet: "192.168.50.7/24" has host bits set; the network it belongs to is 192.168.50.0/24. Write "192.168.50.0/24".`,
    ],
  ],
  [
    'cidr-syntax.yaml',
    [
      `cidr-syntax.yaml:4:11 networks[0].cidr: "10.1.0.0/33" is not a valid IPv4 network; write it in CIDR notation, e.g. "10.1.0.0/16".`,
      `cidr-syntax.yaml:7:11 networks[1].cidr: "300.1.0.0/16" is not a valid IPv4 network; write it in CIDR notation, e.g. "10.1.0.0/16".`,
      `cidr-syntax.yaml:10:11 networks[2].cidr: "10.3.0.0" has no prefix length. Write the network with its length, e.g. "10.3.0.0/24".`,
      `cidr-syntax.yaml:13:11 underlay.subnet: "192.168.50.0/24/1" is not a valid IPv4 network; write it in CIDR notation, e.g. "10.1.0.0/16".`,
      `cidr-syntax.yaml:16:17 hosts[0].underlayIp: "192.168.50.10/24" is a network, not an address. Write just the address, e.g. "192.168.50.10".`,
    ],
  ],
  [
    'duplicate-names.yaml',
    [
      `duplicate-names.yaml:4:24 hosts[0].pods[2]: duplicate pod name "pod1" in host1; hosts[0].pods[0] already uses it.`,
      `duplicate-names.yaml:6:11 hosts[2].name: duplicate host name "host1"; hosts[0] already uses it.`,
      `duplicate-names.yaml:10:11 nodes[1].name: duplicate node name "outside"; nodes[0] already uses it.`,
      `duplicate-names.yaml:12:11 nodes[2].name: "host2" is already the name of hosts[1]; hosts and external nodes share one namespace. Use another name.`,
      `duplicate-names.yaml:17:11 checks[1].name: duplicate check name "same"; checks[0] already uses it.`,
    ],
  ],
  [
    'duplicate-networks.yaml',
    [
      `duplicate-networks.yaml:6:11 networks[1].name: duplicate network name "blue"; networks[0] already uses it.`,
    ],
  ],
  [
    'empty.yaml',
    [
      `empty.yaml:1:1: the spec is empty. Start with name: <lab-name> and hosts: [...].`,
    ],
  ],
  [
    'gateway-is-host.yaml',
    [
      `gateway-is-host.yaml:3:12 underlay.gateway: "host1" is a host; the gateway must be an external node with role router.`,
    ],
  ],
  [
    'gateway-not-router.yaml',
    [
      `gateway-not-router.yaml:4:12 underlay.gateway: node "outside" has role outside; the gateway must be a router. Set role: router on nodes[0].`,
    ],
  ],
  [
    'gateway-unknown.yaml',
    [
      `gateway-unknown.yaml:3:12 underlay.gateway: unknown node "routr". Did you mean "router"?`,
    ],
  ],
  [
    'host-subnets.yaml',
    [
      `host-subnets.yaml:9:13 hosts[1].subnet: 172.17.2.0/24 is outside network "default" (172.16.0.0/16).`,
      `host-subnets.yaml:11:13 hosts[2].subnet: 172.16.3.0/25 is a /25, but network "default" (172.16.0.0/16) gives each host a /24 (subnetLen). Use a /24, e.g. 172.16.3.0/24.`,
      `host-subnets.yaml:13:13 hosts[3].subnet: 172.16.1.0/24 overlaps the subnet of host1 (172.16.1.0/24) on network "default". Each host needs its own subnet.`,
      `host-subnets.yaml:15:13 hosts[4].subnet: 172.16.0.0/20 is a /20, but network "default" (172.16.0.0/16) gives each host a /24 (subnetLen). Use a /24, e.g. 172.16.0.0/24.`,
    ],
  ],
  [
    'long-names.yaml',
    [
      `long-names.yaml:1:7 name: "a-lab-name-that-is-far-too-long" is 31 characters; lab names are at most 24 (they become part of Docker container names). Use a shorter name.`,
      `long-names.yaml:3:11 network.bridge: "a-very-long-bridge0" is 19 characters; Linux interface names are at most 15. Use a shorter name.`,
      `long-names.yaml:9:15 hosts[1].pods[1].name: "pod-with-a-very-long-name" is 25 characters; Linux interface and namespace names are at most 15. Use a shorter name.`,
      `long-names.yaml:11:11 nodes[0].name: "the-outside-world" is 17 characters; Linux interface and namespace names are at most 15. Use a shorter name.`,
    ],
  ],
  [
    'missing-required.yaml',
    [
      `missing-required.yaml:1:1 name: "name" is required. Add name: <lab-name> at the top.`,
      `missing-required.yaml:3:5 hosts[0].name: "name" is required.`,
      `missing-required.yaml:5:5 nodes[0].role: "role" is required. Add role: outside or role: router.`,
      `missing-required.yaml:7:5 networks[0].cidr: "cidr" is required. Each network in "networks" needs its own cidr, e.g. cidr: 10.1.0.0/16.`,
      `missing-required.yaml:9:5 checks[0].name: "name" is required.`,
      `missing-required.yaml:9:11 checks[0].ping.to: "to" is required.`,
    ],
  ],
  [
    'multi-network-subnet.yaml',
    [
      `multi-network-subnet.yaml:10:5 hosts[0].subnet: "subnet" is for labs with a single "network"; this lab has "networks". Write subnets: {blue: 10.1.1.0/24}.`,
      `multi-network-subnet.yaml:12:5 hosts[1].subnet: "subnet" is for labs with a single "network"; this lab has "networks". Write subnets: {blue: 10.1.2.0/24}.`,
      `multi-network-subnet.yaml:13:5 hosts[1].subnets: "subnet" and "subnets" are both given. Use one of them.`,
    ],
  ],
  [
    'network-and-networks.yaml',
    [
      `network-and-networks.yaml:4:1 networks: "network" and "networks" are both given. Use "network" for one pod network or "networks" for several, not both.`,
    ],
  ],
  [
    'networks-overlap.yaml',
    [
      `networks-overlap.yaml:7:11 networks[1].cidr: 10.1.0.0/16 overlaps network "blue" (10.0.0.0/8). Pod networks must not share addresses.`,
    ],
  ],
  [
    'no-hosts.yaml',
    [
      `no-hosts.yaml:2:11 networks: the list is empty; a lab needs at least one pod network. Add a network, or leave "networks" out for the default one.`,
      `no-hosts.yaml:3:8 hosts: a lab needs at least one host.`,
    ],
  ],
  [
    'packet-match-schema.yaml',
    [
      `packet-match-schema.yaml:11:20 checks[0].capture.expect[0].proto: "fragment" is not one of icmp, arp, udp, tcp, vxlan, flannel-udp, ipv4.`,
      `packet-match-schema.yaml:11:39 checks[0].capture.expect[0].dstPort: 0 is out of range; dstPort must be between 1 and 65535.`,
      `packet-match-schema.yaml:12:18 checks[0].capture.expect[1].src: "Host1" has upper-case letters; names are lower-case. Use host, host/pod, node, host:iface, host/pod:iface, an IPv4 address or a MAC address.`,
      `packet-match-schema.yaml:12:30 checks[0].capture.expect[1].dst: "host1:" has an empty interface name. Use host, host/pod, node, host:iface, host/pod:iface, an IPv4 address or a MAC address.`,
      `packet-match-schema.yaml:12:48 checks[0].capture.expect[1].srcMac: "02:42:ac:10:01" is not a valid MAC address (six pairs of hex digits, like 02:42:ac:10:01:02). Use host, host/pod, node, host:iface, host/pod:iface, an IPv4 address or a MAC address.`,
      `packet-match-schema.yaml:12:74 checks[0].capture.expect[1].dstMac: "pod1/x" in "host1/pod1/x" is not a valid name. Use host, host/pod, node, host:iface, host/pod:iface, an IPv4 address or a MAC address.`,
      `packet-match-schema.yaml:14:32 checks[0].capture.absent[0].vni: -1 is out of range; a VXLAN VNI is 24 bits (0..16777215).`,
      `packet-match-schema.yaml:14:55 checks[0].capture.absent[0].inner.icmpType: 256 is out of range; ICMP types are 0..255.`,
      `packet-match-schema.yaml:14:60 checks[0].capture.absent[0].inner.color: unknown key "color". Allowed here: proto, src, dst, srcMac, dstMac, srcPort, dstPort, port, icmpType, vni, inner.`,
    ],
  ],
  [
    'packet-matches.yaml',
    [
      `packet-matches.yaml:11:18 checks[0].capture.expect[0].src: src matches IPv4 addresses, but "02:42:ac:10:01:02" is a MAC address. Use srcMac for MAC addresses.`,
      `packet-matches.yaml:11:47 checks[0].capture.expect[0].srcMac: srcMac matches MAC addresses, but "172.16.1.2" is an IPv4 address. Use src for IPv4 addresses.`,
      `packet-matches.yaml:12:26 checks[0].capture.expect[1].inner: "inner" only applies to encapsulated packets, but proto is icmp. Use proto: vxlan or proto: flannel-udp, or remove inner.`,
      `packet-matches.yaml:14:41 checks[0].capture.absent[0].inner.dst: host1 has no pod "pod2". Did you mean "host1/pod1"?`,
    ],
  ],
  [
    'ping-targets.yaml',
    [
      `ping-targets.yaml:14:19 checks[0].ping.from: "172.16.1.2" is an IPv4 address; a ping must come from a host, a pod (host/pod) or an external node.`,
      `ping-targets.yaml:16:35 checks[1].ping.to: 8.8.8.8 is outside the lab; overlab only pings addresses inside the lab. Use a lab member's name or an address in 172.16.0.0/16 or 192.168.50.0/24.`,
      `ping-targets.yaml:18:19 checks[2].ping.from: "host1:eth0" is an interface; a ping must come from a host, a pod (host/pod) or an external node.`,
      `ping-targets.yaml:18:35 checks[2].ping.to: "host1/pod1:eth0" is an interface; a ping goes to a host, a pod, an external node or an IPv4 address inside the lab.`,
      `ping-targets.yaml:21:11 checks[3].capture.on: "host1" is not an interface; a capture needs host:iface or host/pod:iface. E.g. "host1:eth0".`,
    ],
  ],
  [
    'pod-ips.yaml',
    [
      `pod-ips.yaml:8:27 hosts[0].pods[0].ip: 172.16.2.5 is outside host1's subnet 172.16.1.0/24. Use an address from 172.16.1.2 to 172.16.1.254.`,
      `pod-ips.yaml:9:27 hosts[0].pods[1].ip: 172.16.1.0 is the network address of host1's subnet 172.16.1.0/24. Use an address from 172.16.1.2 to 172.16.1.254.`,
      `pod-ips.yaml:10:27 hosts[0].pods[2].ip: 172.16.1.1 is the address of the bridge docker0 in host1's subnet 172.16.1.0/24. Use an address from 172.16.1.2 to 172.16.1.254.`,
      `pod-ips.yaml:11:27 hosts[0].pods[3].ip: 172.16.1.255 is the broadcast address of host1's subnet 172.16.1.0/24. Use an address from 172.16.1.2 to 172.16.1.254.`,
      `pod-ips.yaml:13:27 hosts[0].pods[5].ip: 172.16.1.9 is already the address of host1/pod5.`,
      `pod-ips.yaml:16:27 hosts[1].pods[0].ip: 172.16.2.5 is a fixed pod address, but host2 has no fixed subnet on network "default". Add subnet: 172.16.2.0/24 to host2.`,
      `pod-ips.yaml:17:27 hosts[1].pods[1].ip: 10.9.9.9 is outside network "default" (172.16.0.0/16).`,
    ],
  ],
  [
    'pod-without-subnet.yaml',
    [
      `pod-without-subnet.yaml:7:27 hosts[0].pods[0].ip: 172.16.7.20 is a fixed pod address, but host1 has no fixed subnet on network "default". Add subnet: 172.16.7.0/24 to host1.`,
    ],
  ],
  [
    'port-clash.yaml',
    [
      `port-clash.yaml:10:11 networks[1].port: port 8472 is already used by network "blue" (vxlan); a udp network cannot share it. Set another port.`,
      `port-clash.yaml:16:5 networks[3].port: port 8285 (the default) is already used by network "green"; two udp networks cannot share a port. Set another port.`,
    ],
  ],
  [
    'ranges.yaml',
    [
      `ranges.yaml:3:14 network.subnetLen: 31 is out of range; subnetLen must be between 1 and 30.`,
      `ranges.yaml:5:8 underlay.mtu: 100 is out of range; mtu must be between 1280 and 9000.`,
      `ranges.yaml:10:44 checks[0].ping.count: 1001 is out of range; count must be between 1 and 1000.`,
      `ranges.yaml:10:58 checks[0].ping.expect: "maybe" is not one of reachable, unreachable.`,
    ],
  ],
  [
    'shared-bridge.yaml',
    [
      `shared-bridge.yaml:5:5 networks[1].bridge: bridge "docker0" (the default) is already used by network "blue"; each pod network needs its own bridge. Set bridge: to another name, e.g. "cni1".`,
    ],
  ],
  [
    'single-network-name.yaml',
    [
      `single-network-name.yaml:3:3 network.name: unknown key "name". The single network is always named "default"; use "networks" for named networks.`,
    ],
  ],
  [
    'subnet-len.yaml',
    [
      `subnet-len.yaml:5:16 networks[0].subnetLen: subnetLen 12 is shorter than the prefix of 10.1.0.0/16 (/16); host subnets must fit inside the network. Use a subnetLen between 16 and 30.`,
      `subnet-len.yaml:19:7 hosts[0].pods: host1 has 2 pods on network "small", but a /30 host subnet holds only 1. Use a smaller subnetLen (larger host subnets).`,
    ],
  ],
  [
    'too-many-hosts-129.yaml',
    [
      `too-many-hosts-129.yaml:4:3 hosts: 129 hosts are too many; a lab has at most 128.`,
    ],
  ],
  [
    'too-many-hosts.yaml',
    [
      `too-many-hosts.yaml:3:9 network.cidr: 172.16.0.0/24 has room for 1 /24 host subnet, but the lab has 2 hosts. Use a larger cidr or a longer subnetLen.`,
    ],
  ],
  [
    'underlay-full.yaml',
    [
      `underlay-full.yaml:3:11 underlay.subnet: 192.168.50.0/29 has room for 5 hosts and nodes, but the lab has 6. Use a larger underlay subnet.`,
    ],
  ],
  [
    'underlay-ips.yaml',
    [
      `underlay-ips.yaml:6:17 hosts[0].underlayIp: 192.168.51.10 is outside the underlay subnet 192.168.50.0/24. Use an address from 192.168.50.2 to 192.168.50.254.`,
      `underlay-ips.yaml:10:17 hosts[2].underlayIp: 192.168.50.1 is reserved: Docker gives the first address of the underlay subnet to its bridge. Use an address from 192.168.50.2 to 192.168.50.254.`,
      `underlay-ips.yaml:14:17 nodes[0].underlayIp: 192.168.50.20 is already the underlay address of host2.`,
    ],
  ],
  [
    'underlay-overlap.yaml',
    [
      `underlay-overlap.yaml:5:11 underlay.subnet: 10.0.200.0/24 overlaps pod network "default" (10.0.0.0/16). The underlay and the pod networks must not share addresses.`,
    ],
  ],
  [
    'underlay-prefix.yaml',
    [
      `underlay-prefix.yaml:3:11 underlay.subnet: 10.0.0.0/8 is a /8; the underlay subnet must be between /16 and /29. Use a smaller network, e.g. 10.0.0.0/24.`,
    ],
  ],
  [
    'unknown-keys.yaml',
    [
      `unknown-keys.yaml:2:1 netwrok: unknown key "netwrok". Did you mean "network"?`,
      `unknown-keys.yaml:6:5 hosts[0].pod: unknown key "pod". Did you mean "pods"?`,
      `unknown-keys.yaml:7:5 hosts[0].underlayIP: unknown key "underlayIP". Did you mean "underlayIp"?`,
      `unknown-keys.yaml:10:37 checks[0].ping.timeout: unknown key "timeout". Allowed here: from, to, count, expect.`,
    ],
  ],
  [
    'unknown-networks.yaml',
    [
      `unknown-networks.yaml:13:7 hosts[0].subnets.green: unknown network "green". Networks: blue, red.`,
      `unknown-networks.yaml:16:32 hosts[0].pods[1].network: unknown network "rde". Networks: blue, red.`,
    ],
  ],
  [
    'unknown-refs.yaml',
    [
      `unknown-refs.yaml:11:19 checks[0].ping.from: unknown host or node "hots1". Did you mean "host1"?`,
      `unknown-refs.yaml:13:19 checks[1].ping.from: host1 has no pod "pod3". Did you mean "host1/pod1"?`,
      `unknown-refs.yaml:13:35 checks[1].ping.to: "outside" is an external node; external nodes have no pods.`,
      `unknown-refs.yaml:16:11 checks[2].capture.on: unknown host or node "router" in "router:eth0".`,
      `unknown-refs.yaml:17:47 checks[2].capture.during.ping.to: host2 has no pod "pod1". It has no pods; add "pod1" to its pods: list.`,
      `unknown-refs.yaml:19:18 checks[2].capture.expect[0].src: unknown host or node "host3". Did you mean "host1"?`,
      `unknown-refs.yaml:19:33 checks[2].capture.expect[0].dstMac: host2 has no pod "pod9". It has no pods; add "pod9" to its pods: list.`,
    ],
  ],
  [
    'vni-clash.yaml',
    [
      `vni-clash.yaml:7:5 networks[1].vni: VNI 1 (the default) on port 8472 is already used by network "blue"; two vxlan networks on one port need different VNIs. Set vni: 2, for example.`,
    ],
  ],
  [
    'vni-range.yaml',
    [
      `vni-range.yaml:4:8 network.vni: 16777216 is out of range; a VXLAN VNI is 24 bits (0..16777215).`,
      `vni-range.yaml:5:9 network.port: 70000 is out of range; port must be between 1 and 65535.`,
    ],
  ],
  [
    'wrong-types-nested.yaml',
    [
      `wrong-types-nested.yaml:6:9 hosts[0].pods[1]: expected a pod name or a mapping with "name", found a list.`,
      `wrong-types-nested.yaml:7:15 hosts[0].pods[2].name: expected a string, found the number 3.`,
      `wrong-types-nested.yaml:10:49 checks[0].ping.count: expected a whole number, found the number 2.5.`,
      `wrong-types-nested.yaml:17:23 checks[1].capture.expect[0].icmpType: expected echo-request, echo-reply, unreachable or a whole number 0..255, found true.`,
    ],
  ],
  [
    'wrong-types.yaml',
    [
      `wrong-types.yaml:3:14 network.subnetLen: expected a whole number, found the string "24". Remove the quotes.`,
      `wrong-types.yaml:4:8 network.nat: expected true or false, found the string "yes". Write true or false (YAML 1.2 reads yes/no/on/off as strings).`,
      `wrong-types.yaml:6:3 hosts: expected a list, found a mapping.`,
      `wrong-types.yaml:10:17 nodes[0].underlayIp: expected a string, found the number 3232248330.`,
      `wrong-types.yaml:11:9 checks: expected a list, found the string "ping".`,
    ],
  ],
  [
    'yaml-duplicate-key.yaml',
    [
      `yaml-duplicate-key.yaml:4:5: invalid YAML: Map keys must be unique.`,
    ],
  ],
  [
    'yaml-syntax.yaml',
    [
      `yaml-syntax.yaml:5:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ].`,
    ],
  ],
];

function errorsOf(file: string): string[] {
  const text = readFileSync(`${DIR}/${file}`, 'utf8');
  try {
    parseLabSpec(text, file);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(e.issues.map(formatIssue).join('\n'));
    return e.issues.map(formatIssue);
  }
  throw new Error(`${file} parsed without errors`);
}

describe('bad specs', () => {
  it.each(cases)('%s', (file, expected) => {
    expect(errorsOf(file)).toEqual(expected);
  });

  it('every fixture is in the table, and every table entry has a fixture', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(cases.map(([f]) => f).sort()).toEqual(files);
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
});
