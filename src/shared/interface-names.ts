// Linux's rule for an interface name (the kernel's dev_valid_name): 1 to IFNAMSIZ - 1 = 15 bytes,
// not "." or "..", no "/", ":" or whitespace. Stated once, here: the CNI plugin checks CNI_IFNAME
// with it, the agent its config's interfaces, the planner shortens veth names to it, and the
// CLI's name rules (src/lab-spec/name-rules.ts) narrow it to a safe alphabet.

/** Linux limits an interface name to IFNAMSIZ - 1 bytes. */
export const LINUX_IFNAME_MAX = 15;

/** Why Linux would refuse `name` as an interface name (CNI's words), or undefined. */
export function linuxIfnameProblem(name: string): string | undefined {
  if (name === '') return 'interface name is empty';
  if (Buffer.byteLength(name) > LINUX_IFNAME_MAX) return `interface name is too long`;
  if (name === '.' || name === '..') return 'interface name is . or ..';
  if (/[/:\s]/.test(name)) return 'interface name contains / or : or whitespace characters';
  return undefined;
}
