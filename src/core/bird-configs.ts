// `overlab inspect <lab> --bird`: each BGP node's BIRD configuration, read from the node itself
// (through the archive API, no process) — what BIRD runs with, a fault's edit included.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { BIRD_CONFIG_FILE, bgpNetwork, bgpNodes } from '../plan/bgp-plan.js';
import { inputError } from '../base/errors.js';
import { assertName } from '../lab-spec/name-assert.js';

export async function readBirdConfigs(runtime: ContainerRuntime, lab: ResolvedLab, only?: string): Promise<{ node: string; config: string }[]> {
  if (!bgpNetwork(lab)) throw inputError(`lab ${lab.name} runs no BIRD: its pod network's backend is ${lab.networks.map((n) => n.backend).join(', ')}`, 'BIRD runs in labs with backend: bgp (labs/bgp-mesh.yaml, labs/bgp-racks.yaml)');
  const nodes = bgpNodes(lab);
  if (only !== undefined) {
    assertName('node', only, '--node');
    if (!nodes.some((n) => n.name === only)) throw inputError(`${only} runs no BIRD in lab ${lab.name}`, `BGP nodes: ${nodes.map((n) => n.name).join(', ')}`);
  }
  return Promise.all(
    nodes
      .filter((n) => only === undefined || n.name === only)
      .map(async (n) => ({
        node: n.name,
        config: await runtime.readFile(n.container, BIRD_CONFIG_FILE).then(
          (b) => b.toString('utf8'),
          (e: Error) => `(unreadable: ${e.message})\n`,
        ),
      })),
  );
}
