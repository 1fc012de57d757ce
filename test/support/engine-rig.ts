// The multi-engine test rig's lifetime, in one place: scripts/engine-rig.sh starts three engines
// in network namespaces on a LAN of their own (e1 dockerd over TLS, e2 dockerd over ssh, e3 Podman
// through a Docker context) and a workstation namespace where overlab runs; stopping removes all
// of it and reports anything left. Tests run overlab inside the workstation namespace, so it
// reaches the engines over the LAN as a user's machine reaches theirs.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = `${ROOT}scripts/engine-rig.sh`;
const CLI = `${ROOT}bin/run.js`;

export interface RigEngine {
  name: 'e1' | 'e2' | 'e3';
  kind: 'docker' | 'podman';
  via: 'tls' | 'ssh' | 'context';
  namespace: string;
  /** The engine machine's address on the LAN. */
  address: string;
  /** Its local socket (for the test's own look at it, never for overlab). */
  socket: string;
  endpoint?: string;
  certDir?: string;
  sshConfig?: string;
  context?: string;
  dockerConfig?: string;
}

export interface Rig {
  name: string;
  lan: { namespace: string; bridge: string; cidr: string };
  workstation: { namespace: string; netnsPath: string; address: string };
  engines: [RigEngine, RigEngine, RigEngine];
}

/** A rig name no other live process on this machine has: from this process's id. The rig
 * script also refuses a rig another live process owns, so two checkouts never share engines. */
export function rigName(pid = process.pid): string {
  return `olr${pid.toString(36)}`.slice(0, 8);
}

/** Starts a rig owned by this process (the script refuses one another live process owns). */
export async function startRig(name: string): Promise<Rig> {
  const r = await execa('bash', [SCRIPT, 'start', name, String(process.pid)], { reject: false });
  if (r.exitCode !== 0) {
    if (!/belongs to pid/.test(r.stderr)) await execa('bash', [SCRIPT, 'stop', name, String(process.pid)], { reject: false });
    throw new Error(`engine rig ${name} did not start (exit ${r.exitCode}):\n${r.stderr}`);
  }
  return JSON.parse(r.stdout) as Rig;
}

/** Stops this process's rig; resolves with what was left behind (empty when clean). */
export async function stopRig(name: string): Promise<string[]> {
  await execa('bash', [SCRIPT, 'stop', name, String(process.pid)], { reject: false });
  return rigLeftovers(name);
}

export async function rigLeftovers(name: string): Promise<string[]> {
  const r = await execa('bash', [SCRIPT, 'leftovers', name], { reject: false });
  return r.stdout.split('\n').filter(Boolean);
}

/** The environment that makes overlab talk to one rig engine the way its users would. */
export function engineEnv(rig: Rig, engine: RigEngine): Record<string, string> {
  const ssh = rig.engines[1].sshConfig!;
  const docker = rig.engines[2].dockerConfig!;
  // Every engine's material is in the environment, so a lab naming several engines finds all.
  // A machine shared by several test runs answers slowly at times (Podman most): the rig's
  // deadline is generous, as the tests check what happens, not how fast.
  const common = { OVERLAB_SSH_CONFIG: ssh, DOCKER_CONFIG: docker, DOCKER_CERT_PATH: rig.engines[0].certDir!, OVERLAB_ENGINE_TIMEOUT_MS: '30000' };
  switch (engine.via) {
    case 'tls':
      return { ...common, DOCKER_HOST: engine.endpoint!, DOCKER_TLS_VERIFY: '1' };
    case 'ssh':
      return { ...common, DOCKER_HOST: engine.endpoint! };
    case 'context':
      return { ...common, DOCKER_CONTEXT: engine.context! };
  }
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** overlab run on the rig's workstation (its network namespace). */
export async function overlabOnRig(rig: Rig, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await execa('nsenter', [`--net=${rig.workstation.netnsPath}`, 'node', CLI, ...args], {
    cwd: ROOT,
    reject: false,
    env: { NO_COLOR: '1', ...env },
    extendEnv: true,
  });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** A Docker CLI call on one rig engine through its local socket (the test's own eyes). */
export async function dockerOn(engine: RigEngine, args: string[]): Promise<string> {
  const r = await execa('docker', ['-H', `unix://${engine.socket}`, ...args]);
  return r.stdout;
}

/** Names of the containers on an engine carrying a label. */
export async function containersOn(engine: RigEngine, label: string): Promise<string[]> {
  return (await dockerOn(engine, ['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();
}
