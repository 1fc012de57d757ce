// `overlab doctor` for a lab across several engines: every engine checked as doctor checks one
// (at the same time), each machine's address found as `up` finds it, and the tunnels' UDP port
// tried between every ordered pair of engines (src/probes/tunnel-port-probe.ts) — a pair that
// fails names both engines, their addresses, the port and the firewall rule that lets it through.
import type { ContainerRuntime, ContainerSpec } from '../runtime/runtime.js';
import type { EngineSpec } from '../lab-spec/lab-spec.js';
import { DEFAULT_STITCH_PORT, resolveEngines } from '../plan/engine-placement.js';
import { machineAddresses, settleAddresses } from '../deploy/engine-stitch.js';
import { hostImageTags } from '../image/host-image.js';
import { probeTunnelPort } from '../probes/tunnel-port-probe.js';
import { enginePairs, pairMatrix, pairSentence, type PairResult, type PairVerdict } from '../plan/tunnel-port.js';
import { runDoctor, type Finding } from './doctor.js';
import { OverlabError } from '../base/errors.js';
import { tolerated } from '../base/debug-log.js';

export interface EngineFinding extends Finding {
  engine: string;
}

export interface DoctorAcrossEngines {
  engines: { name: string; endpoint: string; address: string }[];
  findings: EngineFinding[];
  tunnelPort: { port: number; protocol: 'udp'; pairs: PairResult[]; matrix: { from: string; cells: Record<string, PairVerdict | 'self'> }[] };
}

/** Whether doctor across engines found everything a lab needs. */
export function doctorAcrossPassed(result: DoctorAcrossEngines): boolean {
  return result.findings.every((f) => f.ok || f.optional) && result.tunnelPort.pairs.every((p) => p.verdict === 'passes');
}

const TUNNEL_CHECK = 'tunnel address';

function portHelperSpec(name: string, image: string): ContainerSpec {
  return {
    name,
    hostname: 'doctor-port',
    image,
    labels: { 'overlab.doctor': 'true' },
    command: ['sleep', 'infinity'],
    // Reads the machine's addresses and a raw socket (the listener): in the machine's namespace.
    capAdd: ['NET_RAW'],
    devices: [],
    sysctls: {},
    networkMode: 'host',
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** Doctor on each of `engines` (named runtimes, the first the primary) and the tunnels' port
 * between every pair. `specs` says what the spec or flags say of each (address). */
export async function runDoctorAcross(
  engines: { name: string; runtime: ContainerRuntime }[],
  specs: EngineSpec[],
  options: { port?: number; signal: AbortSignal; deadlineMs?: number },
): Promise<DoctorAcrossEngines> {
  const port = options.port ?? DEFAULT_STITCH_PORT;
  const { signal } = options;
  const resolved = resolveEngines('doctor', engines.map((e) => specs.find((s) => s.name === e.name) ?? { name: e.name }));
  const [image] = hostImageTags();
  const helper = `overlab-doctor-${process.pid}-port`;
  const ready = new Set<string>();
  const portFindings: EngineFinding[] = [];
  try {
    const [perEngine] = await Promise.all([
      Promise.all(engines.map(async (e) => (await runDoctor(e.runtime)).map((f) => ({ engine: e.name, ...f })))),
      // Each machine's address, from a helper in its namespace (where the probe runs too).
      Promise.all(
        engines.map(async (e, i) => {
          const engine = resolved[i]!;
          try {
            if (!(await e.runtime.imageExists(image!, { signal }))) {
              portFindings.push({ engine: e.name, check: TUNNEL_CHECK, ok: false, detail: `not found: ${image} is missing on engine ${e.name}, so no helper runs there`, fix: `build it there (overlab image build with that engine as DOCKER_HOST), or let \`overlab up\` copy it from another engine; then run doctor again` });
              return;
            }
            await e.runtime.remove(helper, { signal });
            await e.runtime.createAndStart(portHelperSpec(helper, image!), { signal });
            const out = await e.runtime.exec(helper, ['ip', '-j', '-4', 'addr', 'show', 'scope', 'global'], { signal });
            if (out.exitCode !== 0) throw new Error(`reading the machine's addresses failed: ${out.stderr.trim()}`);
            settleAddresses([engine], [machineAddresses(out.stdout)], 1500);
            portFindings.push({ engine: e.name, check: TUNNEL_CHECK, ok: true, detail: `${engine.address}${specs.some((s) => s.name === e.name && s.address) ? '' : ' (the machine\'s only global IPv4 address)'}` });
            ready.add(e.name);
          } catch (error) {
            if (error instanceof OverlabError && error.kind === 'interrupted') throw error;
            signal.throwIfAborted();
            const fix = error instanceof OverlabError && error.hint ? error.hint : undefined;
            portFindings.push({ engine: e.name, check: TUNNEL_CHECK, ok: false, detail: message(error), ...(fix ? { fix } : {}) });
          }
        }),
      ),
    ]);
    const sides = engines.filter((e) => ready.has(e.name)).map((e) => ({ name: e.name, address: resolved.find((r) => r.name === e.name)!.address, runtime: e.runtime, container: helper }));
    const probed = await probeTunnelPort(sides, { port, signal, ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}) });
    const pairs = enginePairs(resolved).map(
      ({ from, to }) =>
        probed.find((p) => p.from === from.name && p.to === to.name) ?? {
          from: from.name,
          fromAddress: from.address,
          to: to.name,
          toAddress: to.address,
          port,
          protocol: 'udp' as const,
          verdict: 'skipped' as const,
          sent: 0,
          ms: 0,
          detail: `engine ${ready.has(from.name) ? to.name : from.name} could not take part (its ${TUNNEL_CHECK} row says why)`,
        },
    );
    const findings = [...perEngine.flat(), ...engines.flatMap((e) => portFindings.filter((f) => f.engine === e.name))];
    for (const p of pairs.filter((x) => x.verdict !== 'passes' && x.verdict !== 'skipped')) {
      findings.push({ engine: p.from, check: `tunnel UDP ${port} → ${p.to}`, ok: false, detail: pairSentence(p), ...(p.fix ? { fix: p.fix } : {}) });
    }
    return {
      engines: engines.map((e, i) => ({ name: e.name, endpoint: e.runtime.endpoint, address: resolved[i]!.address })),
      findings,
      tunnelPort: { port, protocol: 'udp', pairs, matrix: pairMatrix(engines.map((e) => e.name), pairs) },
    };
  } finally {
    await Promise.all(engines.map((e) => e.runtime.remove(helper).catch(tolerated('core', `remove doctor's port helper on engine ${e.name}`))));
  }
}
