// Kernel features some fault kinds need, as `overlab doctor` tries them: each one really done
// once on a throwaway veth pair (or namespace) inside the doctor's lab-like container. None is
// needed to build a lab, so a missing one is reported (with which faults it affects) without
// failing doctor. Argv only, like every other command overlab runs in a container.
export interface FeatureProbe {
  check: string;
  commands: string[][];
  /** Run whether or not `commands` worked, so the next probe starts clean. */
  cleanup: string[][];
  /** What is missing without it, and what to do. */
  fix: string;
}

const VETH = ['ip', 'link', 'add', 'dq0', 'type', 'veth', 'peer', 'name', 'dq1'];
const onVeth = (check: string, command: string[], fix: string): FeatureProbe => ({ check, commands: [VETH, command], cleanup: [['ip', 'link', 'del', 'dq0']], fix });
const inNetns = (check: string, ns: string, command: string[], fix: string): FeatureProbe => ({
  check,
  commands: [['ip', 'netns', 'add', ns], ['ip', 'netns', 'exec', ns, ...command]],
  cleanup: [['ip', 'netns', 'del', ns]],
  fix,
});

export const FAULT_FEATURE_PROBES: FeatureProbe[] = [
  onVeth('qdisc tbf (fault rate)', ['tc', 'qdisc', 'add', 'dev', 'dq0', 'root', 'tbf', 'rate', '1mbit', 'burst', '4096', 'latency', '50ms'], '`overlab fault add … rate` needs sch_tbf: modprobe sch_tbf'),
  onVeth('qdisc htb', ['tc', 'qdisc', 'add', 'dev', 'dq0', 'root', 'handle', '1:', 'htb', 'default', '1'], 'modprobe sch_htb (only for your own tc experiments; no fault kind needs it)'),
  onVeth(
    'qdisc netem (faults delay, jitter)',
    ['tc', 'qdisc', 'add', 'dev', 'dq0', 'root', 'netem', 'delay', '10ms'],
    "`overlab fault add … delay|jitter` need sch_netem: modprobe sch_netem on the engine's machine (Debian: the kernel's modules package); `rate` and `loss` work without it",
  ),
  inNetns(
    'iptables statistic (fault loss)',
    'dstat',
    ['iptables', '-I', 'OUTPUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.5', '-j', 'DROP'],
    '`overlab fault add … loss` needs the xt_statistic match: modprobe xt_statistic',
  ),
  inNetns(
    'ebtables on a bridge (fault partition)',
    'deb',
    ['ebtables', '-A', 'FORWARD', '-i', 'a', '-o', 'b', '-j', 'DROP'],
    '`overlab fault add … partition` needs nf_tables for bridges: modprobe nft_chain_nat nf_tables_bridge (or ebtables)',
  ),
];
