// Rules for `podAttach: cni` (docs/cni.md): a host that attaches its pods through real CNI plugins
// does what a kubelet with flannel's 10-flannel.conflist does, so it has that file's limits — one
// pod network (the kubelet uses one conflist), and the bridge flannel's delegate names (cni0).
import type { RuleState } from './rule-state.js';
import type { PathSeg } from './yaml-source.js';

/** The bridge flannel's delegate config leaves to the bridge plugin's default. */
export const CNI_BRIDGE = 'cni0';

export function checkPodAttach(st: RuleState): void {
  const wanted: PathSeg[][] = [];
  st.nets.forEach((n) => {
    if (n.raw.podAttach === 'cni') wanted.push([...n.path, 'podAttach']);
  });
  st.draft.lab.hosts.forEach((h, i) => {
    if (h?.podAttach === 'cni') wanted.push(['hosts', i, 'podAttach']);
  });
  if (wanted.length === 0) return;

  if (st.nets.length > 1) {
    for (const path of wanted) {
      st.err(
        path,
        `podAttach: cni attaches pods as a kubelet does, through one CNI network (the first config in /etc/cni/net.d, flannel's 10-flannel.conflist); this lab has ${st.nets.length} pod networks.`,
        'Use podAttach: cni in a lab with a single network, or podAttach: ip here.',
      );
    }
    return;
  }
  const net = st.nets[0];
  if (!net || net.broken || net.spec.bridge === CNI_BRIDGE) return;
  const where = net.raw.bridge === undefined ? `"${net.spec.bridge}" (the default)` : `"${net.spec.bridge}"`;
  for (const path of wanted) {
    st.err(
      path,
      `podAttach: cni puts pods on ${CNI_BRIDGE} (flannel's CNI config leaves the bridge to the bridge plugin, whose default it is), but this lab's pod network uses bridge ${where}.`,
      `Set bridge: ${CNI_BRIDGE} on the network (${net.path.join('.')}).`,
    );
  }
}
