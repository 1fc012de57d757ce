// The one source of the lab spec's shape: the JSON Schema (schema/lab.schema.json, generated from
// this file by scripts/generate-schema.mjs at build time, and the validator precompiled from it)
// and the raw TypeScript types (Static<...>) come from here, so they cannot drift.
//
// Written with TypeBox, whose builders ARE JSON Schema objects: the file reads like the schema it
// produces, and the types follow from it with no generator. TypeBox is a build-time dependency:
// runtime code imports only types from this module (`import type`), never the module itself —
// the CLI validates with the precompiled validator (src/lab-loader/lab-validator.ts).
//
// String formats live in `definitions` and are used by $ref, so a validation error's schemaPath
// (#/definitions/<format>/<keyword>) says what kind of value failed (src/lab-spec/schema-issues.ts).
import { Type as T, type Static, type TObject, type TProperties, type TSchema } from 'typebox';
import {
  IMAGE_MAX_LENGTH,
  IMAGE_SCHEMA_PATTERN,
  NAME_RULES,
  RESERVED_NODE_NAMES,
  TEXT_RULES,
  type NameKind,
  type TextKind,
} from './name-rules.js';
import { MAX_HOSTS } from './limits.js';

const IPV4 = '(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const PREFIX = '(?:3[0-2]|[12]?[0-9])';
const MAC = '[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}';
const LOWER = NAME_RULES.node.schemaPattern.slice(1, -1); // the node/pod name rule, unanchored
const IFACE = NAME_RULES.iface.schemaPattern.slice(1, -1);

/** Every named definition, in the order they appear in the schema file. */
const DEFINITIONS: Record<string, TSchema> = {};

/** Registers a definition; returns a builder of `$ref`s to it with their own description. */
function define<S extends TSchema>(name: string, schema: S) {
  DEFINITIONS[name] = schema;
  return (description?: string) => T.Unsafe<Static<S>>({ $ref: `#/definitions/${name}`, ...(description ? { description } : {}) });
}

const nameSchema = (kind: NameKind, description: string) =>
  T.String({ pattern: NAME_RULES[kind].schemaPattern, maxLength: NAME_RULES[kind].maxBytes, description });
const textSchema = (kind: TextKind, description: string) =>
  T.String({ pattern: TEXT_RULES[kind].schemaPattern, maxLength: TEXT_RULES[kind].maxLength, description });

// ---------------------------------------------------------------- formats

const labName = define('labName', nameSchema('lab', `A lab name: ${NAME_RULES.lab.rule}. Used in Docker container names (overlab-<lab>-<node>).`));
const nodeName = define(
  'nodeName',
  T.String({
    pattern: NAME_RULES.node.schemaPattern,
    maxLength: NAME_RULES.node.maxBytes,
    not: { enum: Object.keys(RESERVED_NODE_NAMES) },
    description: `A host or external node name: ${NAME_RULES.node.rule} (it also names the node's port on the underlay switch); not ${Object.keys(RESERVED_NODE_NAMES).join(', ')} (overlab's own).`,
  }),
);
const engineName = define(
  'engineName',
  T.String({ pattern: NAME_RULES.node.schemaPattern, maxLength: NAME_RULES.node.maxBytes, description: `An engine name: ${NAME_RULES.node.rule} (the name of that engine's switch container, overlab-<lab>-switch-<engine>).` }),
);
/** A node a fault may name: hosts and external nodes, and overlab's own etcd node. */
const memberName = define('memberName', nameSchema('node', `A lab node: a host, an external node, or etcd (${NAME_RULES.node.rule}).`));
const podName = define('podName', nameSchema('pod', `A pod name: ${NAME_RULES.pod.rule} (it names the pod's network namespace).`));
const networkName = define('networkName', nameSchema('network', `A pod network name: ${NAME_RULES.network.rule}.`));
const segmentName = define('segmentName', nameSchema('segment', `A segment of a routed underlay (a rack): ${NAME_RULES.segment.rule}. It names the segment's bridge in the lab's switch.`));
const ifaceName = define('ifaceName', nameSchema('iface', `A Linux interface name: ${NAME_RULES.iface.rule}.`));
const ipv4 = define('ipv4', T.String({ pattern: `^${IPV4}$`, description: 'An IPv4 address, e.g. 192.168.50.10.' }));
const cidr = define('cidr', T.String({ pattern: `^${IPV4}/${PREFIX}$`, description: 'An IPv4 network in CIDR notation with no host bits set, e.g. 172.16.0.0/16.' }));
const ref = define(
  'ref',
  T.String({
    pattern: `^(?:${LOWER}(?:/${LOWER})?(?::${IFACE})?|${IPV4}|${MAC})$`,
    maxLength: 64,
    description: 'A reference: host, host/pod, external node, host:iface, host/pod:iface, or a literal IPv4 or MAC address.',
  }),
);
const image = define(
  'image',
  T.String({ pattern: IMAGE_SCHEMA_PATTERN, maxLength: IMAGE_MAX_LENGTH, description: 'A container image reference: [registry/]name[:tag][@digest].' }),
);
const description = define('description', textSchema('description', `Free text, at most ${TEXT_RULES.description.maxLength} characters, no control characters.`));
const checkName = define('checkName', textSchema('checkName', `A check name: one line, at most ${TEXT_RULES.checkName.maxLength} characters, no control characters.`));
const port = define('port', T.Integer({ minimum: 1, maximum: 65535 }));
const serviceName = define('serviceName', nameSchema('service', `A Service name: ${NAME_RULES.service.rule}.`));
const namespaceName = define('namespaceName', nameSchema('namespace', `A namespace: ${NAME_RULES.namespace.rule}.`));
const servicePortName = define('servicePortName', nameSchema('servicePort', `A Service port name: ${NAME_RULES.servicePort.rule}.`));
const podRef = define(
  'podRef',
  T.String({ pattern: `^${LOWER}/${LOWER}$`, maxLength: 32, description: 'A pod: <host>/<pod>.' }),
);
export const SERVICE_PROTOCOLS = ['TCP', 'UDP'] as const;
const serviceProtocol = (text: string) => stringEnum(SERVICE_PROTOCOLS, { default: 'TCP', description: text });

const ping = define(
  'ping',
  T.Object(
    {
      from: ref('Who pings: a host, host/pod or external node.'),
      to: ref('Who is pinged: a host, host/pod, external node, or a literal IPv4 address inside the lab.'),
      count: T.Optional(
        T.Integer({
          minimum: 1,
          maximum: 1000,
          default: 3,
          description: 'Number of echo requests (1..1000; ping checks send one every 0.2 s, agentCost bursts every 10 ms).',
        }),
      ),
      expect: T.Optional(
        stringEnum(['reachable', 'unreachable'] as const, {
          default: 'reachable',
          description: 'Whether the replies must arrive (reachable) or must not (unreachable).',
        }),
      ),
    },
    { additionalProperties: false, description: 'Ping from one lab member to another.' },
  ),
);

const PACKET_PROTOS = ['icmp', 'arp', 'udp', 'tcp', 'vxlan', 'flannel-udp', 'ipv4'] as const;

/** A string from a fixed list, as a JSON Schema `enum` (one error keyword, one message). */
function stringEnum<const V extends readonly string[]>(values: V, options: Record<string, unknown> = {}) {
  return T.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options });
}
const packetMatchFields = {
  proto: T.Optional(stringEnum(PACKET_PROTOS, { description: 'Protocol of the (outer) packet.' })),
  src: T.Optional(ref('IPv4 source: a lab member or a literal address.')),
  dst: T.Optional(ref('IPv4 destination: a lab member or a literal address.')),
  srcMac: T.Optional(ref('Ethernet source: a lab member, an interface or a literal MAC.')),
  dstMac: T.Optional(ref('Ethernet destination: a lab member, an interface or a literal MAC.')),
  srcPort: T.Optional(port('UDP/TCP source port.')),
  dstPort: T.Optional(port('UDP/TCP destination port.')),
  port: T.Optional(port('UDP/TCP port at either end (source or destination), e.g. 179 for a BGP session whichever side connected.')),
  icmpType: T.Optional(
    T.Union(
      [
        stringEnum(['echo-request', 'echo-reply', 'unreachable'] as const),
        T.Integer({ minimum: 0, maximum: 255 }),
      ],
      { description: 'ICMP type: echo-request, echo-reply, unreachable, or a number 0..255.' },
    ),
  ),
  vni: T.Optional(T.Integer({ minimum: 0, maximum: 16777215, description: 'VXLAN network identifier.' })),
};
export type RawPacketMatch = Static<TObject<typeof packetMatchFields>> & { inner?: RawPacketMatch };
const packetMatch = define(
  'packetMatch',
  T.Object(
    {
      ...packetMatchFields,
      inner: T.Optional(
        T.Unsafe<RawPacketMatch>({
          $ref: '#/definitions/packetMatch',
          description: 'Conditions on the encapsulated (inner) packet of a vxlan or flannel-udp packet.',
        }),
      ),
    },
    { additionalProperties: false, description: 'Conditions a captured packet must all meet.' },
  ),
);

/** Traffic generated while a check observes: `during: { ping: {...} }`. */
const during = (text: string) =>
  T.Object({ ping: ping() }, { additionalProperties: false, description: text });

/** What a check (or fault) kind's schema fragment may use: the builder and the shared formats. */
function makeKit() {
  return { T, ref, nodeName, memberName, networkName, ifaceName, ping, packetMatch, port, during, cidr, ipv4, stringEnum, serviceName, namespaceName, servicePortName, podRef };
}
export type SchemaKit = ReturnType<typeof makeKit>;
/** The kit, for the kinds and for schemas built on this one (the exercise's, src/workshop/exercise-schema.ts). */
export const kit = makeKit();

// ---------------------------------------------------------------- the lab

const BACKENDS = ['none', 'host-gw', 'vxlan', 'udp', 'bgp'] as const;
export const POD_ATTACH_MODES = ['ip', 'cni'] as const;
const podAttach = (text: string) =>
  stringEnum(POD_ATTACH_MODES, {
    description: `${text} ip: overlab wires each pod itself with ip commands (a veth pair into the bridge, address, default route). cni: as a kubelet does, through real CNI plugins: /etc/cni/net.d/10-flannel.conflist, flannel's plugin reading /run/flannel/subnet.env and delegating to bridge with host-local IPAM, then portmap (one pod network, bridge cni0; docs/cni.md).`,
  });
function podNetworkFields() {
  return {
    cidr: cidr('The whole pod network (flannel "Network"). Each host gets a subnetLen-sized slice of it.'),
    subnetLen: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 30,
        default: 24,
        description: 'Prefix length of each host\'s pod subnet (flannel "SubnetLen"); longer than the cidr prefix, at most 30.',
      }),
    ),
    bridge: T.Optional(
      T.Unsafe<string>({
        $ref: '#/definitions/ifaceName',
        default: 'docker0',
        description: 'Linux bridge the pods of this network attach to inside each host, e.g. docker0 or cni0.',
      }),
    ),
    backend: T.Optional(
      stringEnum(BACKENDS, {
        default: 'none',
        description:
          'How pod traffic crosses hosts: none (no cross-host routing), host-gw (routes via the underlay), vxlan (kernel VXLAN overlay), udp (flanneld user-space UDP encapsulation) or bgp (Calico\'s way: BIRD on every host announces its IPAM blocks; plain packets).',
      }),
    ),
    controlPlane: T.Optional(
      stringEnum(['static', 'etcd'] as const, {
        description:
          'Where the per-host subnet leases and routes come from: static (computed up front) or etcd (flannel-style leases). Default: static for none and host-gw, etcd for vxlan and udp.',
      }),
    ),
    vni: T.Optional(T.Integer({ minimum: 0, maximum: 16777215, default: 1, description: 'VXLAN network identifier (24 bits). Only for backend vxlan.' })),
    port: T.Optional(
      T.Integer({ minimum: 1, maximum: 65535, description: 'UDP port of the overlay: default 8472 for vxlan, 8285 for udp. Only for backends vxlan and udp.' }),
    ),
    nat: T.Optional(T.Boolean({ default: true, description: 'Masquerade pod traffic that leaves the pod network (flannel --ip-masq).' })),
    podAttach: T.Optional(podAttach('How the hosts attach their pods (each host may override it).')),
    blockSize: T.Optional(
      T.Integer({
        minimum: 20,
        maximum: 30,
        default: 26,
        description: "bgp only: prefix length of the IPAM blocks the pod network is cut into (Calico's IPPool blockSize, default 26); a host takes as many blocks as its pods need.",
      }),
    ),
    bgp: T.Optional(
      T.Object(
        {
          as: T.Optional(T.Integer({ minimum: 1, maximum: 4294967295, default: 64512, description: "The AS number every node uses (iBGP; Calico's default 64512)." })),
          reflectors: T.Optional(
            T.Array(nodeName(), {
              minItems: 1,
              uniqueItems: true,
              description: 'Route reflectors (routers or hosts): they mesh among themselves; every other node peers with the reflectors of its segment (all of them when its segment has none). Absent: a full mesh, every node with every other.',
            }),
          ),
        },
        { additionalProperties: false, description: 'bgp only: how the nodes peer (BGPConfiguration and BGPPeer in Calico).' },
      ),
    ),
    ipipMode: T.Optional(
      stringEnum(['Never', 'Always', 'CrossSubnet'] as const, {
        default: 'Never',
        description: "bgp only: Calico's IP-in-IP encapsulation. Only Never is built: IP-in-IP needs the kernel's ipip module (overlab says so, exit 3, when it is asked for).",
      }),
    ),
    leaseTtl: T.Optional(
      T.Integer({
        minimum: 5,
        maximum: 86400,
        description:
          "Seconds an agent's subnet lease lives in etcd without renewal (etcd control plane; flannel's is 24 h). Short values let a workshop watch a stopped host's lease expire.",
      }),
    ),
  };
}

/** vni only with vxlan, port only with vxlan or udp. */
const BACKEND_OPTIONS = [
  {
    if: { not: { required: ['backend'], properties: { backend: { const: 'vxlan' } } } },
    then: { properties: { vni: false } },
  },
  {
    if: { not: { required: ['backend'], properties: { backend: { enum: ['vxlan', 'udp'] } } } },
    then: { properties: { port: false } },
  },
  {
    if: { not: { required: ['backend'], properties: { backend: { const: 'bgp' } } } },
    then: { properties: { blockSize: false, bgp: false, ipipMode: false } },
  },
];

const { cidr: singleCidr, ...singleRest } = podNetworkFields();
const singleNetwork = T.Object(
  { cidr: T.Optional(T.Unsafe<string>({ ...singleCidr, default: '172.16.0.0/16' })), ...singleRest },
  {
    additionalProperties: false,
    allOf: BACKEND_OPTIONS,
    description: 'The pod network, when the lab has just one (it is named "default"). Use either network or networks, not both.',
  },
);
const namedNetwork = T.Object(
  { name: networkName('Network name, unique in the lab; pods and host subnets refer to it.'), ...podNetworkFields() },
  { additionalProperties: false, allOf: BACKEND_OPTIONS, description: 'One pod network.' },
);

const pod = T.Union(
  [
    podName(),
    T.Object(
      {
        name: podName('Pod name, unique in its host; also the network namespace name.'),
        ip: T.Optional(ipv4("Fixed pod address inside the host's subnet (not the network, .1 bridge or broadcast address).")),
        network: T.Optional(networkName('The pod network this pod joins (default: the first).')),
        serve: T.Optional(
          T.Array(
            T.Object(
              {
                port: port('The port the server listens on in the pod.'),
                protocol: T.Optional(serviceProtocol('TCP (default) or UDP.')),
              },
              { additionalProperties: false, description: 'One port the pod serves.' },
            ),
            {
              minItems: 1,
              maxItems: 8,
              description: "Ports a small server in the pod listens on; it answers every request with who it is (pod, host, address) and whom it saw asking. A Service's endpoints are pods that serve its targetPort.",
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'A pod: its name, or a mapping with name, ip, network and the ports it serves.' },
);

const servicePort = T.Object(
  {
    name: T.Optional(servicePortName('The port\'s name; needed when the Service has more than one port (kube-proxy names its chains after it).')),
    port: port('The port the ClusterIP listens on.'),
    targetPort: T.Optional(port('The port of the endpoints the traffic goes to (default: port).')),
    protocol: T.Optional(serviceProtocol('TCP (default) or UDP.')),
    nodePort: T.Optional(
      T.Integer({ minimum: 30000, maximum: 32767, description: 'type NodePort: the port every host opens for it, 30000-32767 (allocated from 30000 when absent).' }),
    ),
  },
  { additionalProperties: false, description: 'One port of a Service.' },
);

const service = T.Object(
  {
    name: serviceName('The Service\'s name, unique in its namespace.'),
    namespace: T.Optional(namespaceName('Its namespace (default: default).')),
    type: T.Optional(stringEnum(['ClusterIP', 'NodePort'] as const, { default: 'ClusterIP', description: 'ClusterIP (default): a virtual address inside the lab; NodePort: also a port on every host.' })),
    clusterIP: T.Optional(ipv4('Its virtual address, inside serviceCIDR (allocated when absent).')),
    ports: T.Array(servicePort, { minItems: 1, maxItems: 16, description: 'Its ports.' }),
    endpoints: T.Array(podRef(), {
      maxItems: 64,
      description: 'The pods behind it (as an EndpointSlice lists them): each must serve every targetPort. Empty: a Service without endpoints, which kube-proxy makes refuse connections.',
    }),
  },
  { additionalProperties: false, description: 'A Kubernetes Service: kube-proxy\'s rules for it are written on every host.' },
);

const host = T.Object(
  {
    name: nodeName('Host name, unique among hosts and nodes.'),
    subnet: T.Optional(cidr("This host's pod subnet (single network form); allocated when absent.")),
    subnets: T.Optional(
      T.Unsafe<Record<string, string>>({
        type: 'object',
        propertyNames: { $ref: '#/definitions/networkName' },
        additionalProperties: cidr(),
        description: "This host's pod subnet per network, keyed by network name (multi-network form); missing entries are allocated.",
      }),
    ),
    underlayIp: T.Optional(ipv4("This host's address on the underlay; allocated when absent. Must lie inside underlay.subnet.")),
    pods: T.Optional(T.Array(pod, { description: 'Pods (network namespaces) in this host: a name, or a mapping with name, ip and network.' })),
    podAttach: T.Optional(podAttach("How this host attaches its pods (default: the network's podAttach).")),
    engine: T.Optional(engineName('The engine (a name under engines:) this host runs on; without it hosts are dealt out over the engines in spec order.')),
    segment: T.Optional(segmentName('The underlay segment (rack) this host stands on; default: the first of underlay.segments.')),
  },
  { additionalProperties: false, description: 'One host.' },
);

const engine = T.Object(
  {
    host: T.Optional(T.String({ minLength: 1, maxLength: 300, pattern: '^(unix|tcp|ssh)://[^\\s]+$', description: 'How to reach the engine, as DOCKER_HOST says it: unix:///path, tcp://host:port (with certPath for mutual TLS) or ssh://user@host[:port].' })),
    context: T.Optional(T.String({ minLength: 1, maxLength: 200, pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$', description: 'A Docker context (docker context ls) that says how to reach the engine.' })),
    address: T.Optional(ipv4("The engine machine's address that the other engines reach it at (the tunnels' end); default: the host of a tcp:// or ssh:// address, else the machine's only global IPv4 address.")),
    certPath: T.Optional(T.String({ minLength: 1, maxLength: 1000, description: 'For tcp://: a directory with ca.pem, cert.pem and key.pem (as DOCKER_CERT_PATH); default: DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set.' })),
    tlsVerify: T.Optional(T.Boolean({ description: "For tcp:// with certPath: check the engine's certificate against ca.pem (default true)." })),
  },
  { additionalProperties: false, description: 'One engine (a machine running Docker or Podman): exactly one of host or context.' },
);

const externalNode = T.Object(
  {
    name: nodeName('Node name; hosts and external nodes share one namespace.'),
    role: stringEnum(['outside', 'router'] as const, {
      description: 'outside: a plain machine on the underlay; router: forwards traffic and can be the underlay gateway.',
    }),
    underlayIp: T.Optional(ipv4("This node's address on the underlay (on its first segment); allocated when absent.")),
    segments: T.Optional(
      T.Array(segmentName(), {
        minItems: 1,
        maxItems: 8,
        uniqueItems: true,
        description: 'The underlay segments this node is on, in order (its eth0, eth1, …): a router joins several; default: the first of underlay.segments.',
      }),
    ),
    engine: T.Optional(engineName('The engine (a name under engines:) this node runs on; default: the first.')),
  },
  { additionalProperties: false, description: 'One external node.' },
);

/** What the schema needs of a check or fault kind (src/lab-spec/keyed-kinds.ts has the whole). */
export interface SchemaKind {
  readonly key: string;
  schema(kit: SchemaKit): TSchema;
}

/** The kinds the schema is made with: handed in from above (src/lab-loader/lab-kinds.ts). */
export interface SchemaKinds {
  checks: readonly SchemaKind[];
  faults: readonly SchemaKind[];
}

/** The schema of one entry: the common properties, one optional property per kind, exactly one present. */
function keyedUnionSchema(kit: SchemaKit, kinds: readonly SchemaKind[], common: TProperties, description: string): TObject {
  const { T } = kit;
  const byKind = Object.fromEntries(kinds.map((k) => [k.key, T.Optional(k.schema(kit))]));
  return T.Object({ ...common, ...byKind }, { additionalProperties: false, oneOf: kinds.map((k) => ({ required: [k.key] })), description });
}

// A check and a fault are one of several kinds, which sit above this layer: their definitions are
// made from the kinds handed to labJsonSchema (a placeholder holds each one's place in the file).
/** A raw check: its common fields and its kind's key (the kind reads its own part). */
export type RawCheck = { name: string; description?: string } & Record<string, unknown>;
const checkDefinition = define('check', T.Unsafe<RawCheck>({}));
const checkSchema = (kinds: SchemaKinds) =>
  keyedUnionSchema(kit, kinds.checks, {
    name: checkName('Check name, unique in the lab.'),
    description: T.Optional(description('What the check shows.')),
  }, 'One check: exactly one of ' + kinds.checks.map((k) => k.key).join(', ') + '.');

/** A raw fault: its description and its kind's key. */
export type RawFault = { description?: string } & Record<string, unknown>;
const faultDefinition = define('fault', T.Unsafe<RawFault>({}));
const faultSchema = (kinds: SchemaKinds) =>
  keyedUnionSchema(kit, kinds.faults, {
    description: T.Optional(description('Why the fault is there, for the people who read the spec.')),
  }, 'One fault that `up` applies after wiring: exactly one of ' + kinds.faults.map((k) => k.key).join(', ') + '.');

export const LabSchema = T.Object(
  {
    name: labName(),
    description: T.Optional(description('Free text describing what the lab shows.')),
    image: T.Optional(image('Container image for the hosts (default overlab/host:<version>).')),
    network: T.Optional(singleNetwork),
    networks: T.Optional(
      T.Array(namedNetwork, { minItems: 1, description: 'Several pod networks, each with a unique name. Use either network or networks, not both.' }),
    ),
    underlay: T.Optional(
      T.Object(
        {
          subnet: T.Optional(cidr('Underlay IPv4 subnet, prefix between /16 and /29. Chosen automatically when absent.')),
          mtu: T.Optional(T.Integer({ minimum: 1280, maximum: 9000, default: 1500, description: 'MTU of the underlay links.' })),
          gateway: T.Optional(nodeName('Name of an external node with role router that the hosts use as default gateway.')),
          segments: T.Optional(
            T.Array(
              T.Object(
                {
                  name: segmentName('Segment name, unique; also the name of its bridge in the switch.'),
                  subnet: T.Optional(cidr("The segment's IPv4 subnet, prefix between /16 and /29; chosen automatically when absent.")),
                  gateway: T.Optional(nodeName("The router the segment's hosts use as default route; default: the first router on the segment.")),
                },
                { additionalProperties: false, description: 'One segment (a rack): its own subnet and its own bridge.' },
              ),
              {
                minItems: 1,
                maxItems: 16,
                description: 'A routed underlay: several segments (racks), each its own subnet and bridge, joined by router nodes that know host addresses only. The first is the default segment. Use either segments or subnet/gateway.',
              },
            ),
          ),
        },
        { additionalProperties: false, description: 'The underlay network that connects hosts and external nodes (a bridge in the lab\'s switch container).' },
      ),
    ),
    engines: T.Optional(
      T.Unsafe<Record<string, Static<typeof engine>>>({
        type: 'object',
        propertyNames: { $ref: '#/definitions/engineName' },
        additionalProperties: plain(engine),
        minProperties: 1,
        maxProperties: 16,
        description: 'The engines (machines) the lab spreads over, by name; the first is the primary (it holds the lab\'s model and lock, etcd and the external nodes). Hosts without engine: are dealt out in spec order. One switch per engine, joined by VXLAN tunnels.',
      }),
    ),
    stitch: T.Optional(
      T.Object(
        {
          port: T.Optional(T.Integer({ minimum: 1, maximum: 65535, default: 14789, description: 'UDP port of the VXLAN tunnels between engines (default 14789).' })),
          vni: T.Optional(T.Integer({ minimum: 1, maximum: 16777215, description: "VNI of the tunnels between engines (default: derived from the lab's name)." })),
        },
        { additionalProperties: false, description: 'The VXLAN tunnels that join the engines\' switches into one underlay.' },
      ),
    ),
    hosts: T.Array(host, { minItems: 1, maxItems: MAX_HOSTS, description: `The hosts (one container each) on the underlay; 1 to ${MAX_HOSTS} (bench/scale.mjs measures ${MAX_HOSTS} on a 2-core machine).` }),
    nodes: T.Optional(
      T.Array(externalNode, { maxItems: 64, description: 'External nodes on the underlay: a machine "outside" the cluster, or a router.' }),
    ),
    proxyMode: T.Optional(
      stringEnum(['iptables', 'nftables', 'ipvs'] as const, {
        default: 'iptables',
        description: "How kube-proxy programs the Services on every host: iptables (default; KUBE-SERVICES, KUBE-SVC-…, KUBE-SEP-… chains), nftables (table ip kube-proxy) or ipvs (needs the kernel's ip_vs, which `up` checks for).",
      }),
    ),
    serviceCIDR: T.Optional(cidr('Where ClusterIPs come from (default 10.96.0.0/12); outside the pod networks and the underlay.')),
    services: T.Optional(T.Array(service, { maxItems: 5000, description: 'Kubernetes Services, programmed on every host as kube-proxy does.' })),
    checks: T.Optional(T.Array(T.Unsafe<RawCheck>(checkDefinition()), { maxItems: 500, description: 'Checks to run against the built lab.' })),
    faults: T.Optional(
      T.Array(T.Unsafe<RawFault>(faultDefinition()), {
        maxItems: 50,
        description: 'Faults `up` applies, in order, once the lab is wired (a broken lab on purpose); `overlab fault ls` shows them and `overlab fault clear` mends them.',
      }),
    ),
  },
  {
    additionalProperties: false,
    not: { type: 'object', required: ['network', 'networks'] },
    description:
      'A container-networking lab: hosts (containers) on an underlay network, pods (network namespaces) inside them, pod networks with a flannel-style backend, and checks that prove how packets travel.',
  },
);

export type RawLab = Static<typeof LabSchema>;
export type RawNetwork = Static<typeof singleNetwork> & { name?: string };
export type RawHost = Static<typeof host>;
export type RawPod = Exclude<Static<typeof pod>, string>;
export type RawNode = Static<typeof externalNode>;
export type RawService = Static<typeof service>;
export type RawEngine = Static<typeof engine>;
export type RawPing = Static<ReturnType<typeof ping>>;

export const SCHEMA_ID = 'https://github.com/overlab/overlab/schema/lab.schema.json';

/** The JSON Schema document as shipped in schema/lab.schema.json (plain JSON, stable key order),
 * with these check and fault kinds. */
export function labJsonSchema(kinds: SchemaKinds): Record<string, unknown> {
  const { $schema: _s, $id: _i, title: _t, ...body } = plain(LabSchema) as Record<string, unknown>;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'overlab lab spec',
    ...body,
    definitions: schemaDefinitions(kinds),
  };
}

/** Every named definition as plain JSON, the check and fault ones made from `kinds`. */
export function schemaDefinitions(kinds: SchemaKinds): Record<string, unknown> {
  const byKinds: Record<string, TSchema> = { check: checkSchema(kinds), fault: faultSchema(kinds) };
  return Object.fromEntries(Object.entries(DEFINITIONS).map(([k, v]) => [k, plain(byKinds[k] ?? v)]));
}

/** TypeBox schemas carry their own marks (non-enumerable `~kind`, `~optional`); JSON keeps only the schema. */
export function plain(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema)) as unknown;
}
