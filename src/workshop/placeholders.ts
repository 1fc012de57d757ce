// Placeholders in solution commands, filled in from the running lab, so a solution reads like
// the commands a student types without hard-coding addresses the lab chose itself:
//   <lab>            the exercise's lab name
//   <ip:REF>         a member's address (host → its underlay address, host/pod → the pod's)
//   <mac:REF>        a MAC (host → eth0's, host:flannel.1 → the VTEP's, host/pod → the pod's)
//   <subnet:HOST>    the host's pod subnet (first network), e.g. 10.244.2.0/24
//   <gateway:HOST>   the host's bridge address (its pods' gateway)
//   <vtep:HOST>      the host's VTEP address <subnet>.0 (first network)
//   <veth:HOST/POD>  the host's end of a pod's veth (its port on the bridge)
// Each value comes out of the lab's model through the same name resolution checks use; the
// result is one argv word, never shell text.
import type { LabReferences } from '../lab/lab-references.js';
import { inputError } from '../base/errors.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';

export const PLACEHOLDER = /<(lab|ip|mac|subnet|gateway|vtep|veth)(?::([A-Za-z0-9_.:/-]+))?>/g;

export interface PlaceholderUse {
  kind: string;
  ref?: string;
}

/** Every placeholder in a word (for checking an exercise before it runs). */
export function placeholdersIn(word: string): PlaceholderUse[] {
  return [...word.matchAll(PLACEHOLDER)].map((m) => ({ kind: m[1]!, ...(m[2] ? { ref: m[2] } : {}) }));
}

function hostOf(lab: ResolvedLab, ref: string) {
  const host = lab.hosts.find((h) => h.name === ref);
  if (!host) throw inputError(`placeholder: "${ref}" is not a host of lab ${lab.name}`);
  return host;
}

export function fillPlaceholders(word: string, lab: ResolvedLab, names: LabReferences): string {
  return word.replace(PLACEHOLDER, (_all, kind: string, ref: string | undefined) => {
    if (kind === 'lab') return lab.name;
    if (!ref) throw inputError(`placeholder <${kind}> needs a name: <${kind}:host1>`);
    switch (kind) {
      case 'ip':
        return names.ip(ref);
      case 'mac':
        return names.mac(ref);
      case 'subnet':
        return hostOf(lab, ref).networks[0]!.subnet;
      case 'gateway':
        return hostOf(lab, ref).networks[0]!.bridgeIp;
      case 'vtep':
        return hostOf(lab, ref).networks[0]!.subnet.split('/')[0]!;
      case 'veth': {
        const [host, pod] = ref.split('/');
        const found = hostOf(lab, host ?? '').pods.find((p) => p.name === pod);
        if (!found?.hostVeth) throw inputError(`placeholder: "${ref}" is not a pod of lab ${lab.name} with a bridge port`);
        return found.hostVeth;
      }
      default:
        throw inputError(`unknown placeholder <${kind}>`);
    }
  });
}
