// The lab's own record inside its switch container: the resolved model (lab.json, the current
// members) and the completion marker `up` writes last. Both go through the engine's archive API:
// no process is started, and a model of any size never touches a label or an HTTP header.
import { adoptLab } from '../runtime/routed-runtime.js';
import type { CallOptions, ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LAB_BOOTS_FILE, LAB_COMPLETE_FILE, LAB_ENGINES_FILE, LAB_MODEL_FILE, LAB_STATE_DIR } from '../plan/container-names.js';
import type { ResolvedEngine } from '../plan/resolved-lab.js';
import { tarEntries } from '../runtime/tar.js';
import { isEngineFailure } from '../runtime/engine-errors.js';
import { debugLog } from '../base/debug-log.js';

export interface CompletionMarker {
  /** The run id of the `up` that finished. */
  run: string;
  fingerprint: string;
  completedAt: string;
}

const parent = LAB_STATE_DIR.slice(0, LAB_STATE_DIR.lastIndexOf('/')) || '/';
const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const stateDirName = base(LAB_STATE_DIR);

async function writeStateFile(runtime: ContainerRuntime, container: string, path: string, content: unknown, options: CallOptions): Promise<void> {
  await writeStateFiles(runtime, container, [{ path, content }], options);
}

/** Several state files in one archive, unpacked in the order given (one engine call). */
async function writeStateFiles(runtime: ContainerRuntime, container: string, files: { path: string; content: unknown }[], options: CallOptions): Promise<void> {
  const tar = tarEntries([
    { name: `${stateDirName}/`, mode: 0o755 },
    ...files.map((f) => ({ name: `${stateDirName}/${base(f.path)}`, content: Buffer.from(JSON.stringify(f.content) + '\n'), mode: 0o644 })),
  ]);
  await runtime.putTar(container, parent, tar, options);
}

/** States in which the engine is taking a container apart: its files may vanish under a read. */
const GOING_STATES = new Set(['removing', 'dead']);

/** Did a failed read hit a container another process is removing (its `down`, a rollback)? The
 * engine then answers 500 ("no such file or directory" from a root filesystem already gone). */
async function containerIsGoing(runtime: ContainerRuntime, container: string, options: CallOptions): Promise<boolean> {
  try {
    return GOING_STATES.has((await runtime.inspectContainer(container, options)).state);
  } catch (error) {
    if (isEngineFailure(error, 'not-found')) return true;
    throw error;
  }
}

/** Reads made when the engine fails on a container that is not going away: a container being
 * created or started by another process can fail one read the same way. */
const READ_ATTEMPTS = 3;

/** A state file's JSON, or undefined when it is not there (or not readable as JSON, or its
 * container is being removed as we read). */
async function readStateFile<T>(runtime: ContainerRuntime, container: string, path: string, options: CallOptions): Promise<T | undefined> {
  let raw: Buffer | undefined;
  for (let attempt = 1; !raw; attempt++) {
    try {
      raw = await runtime.readFile(container, path, options);
    } catch (error) {
      if (isEngineFailure(error, 'not-found')) return undefined;
      if (!isEngineFailure(error, 'server')) throw error;
      if (await containerIsGoing(runtime, container, options)) return undefined;
      if (attempt === READ_ATTEMPTS) throw error;
    }
  }
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch (error) {
    debugLog('lab', `read ${path} in ${container} (damaged: the lab reads as incomplete)`, error);
    return undefined;
  }
}

/** Write (or rewrite, after `node add|rm`) the lab's model into its switch. */
export async function saveLabModel(runtime: ContainerRuntime, lab: ResolvedLab, options: CallOptions = {}): Promise<void> {
  await writeStateFile(runtime, lab.underlay.switchContainer, LAB_MODEL_FILE, lab, options);
}

export async function loadLabModel(runtime: ContainerRuntime, switchContainer: string, options: CallOptions = {}): Promise<ResolvedLab | undefined> {
  const model = await readStateFile<ResolvedLab>(runtime, switchContainer, LAB_MODEL_FILE, options);
  if (!(model && typeof model.name === 'string' && Array.isArray(model.hosts))) return undefined;
  // A lab across engines: the command reaches its other engines from here on.
  adoptLab(runtime, model, switchContainer);
  return model;
}

/** The completion marker, with (when given) the boot record written just before it in the same
 * archive: `up`'s last engine call. */
export async function markComplete(runtime: ContainerRuntime, lab: ResolvedLab, marker: CompletionMarker, options: CallOptions & { boots?: NodeBoots } = {}): Promise<void> {
  const { boots, ...call } = options;
  await writeStateFiles(runtime, lab.underlay.switchContainer, [...(boots ? [{ path: LAB_BOOTS_FILE, content: boots }] : []), { path: LAB_COMPLETE_FILE, content: marker }], call);
}

export async function readCompletion(runtime: ContainerRuntime, switchContainer: string, options: CallOptions = {}): Promise<CompletionMarker | undefined> {
  const marker = await readStateFile<CompletionMarker>(runtime, switchContainer, LAB_COMPLETE_FILE, options);
  return marker && typeof marker.run === 'string' ? marker : undefined;
}

/** What a non-primary engine's switch says of its lab: every engine, the first the primary. */
export interface EnginesRecord {
  lab: string;
  engines: ResolvedEngine[];
}

/** A lab spread over engines: every switch but the primary's names the lab's engines. */
export async function saveEnginesRecords(runtime: ContainerRuntime, lab: ResolvedLab, options: CallOptions = {}): Promise<void> {
  const engines = lab.engines ?? [];
  const record: EnginesRecord = { lab: lab.name, engines };
  await Promise.all(engines.slice(1).map((e) => writeStateFile(runtime, e.switchContainer, LAB_ENGINES_FILE, record, options)));
}

export async function readEnginesRecord(runtime: ContainerRuntime, switchContainer: string, options: CallOptions = {}): Promise<EnginesRecord | undefined> {
  const record = await readStateFile<EnginesRecord>(runtime, switchContainer, LAB_ENGINES_FILE, options);
  const ok = record && typeof record.lab === 'string' && Array.isArray(record.engines) && record.engines.length > 1 && record.engines.every((e) => typeof e.name === 'string' && typeof e.switchContainer === 'string');
  return ok ? record : undefined;
}

/** Node → the StartedAt of its container when it was wired (`up`, `node add`, a repair). */
export interface NodeBoots {
  nodes: Record<string, string>;
}

export async function writeBoots(runtime: ContainerRuntime, switchContainer: string, boots: NodeBoots, options: CallOptions = {}): Promise<void> {
  await writeStateFile(runtime, switchContainer, LAB_BOOTS_FILE, boots, options);
}

/** The boot record; undefined for a lab built before overlab kept one. */
export async function readBoots(runtime: ContainerRuntime, switchContainer: string, options: CallOptions = {}): Promise<NodeBoots | undefined> {
  const boots = await readStateFile<NodeBoots>(runtime, switchContainer, LAB_BOOTS_FILE, options);
  return boots && typeof boots.nodes === 'object' && boots.nodes !== null ? boots : undefined;
}

interface NodeContainer {
  node: string;
  container: string;
}

/** `drop`: nodes the record forgets; `replace`: only the nodes given stay in it. */
type BootOptions = CallOptions & { drop?: string[]; replace?: boolean };

/** The boot record with the current StartedAt of these nodes' containers (others keep theirs;
 * `drop` removes; `replace`: only these), not written yet. */
export async function currentBoots(
  runtime: ContainerRuntime,
  switchContainer: string,
  nodes: NodeContainer[],
  options: BootOptions = {},
): Promise<NodeBoots> {
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const started = await Promise.all(nodes.map(async (n) => [n.node, (await runtime.inspectContainer(n.container, call)).startedAt] as const));
  const before = options.replace ? undefined : await readBoots(runtime, switchContainer, call);
  const merged: Record<string, string> = { ...(before?.nodes ?? {}) };
  for (const [node, at] of started) if (at) merged[node] = at;
  for (const node of options.drop ?? []) delete merged[node];
  return { nodes: merged };
}

/** Record the current StartedAt of these nodes' containers (others keep theirs; `drop` removes). */
export async function recordBoots(
  runtime: ContainerRuntime,
  switchContainer: string,
  nodes: NodeContainer[],
  options: BootOptions = {},
): Promise<void> {
  await writeBoots(runtime, switchContainer, await currentBoots(runtime, switchContainer, nodes, options), options.signal ? { signal: options.signal } : {});
}
