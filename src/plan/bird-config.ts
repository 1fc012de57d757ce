// The BIRD 2 configuration of one lab node, as text a student can read (`overlab inspect` shows
// it; it is /etc/bird/bird.conf in the node). Pure. Shaped after Calico's bird.cfg.template:
// a blackhole route per own IPAM block (protocol static "blocks"), only whole blocks exported to
// the peers, one `protocol bgp` per peer from a template, learned routes into the kernel (where
// `ip route` shows them as `proto bird`, metric 32). iBGP sessions are multihop, so next hops are
// resolved through BIRD's own table (`gateway recursive`): the kernel's routes are learned into it
// (`learn`, for the default route towards the rack's router) and the underlay's connected routes
// come from `protocol direct`.
//
// Every value written into the text is checked here (addresses, prefixes, AS numbers, interface
// and protocol names), so nothing from a spec can add a statement to it.
import { isValidIpv4, parseCidr } from '../shared/ipv4.js';

export const MAX_AS = 4294967295;
/** Where Debian's bird2 looks for its configuration and its control socket. */
export const BIRD_CONFIG_FILE = '/etc/bird/bird.conf';
export const BIRD_CONTROL_SOCKET = '/run/bird/bird.ctl';
/** BIRD's log: with the kernel protocol's route changes, timestamped to the millisecond (what
 * `node add|rm` measures a join by, as flannel's by its agents' logs). */
export const BIRD_LOG = '/var/log/bird.log';

/**
 * How a session relates the two ends: `mesh` (plain iBGP, full mesh), `client` (the peer is our
 * route-reflector client), `reflector` (the peer reflects routes for us).
 */
export type BgpSessionRole = 'mesh' | 'client' | 'reflector';

export interface BirdPeer {
  /** The peer's node name (host or router); names the protocol. */
  node: string;
  /** The peer's address the session goes to. */
  address: string;
  /** Our address the session leaves from (on a router with several segments, the one towards the peer). */
  localAddress: string;
  as: number;
  role: BgpSessionRole;
}

export interface BirdNodeConfig {
  node: string;
  /** This node's main underlay address. */
  routerId: string;
  as: number;
  /** Underlay interfaces (eth0, eth1, …): their connected routes resolve next hops. */
  interfaces: string[];
  /** This node's IPAM blocks (a router has none). */
  blocks: string[];
  /** Set when this node reflects routes for its clients. */
  clusterId?: string;
  peers: BirdPeer[];
  /** Why the node has this config, one line per reason (comments at the top). */
  about: string[];
}

/** BIRD's symbol alphabet; a node name's hyphens become underscores (node names have no `_`). */
export function birdSymbol(name: string): string {
  const symbol = name.replace(/-/g, '_');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(symbol)) throw new RangeError(`not a BIRD symbol: ${JSON.stringify(name)}`);
  return symbol;
}

const ROLE_PREFIX: Record<BgpSessionRole, string> = { mesh: 'Mesh', client: 'Client', reflector: 'Reflector' };

/** The protocol name of the session with a peer: `Mesh_host2`, `Reflector_tor1`, `Client_host3`. */
export function sessionName(peer: Pick<BirdPeer, 'node' | 'role'>): string {
  return `${ROLE_PREFIX[peer.role]}_${birdSymbol(peer.node)}`;
}

/** The peer a protocol name belongs to, or undefined for a name that is not a session's. */
export function sessionPeer(protocol: string): { role: BgpSessionRole; node: string } | undefined {
  const m = /^(Mesh|Client|Reflector)_([a-z][a-z0-9_]*)$/.exec(protocol);
  if (!m) return undefined;
  const role = (Object.keys(ROLE_PREFIX) as BgpSessionRole[]).find((r) => ROLE_PREFIX[r] === m[1])!;
  return { role, node: m[2]!.replace(/_/g, '-') };
}

export function isValidAs(as: number): boolean {
  return Number.isInteger(as) && as >= 1 && as <= MAX_AS;
}

function checkAddress(ip: string): string {
  if (!isValidIpv4(ip)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return ip;
}

function checkCidr(cidr: string): string {
  if (!parseCidr(cidr)) throw new RangeError(`not an IPv4 network: ${JSON.stringify(cidr)}`);
  return cidr;
}

function checkAs(as: number): number {
  if (!isValidAs(as)) throw new RangeError(`not an AS number (1..${MAX_AS}): ${as}`);
  return as;
}

function checkInterface(name: string): string {
  if (!/^eth[0-9]{1,2}$/.test(name)) throw new RangeError(`not an underlay interface: ${JSON.stringify(name)}`);
  return name;
}

function checkComment(line: string): string {
  // one line of printable text: a comment cannot end early
  return line.replace(/[^\x20-\x7e]/g, '?');
}

/**
 * Lab timers, shorter than BIRD's defaults (5 s before the first connect, 120 s between
 * attempts, 60–300 s after an error, keepalives every 80 s, a peer dead after 240 s) so a lab
 * converges in about a second, heals within seconds once a fault is cleared, and shows its
 * TCP 179 keepalives in a capture of a few seconds (a peer is declared dead after 15 s: long
 * enough for a starved process on a loaded machine, short enough for a lab).
 */
const LAB_TIMERS = 'connect delay time 0; connect retry time 5; error wait time 1, 10; hold time 15; keepalive time 5;';

/** The configuration text. */
export function birdConfigText(c: BirdNodeConfig): string {
  birdSymbol(c.node);
  const routerId = checkAddress(c.routerId);
  const as = checkAs(c.as);
  const interfaces = c.interfaces.map(checkInterface);
  const blocks = c.blocks.map(checkCidr);
  const reflector = c.clusterId !== undefined ? checkAddress(c.clusterId) : undefined;
  const lines: string[] = [];
  const out = (line = '') => lines.push(line);

  out(`# BIRD 2 for ${c.node}, written by overlab (${BIRD_CONFIG_FILE}).`);
  for (const why of c.about) out(`# ${checkComment(why)}`);
  out(`# Read it live: birdc show protocols | birdc show route all | ip route`);
  out();
  out(`router id ${routerId};`);
  out(`log "${BIRD_LOG}" all;`);
  out('timeformat log iso long ms;');
  out();
  out('# Interfaces and their connected routes: BGP next hops resolve through them.');
  out('protocol device { scan time 10; }');
  out(`protocol direct { ipv4; interface ${interfaces.map((i) => `"${i}"`).join(', ')}; }`);
  out();
  out(blocks.length ? "# The kernel: its routes come in (the default route to the rack's router, so a next hop" : "# The kernel: its routes come in (the routes to the other segments, so a next hop");
  out(blocks.length ? '# in another rack resolves); learned BGP routes and the own blackholes go out, `proto bird`.' : '# there resolves); learned BGP routes go out, `proto bird`.');
  out('protocol kernel {');
  out('  ipv4 { import all; export where source ~ [ RTS_BGP, RTS_STATIC ]; };');
  out('  learn; merge paths on;');
  out('  debug { routes };   # every route written to or removed from the kernel, in the log');
  out('}');
  out();
  if (blocks.length) {
    out('# This host\'s IPAM blocks: a blackhole each (an address nobody uses dies here, it does');
    out('# not leave by the default route), and what the host announces to its peers.');
    out('protocol static blocks {');
    out('  ipv4;');
    for (const block of blocks) out(`  route ${block} blackhole;`);
    out('}');
    out();
  }
  if (blocks.length && reflector) out('# What this node tells its peers: its own blocks, and, as a reflector, what its peers told it.');
  else if (blocks.length) out('# What this node tells its peers: its own blocks (never what it learned from others).');
  else if (reflector) out('# What this node tells its peers: what its peers told it (it has no blocks of its own).');
  else out('# What this node tells its peers: nothing (it has no blocks; it only learns).');
  out('filter to_peers {');
  if (blocks.length) out('  if proto = "blocks" then accept;');
  if (reflector) out('  if source = RTS_BGP then accept;');
  out('  reject;');
  out('}');
  out();
  out(`template bgp peer {`);
  out(`  local as ${as};`);
  out('  multihop;');
  out('  graceful restart;');
  out(`  ${LAB_TIMERS}`);
  out('  ipv4 { import all; export filter to_peers; gateway recursive; };');
  out('}');
  const byRole = (role: BgpSessionRole) => c.peers.filter((p) => p.role === role);
  const section = (role: BgpSessionRole, heading: string) => {
    const peers = byRole(role);
    if (!peers.length) return;
    out();
    out(heading);
    for (const p of peers) {
      const extra = role === 'client' ? ` rr client; rr cluster id ${reflector ?? routerId};` : '';
      out(`protocol bgp ${sessionName(p)} from peer { local ${checkAddress(p.localAddress)}; neighbor ${checkAddress(p.address)} as ${checkAs(p.as)};${extra} }`);
    }
  };
  section('mesh', `# Full mesh: a session with every other BGP node (AS ${as}).`);
  section('reflector', '# Route reflectors: they pass every block on, keeping its next hop.');
  section('client', `# Route-reflector clients: what one tells us, we pass to all (cluster ${reflector ?? routerId}).`);
  return lines.join('\n') + '\n';
}
