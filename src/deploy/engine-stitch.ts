// A lab across engines: before anything of the lab is made, every engine is asked what the lab
// needs of it (it answers, it has the image — copied from the primary when it lacks it —, its
// machine's address and the MTU there, and the tunnels' UDP port passes between every pair of
// them — a datagram each way, src/probes/tunnel-port-probe.ts); once each engine's switch has its bridge, a short-lived
// helper on that engine (network `host`, NET_ADMIN + SYS_ADMIN, the switch's namespace file bound
// in) makes the tunnel device in the machine's namespace and moves it into the switch at once.
// Nothing of the lab stays in a machine's own namespace: the device lives and dies with the switch.
import type { ContainerRuntime, ContainerSpec } from '../runtime/runtime.js';
import { RoutedRuntime, LABEL_ENGINE } from '../runtime/routed-runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { containerName, LABEL_LAB, LABEL_NODE, LABEL_ROLE, LABEL_RUN } from '../plan/container-names.js';
import { stitchPlan, stitchTunnels, SWITCH_NETNS, VXLAN_OVERHEAD, type ResolvedEngine } from '../plan/engine-placement.js';
import { failedPairsMessage } from '../plan/tunnel-port.js';
import { probeTunnelPort } from '../probes/tunnel-port-probe.js';
import { debugLog, tolerated } from '../base/debug-log.js';
import { environmentError, inputError, OverlabError } from '../base/errors.js';
import { compilePlan, runPlan } from './run-steps.js';

// NET_RAW: the look helper's tunnel-port listener reads a raw socket (src/plan/tunnel-port.ts).
const HELPER_CAPS = ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW'];

export function helperContainer(lab: string, engine: string, purpose: 'look' | 'stitch'): string {
  return containerName(lab, `${purpose}-${engine}`);
}

function helperSpec(lab: ResolvedLab, engine: string, purpose: 'look' | 'stitch', run: string | undefined, mounts: ContainerSpec['mounts'] = []): ContainerSpec {
  const name = helperContainer(lab.name, engine, purpose);
  return {
    name,
    hostname: `${purpose}-${engine}`.slice(0, 60),
    image: lab.image,
    labels: { [LABEL_LAB]: lab.name, [LABEL_NODE]: `${purpose}-${engine}`, [LABEL_ROLE]: 'helper', [LABEL_ENGINE]: engine, ...(run ? { [LABEL_RUN]: run } : {}) },
    command: ['sleep', 'infinity'],
    capAdd: HELPER_CAPS,
    devices: [],
    sysctls: {},
    networkMode: 'host',
    ...(mounts.length ? { mounts } : {}),
  };
}

interface AddrInfo {
  ifname?: string;
  mtu?: number;
  addr_info?: { family?: string; local?: string; scope?: string }[];
}

/** The engine machine's IPv4 addresses (scope global) and the MTU of the link each is on. */
export function machineAddresses(json: string): { address: string; ifname: string; mtu: number }[] {
  const links = JSON.parse(json || '[]') as AddrInfo[];
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local && (a.scope ?? 'global') === 'global').map((a) => ({ address: a.local!, ifname: l.ifname ?? '', mtu: Number(l.mtu ?? 0) })));
}

/** Every engine answers and has the image; each machine's address and MTU are known; the tunnels'
 * UDP port passes between every pair of engines; the lab's underlay MTU is lowered to fit the
 * tunnels. Changes `lab` (engines' addresses, underlay.mtu). Nothing of the lab is made but the
 * short-lived `look` helpers (this run's, removed before it returns). */
export async function prepareEngines(runtime: RoutedRuntime, lab: ResolvedLab, run: string | undefined, signal: AbortSignal): Promise<void> {
  const engines = lab.engines ?? [];
  // Every engine answers (the same sentence as any engine that does not).
  await Promise.all(runtime.named.map(({ runtime: r }) => r.info({ signal })));
  await copyImageWhereMissing(runtime, lab.image, signal);
  const helpers = engines.map((e) => ({ engine: e, runtime: runtime.engine(e.name), spec: helperSpec(lab, e.name, 'look', run) }));
  try {
    const facts = await Promise.all(
      helpers.map(async ({ engine: e, runtime: r, spec }) => {
        await r.remove(spec.name, { signal });
        await r.createAndStart(spec, { signal });
        const out = await r.exec(spec.name, ['ip', '-j', '-4', 'addr', 'show', 'scope', 'global'], { signal });
        if (out.exitCode !== 0) throw environmentError(`engine ${e.name}: reading the machine's addresses failed: ${out.stderr.trim()}`);
        return machineAddresses(out.stdout);
      }),
    );
    lab.underlay.mtu = settleAddresses(engines, facts, lab.underlay.mtu);
    // The tunnels' port between every pair, before anything of the lab is made.
    const port = lab.stitch?.port;
    if (port !== undefined && engines.length > 1) {
      const tried = Date.now();
      const results = await probeTunnelPort(
        helpers.map((h) => ({ name: h.engine.name, address: h.engine.address, runtime: h.runtime, container: h.spec.name })),
        { port, signal },
      );
      debugLog('deploy', `tunnel port: UDP ${port} tried between ${results.length} pairs of engines in ${Date.now() - tried} ms`);
      const failed = results.filter((r) => r.verdict !== 'passes');
      if (failed.length) {
        const { message, hint } = failedPairsMessage(failed);
        throw environmentError(`${message}; nothing of lab ${lab.name} was made`, `${hint}\nthen \`overlab doctor <spec>\` with the same engines tries every pair again`);
      }
    }
  } finally {
    await Promise.all(helpers.map((h) => h.runtime.remove(h.spec.name).catch(tolerated('deploy', `remove the look helper on engine ${h.engine.name}`))));
  }
}

/** Each engine's address (the spec's, or the machine's only one) checked against what its
 * machine has; the underlay MTU that the tunnels leave. Changes each engine's `address`. */
export function settleAddresses(engines: ResolvedEngine[], facts: { address: string; ifname: string; mtu: number }[][], underlayMtu: number): number {
  let mtu = underlayMtu;
  engines.forEach((e, i) => {
    const found = facts[i]!;
    if (!e.address) {
      if (found.length !== 1) {
        throw inputError(
          `engine ${e.name}'s machine has ${found.length === 0 ? 'no global IPv4 address' : `${found.length} addresses (${found.map((f) => f.address).join(', ')})`}, so overlab cannot tell which one the other engines reach it at`,
          `say it in the spec: engines: { ${e.name}: { …, address: <IPv4> } }`,
        );
      }
      e.address = found[0]!.address;
    }
    const link = found.find((f) => f.address === e.address);
    if (!link) throw inputError(`engine ${e.name}: ${e.address} is not an address of that engine's machine (it has ${found.map((f) => f.address).join(', ') || 'none'})`, `fix engines.${e.name}.address in the spec`);
    // The lab's frames travel inside VXLAN over that link: 50 bytes less for them.
    if (link.mtu > 0) mtu = Math.min(mtu, link.mtu - VXLAN_OVERHEAD);
  });
  return mtu;
}

/** The image onto each engine lacking it, streamed from one that has it (`docker save | load`). */
export async function copyImageWhereMissing(runtime: RoutedRuntime, image: string, signal: AbortSignal): Promise<string[]> {
  const has = await Promise.all(runtime.named.map(async (e) => ({ ...e, has: await e.runtime.imageExists(image, { signal }) })));
  const source = has.find((e) => e.has);
  const missing = has.filter((e) => !e.has);
  if (missing.length === 0) return [];
  if (!source) throw environmentError(`image ${image} is on none of the lab's engines`, 'build it on the first engine with `overlab image build` (with DOCKER_HOST or --context pointing there); up copies it to the others');
  await Promise.all(
    missing.map(async (e) => {
      const tar = await source.runtime.saveImages([image], { signal });
      await e.runtime.loadImages(tar, { signal });
      if (!(await e.runtime.imageExists(image, { signal }))) throw environmentError(`engine ${e.name} loaded the image from engine ${source.name} but has no ${image} afterwards`);
    }),
  );
  return missing.map((e) => e.name);
}

/** The tunnels, once every switch has its bridge: per engine a helper with the switch's
 * namespace file (`netnsFiles[engine]`) runs the stitch plan, then goes. */
export async function stitchSwitches(runtime: ContainerRuntime, lab: ResolvedLab, netnsFiles: Map<string, string>, run: string | undefined, signal: AbortSignal): Promise<void> {
  const engines = lab.engines ?? [];
  await Promise.all(
    engines.map(async (e) => {
      const spec = helperSpec(lab, e.name, 'stitch', run, [{ source: netnsFiles.get(e.name)!, target: SWITCH_NETNS, readonly: true }]);
      await runtime.remove(spec.name, { signal });
      await runtime.createAndStart(spec, { signal });
      try {
        await runPlan(runtime, compilePlan(stitchPlan(lab, e.name, spec.name)), signal);
      } catch (error) {
        throw explainStitchFailure(error, lab, e.name);
      } finally {
        await runtime.remove(spec.name);
      }
    }),
  );
}

/** Two labs with the same VNI and port on one machine: say which tunnel (which segment) and
 * which field to change. */
function explainStitchFailure(error: unknown, lab: ResolvedLab, engine: string): unknown {
  if (!(error instanceof OverlabError) || !lab.stitch) return error;
  if (/VNI.*already exists|File exists/i.test(error.message)) {
    const st = lab.stitch;
    const tunnels = stitchTunnels(lab);
    const id = /\bid (\d+)\b/.exec(error.message)?.[1];
    const failed = tunnels.find((t) => String(t.vni) === id);
    const which = failed ? [failed] : tunnels;
    const said = which.map((t) => `VNI ${t.vni}${t.segment ? ` (segment ${t.segment})` : ''}`).join(' or ');
    const segments = tunnels.length > 1 ? `; its segments use VNI ${tunnels[0]!.vni} to ${tunnels.at(-1)!.vni}, one each` : '';
    return inputError(
      `engine ${engine}'s machine already has a VXLAN tunnel with ${said} on UDP port ${st.port} (another lab spread over that machine, most likely)`,
      `give this lab other tunnels: set stitch.vni (${st.fromSpec.vni ? 'now ' + st.vni : `derived from the lab's name`}${segments}) or stitch.port (now ${st.port}) in the spec to a value no other lab there uses`,
    );
  }
  return error;
}
