// Kernel features some fault kinds need, as `overlab doctor` tries them: each one really done
// once on a throwaway veth pair inside the doctor's lab-like container. None is needed to build
// a lab, so a missing one is reported (with which faults it affects) without failing doctor.
export interface FeatureProbe {
  check: string;
  script: string;
  /** What is missing without it, and what to do. */
  fix: string;
}

const onVeth = (setup: string) => `ip link add dq0 type veth peer name dq1 || exit 1; ${setup}; r=$?; ip link del dq0; exit $r`;

export const FAULT_FEATURE_PROBES: FeatureProbe[] = [
  {
    check: 'qdisc tbf (fault rate)',
    script: onVeth('tc qdisc add dev dq0 root tbf rate 1mbit burst 4096 latency 50ms'),
    fix: '`overlab fault add … rate` needs sch_tbf: modprobe sch_tbf',
  },
  {
    check: 'qdisc htb',
    script: onVeth('tc qdisc add dev dq0 root handle 1: htb default 1'),
    fix: 'modprobe sch_htb (only for your own tc experiments; no fault kind needs it)',
  },
  {
    check: 'qdisc netem (faults delay, jitter)',
    script: onVeth('tc qdisc add dev dq0 root netem delay 10ms'),
    fix: '`overlab fault add … delay|jitter` need sch_netem: modprobe sch_netem on the engine\'s machine (Debian: the kernel\'s modules package); `rate` and `loss` work without it',
  },
  {
    check: 'iptables statistic (fault loss)',
    script: 'ip netns add dstat && ip netns exec dstat iptables -I OUTPUT -m statistic --mode random --probability 0.5 -j DROP; r=$?; ip netns del dstat; exit $r',
    fix: '`overlab fault add … loss` needs the xt_statistic match: modprobe xt_statistic',
  },
  {
    check: 'ebtables on a bridge (fault partition)',
    script: 'ip netns add deb && ip netns exec deb ebtables -A FORWARD -i a -o b -j DROP; r=$?; ip netns del deb; exit $r',
    fix: '`overlab fault add … partition` needs nf_tables for bridges: modprobe nft_chain_nat nf_tables_bridge (or ebtables)',
  },
];
