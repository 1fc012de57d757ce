// The kernel state of every namespace of a lab, as its own tools print it (`ip -j`, `bridge -j`,
// `tc -j`, `iptables-save`, `ebtables-save`, the net.ipv4 sysctls): what a fault may change and
// `fault clear` must restore byte for byte. One `docker exec` per namespace.
//
// Compared exactly, in the order the kernel prints them: links, addresses, routes (all tables),
// qdiscs, iptables and ebtables rules, sysctls. Compared as sets: the permanent neighbours and
// the permanent/static FDB entries, whose dump order is the kernel's hash-bucket and insertion
// order (a link that comes back up re-joins its multicast groups, listed in the FDB as `self`
// entries, in its own order) — not state. Learned FDB entries and non-permanent neighbours are
// caches that change by themselves and are left out.
import { execa } from 'execa';

const SCRIPT = [
  'echo @@link; ip -j link show',
  'echo @@addr; ip -j addr show',
  'echo @@route; ip -j route show table all',
  'echo @@neigh; ip -j neigh show nud permanent',
  'echo @@fdb; bridge -j fdb show',
  'echo @@qdisc; tc -j qdisc show',
  'echo @@iptables; iptables-save',
  'echo @@ebtables; ebtables-save 2>/dev/null',
  "echo @@sysctl; sysctl -a --pattern '^net\\.ipv4\\.(ip_forward|conf\\.)' 2>/dev/null",
  'true',
].join('\n');

/** `ip -j link`/`addr` text with the ifindex of the named links zeroed (a link made again). */
function withoutIfindexOf(text: string, names: string[]): string {
  if (!text || !names.length) return text;
  const list = JSON.parse(text) as Record<string, unknown>[];
  return JSON.stringify(list.map((l) => (names.includes(String(l.ifname)) ? { ...l, ifindex: 0 } : l)));
}

function normalise(raw: string, ignoreIfindexOf: string[]): Record<string, string> {
  const parts: Record<string, string> = {};
  const pieces = raw.split(/^@@(\w+)$/m);
  for (let i = 1; i < pieces.length; i += 2) parts[pieces[i]!] = (pieces[i + 1] ?? '').trim();
  const sorted = (text: string, keep: (e: Record<string, unknown>) => boolean = () => true) =>
    JSON.stringify(((text ? JSON.parse(text) : []) as Record<string, unknown>[]).filter(keep).map((e) => JSON.stringify(e)).sort());
  const unindex = (text: string) => withoutIfindexOf(text, ignoreIfindexOf);
  const save = (text: string) =>
    text
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/, ''))
      .join('\n');
  return {
    link: unindex(parts.link ?? ''),
    addr: unindex(parts.addr ?? ''),
    route: parts.route ?? '',
    neigh: sorted(parts.neigh ?? ''),
    fdb: sorted(parts.fdb ?? '', (e) => e.state === 'permanent' || e.state === 'static'),
    qdisc: parts.qdisc ?? '',
    iptables: save(parts.iptables ?? ''),
    ebtables: save(parts.ebtables ?? ''),
    sysctl: parts.sysctl ?? '',
  };
}

/** Every namespace of the lab's containers (each container's own, and its pods'). A link that
 * has just come up runs IPv6 duplicate address detection for a moment (its fe80:: address is
 * "tentative", and its local route not there yet): the state is read again until DAD is over,
 * so what is compared is the kernel's settled state, not a moment of it. */
export async function labKernelState(lab: string, options: { ignoreIfindexOf?: string[] } = {}): Promise<Record<string, Record<string, string>>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await readLabKernelState(lab, options);
    const settling = Object.values(state).some((s) => s.addr?.includes('"tentative":true'));
    if (!settling || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Constant text: the state of the container's own namespace, then of each of its pods'. */
const PER_CONTAINER = `read_ns() { ${SCRIPT.split('\n').join('; ')}; }
echo @@ns; read_ns
for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do echo "@@ns $ns"; ip netns exec "$ns" sh -c "$0"; done`;

async function readLabKernelState(lab: string, options: { ignoreIfindexOf?: string[] } = {}): Promise<Record<string, Record<string, string>>> {
  const containers = (await execa('docker', ['ps', '--filter', `label=overlab.lab=${lab}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();
  const out: Record<string, Record<string, string>> = {};
  await Promise.all(
    containers.map(async (c) => {
      // One exec per container: $0 is the per-namespace script, run again inside each pod.
      const text = (await execa('docker', ['exec', c, 'sh', '-c', PER_CONTAINER, SCRIPT])).stdout;
      for (const part of text.split(/^@@ns ?/m).slice(1)) {
        const newline = part.indexOf('\n');
        const ns = part.slice(0, newline).trim();
        out[ns ? `${c}/${ns}` : c] = normalise(part.slice(newline + 1), options.ignoreIfindexOf ?? []);
      }
    }),
  );
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** The parts that differ between two lab states, for a readable failure; `ignoreIfindexOf`: links
 * that may have been made again (their ifindex is not compared). */
export function stateDifferences(before: Record<string, Record<string, string>>, after: Record<string, Record<string, string>>, options: { ignoreIfindexOf?: string[] } = {}): string[] {
  const out: string[] = [];
  const ignore = options.ignoreIfindexOf ?? [];
  const comparable = (part: string, text: string | undefined) => (text !== undefined && (part === 'link' || part === 'addr') ? withoutIfindexOf(text, ignore) : text);
  for (const ns of new Set([...Object.keys(before), ...Object.keys(after)])) {
    for (const part of new Set([...Object.keys(before[ns] ?? {}), ...Object.keys(after[ns] ?? {})])) {
      const a = comparable(part, before[ns]?.[part]);
      const b = comparable(part, after[ns]?.[part]);
      if (a !== b) out.push(`${ns} ${part}:\n  before: ${a?.slice(0, 2000)}\n  after:  ${b?.slice(0, 2000)}`);
    }
  }
  return out;
}
