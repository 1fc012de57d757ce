// One lab on several engines behind the one ContainerRuntime every other layer takes: each call
// goes to the engine that holds its container. A container's engine is its `overlab.engine` label
// (set on every container of a lab with several engines), learned from the specs it creates and
// the lists it answers; a name it has not seen yet is looked for on every engine once. Lists are
// the union of every engine's. The first engine is the primary: lab locks and messages name it.
import type {
  AttachedExec,
  AttachOptions,
  CallOptions,
  ContainerDetails,
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  ExecOptions,
  ExecResult,
  FollowOptions,
  ImageOptions,
  NetworkSummary,
  StreamingExec,
  StreamOptions,
} from './runtime.js';
import type { Readable } from 'node:stream';
import { OverlabError } from '../base/errors.js';
import type { EngineReach } from './engine-runtime.js';

/** On every container of a lab with several engines: the name of the engine it runs on. */
export const LABEL_ENGINE = 'overlab.engine';

export interface NamedRuntime {
  name: string;
  runtime: ContainerRuntime;
}

/** What the routed runtime needs to know of a lab spread over engines (its model's parts). */
export interface PlacedLab {
  engines?: (EngineReach & { switchContainer: string })[];
  hosts: { container: string; engine?: string }[];
  externals: { container: string; engine?: string }[];
}

/** Makes the runtime of an engine a lab's model names (the command's env, signal and deadlines). */
export type EngineFactory = (engine: EngineReach) => ContainerRuntime;

export class RoutedRuntime implements ContainerRuntime {
  private engines = new Map<string, ContainerRuntime>();
  private readonly placement = new Map<string, string>();
  private primaryName: string;
  private readonly factory: EngineFactory | undefined;

  constructor(engines: NamedRuntime[], factory?: EngineFactory) {
    if (engines.length === 0) throw new OverlabError('internal', 'a routed runtime needs at least one engine');
    for (const e of engines) this.engines.set(e.name, e.runtime);
    this.primaryName = engines[0]!.name;
    this.factory = factory;
  }

  /** A lab's model (or the engines it names) was read from `readFrom`, a switch container: the
   * engine holding it is the engine of that switch — the primary, unless the command talks to
   * another engine of the lab. The command's engine takes that engine's name, the lab's others
   * are reached as the model says, and the lab's first engine becomes this runtime's primary
   * (lab locks and the model are there). Containers are placed. */
  adopt(lab: PlacedLab, readFrom?: string): void {
    const engines = lab.engines ?? [];
    if (engines.length === 0) return;
    const from = engines.find((e) => e.switchContainer === readFrom) ?? engines[0]!;
    const holder = (readFrom !== undefined ? this.placement.get(readFrom) : undefined) ?? this.primaryName;
    if (holder !== from.name && !this.engines.has(from.name) && this.engines.has(holder)) this.rename(holder, from.name);
    for (const e of engines) {
      if (!this.engines.has(e.name)) {
        if (!this.factory) throw new OverlabError('internal', `no way to reach engine ${e.name}`);
        this.engines.set(e.name, this.factory(e));
      }
    }
    const primary = engines[0]!.name;
    this.primaryName = primary;
    this.engines = new Map([[primary, this.engines.get(primary)!], ...[...this.engines].filter(([name]) => name !== primary)]);
    for (const e of engines) this.placement.set(e.switchContainer, e.name);
    for (const n of [...lab.hosts, ...lab.externals]) if (n.engine) this.placement.set(n.container, n.engine);
  }

  /** Another view of the same engines (the same clients) with placements of its own: a command
   * reading several labs (ls, down --all) adopts each lab's engines in a view of its own. */
  fork(): RoutedRuntime {
    const view = new RoutedRuntime(this.named, this.factory);
    for (const [container, engine] of this.placement) view.placement.set(container, engine);
    return view;
  }

  /** Whether this runtime still talks to the command's own engine only, by no name of a lab's. */
  get unplaced(): boolean {
    return this.engines.size === 1 && this.primaryName === '';
  }

  private rename(from: string, to: string): void {
    this.engines = new Map([...this.engines].map(([name, runtime]) => [name === from ? to : name, runtime]));
    for (const [container, engine] of this.placement) if (engine === from) this.placement.set(container, to);
    if (this.primaryName === from) this.primaryName = to;
  }

  get endpoint(): string {
    return this.primary.endpoint;
  }

  get primary(): ContainerRuntime {
    return this.engines.get(this.primaryName)!;
  }

  /** The engines, primary first. */
  get named(): NamedRuntime[] {
    return [...this.engines].map(([name, runtime]) => ({ name, runtime }));
  }

  engine(name: string): ContainerRuntime {
    const runtime = this.engines.get(name);
    if (!runtime) throw new OverlabError('internal', `no engine named ${name} in this lab`);
    return runtime;
  }

  /** Which engine a container is on (as far as known). */
  engineOf(container: string): string | undefined {
    return this.placement.get(container);
  }

  /** Say where containers are (from a lab's model) before they are asked about. */
  place(container: string, engine: string): void {
    this.placement.set(container, engine);
  }

  /** Containers `engine` listed are there (a caller listing one engine on its own says so). */
  learnFrom(summaries: ContainerSummary[], engine: string): void {
    for (const c of summaries) this.placement.set(c.name, engine);
  }

  /** The runtime holding `container`; looked for on every engine when not known yet. */
  private async on(container: string, options: CallOptions = {}): Promise<ContainerRuntime> {
    const known = this.placement.get(container);
    if (known) return this.engine(known);
    if (this.engines.size === 1) return this.primary;
    const found = await Promise.all(
      this.named.map(async ({ name, runtime }) => ((await runtime.listByName([container], options)).length ? name : undefined)),
    );
    const engine = found.find((n): n is string => n !== undefined);
    if (!engine) return this.primary; // let the primary say "does not exist", as one engine would
    this.placement.set(container, engine);
    return this.engine(engine);
  }

  info(options?: CallOptions): Promise<EngineInfo> {
    return this.primary.info(options);
  }

  /** On every engine (a lab needs its image wherever it has nodes). */
  async imageExists(ref: string, options?: CallOptions): Promise<boolean> {
    return (await Promise.all(this.named.map(({ runtime }) => runtime.imageExists(ref, options)))).every(Boolean);
  }

  imageLabels(ref: string, options?: CallOptions): Promise<Record<string, string> | undefined> {
    return this.primary.imageLabels(ref, options);
  }

  importImage(tar: Readable, ref: string, changes: string[], options?: ImageOptions): Promise<void> {
    return this.primary.importImage(tar, ref, changes, options);
  }

  buildImage(context: Buffer | Readable, tags: string[], options?: ImageOptions): Promise<void> {
    return this.primary.buildImage(context, tags, options);
  }

  tagImage(source: string, target: string, options?: CallOptions): Promise<void> {
    return this.primary.tagImage(source, target, options);
  }

  saveImages(refs: string[], options?: CallOptions): Promise<Readable> {
    return this.primary.saveImages(refs, options);
  }

  loadImages(tar: Readable, options?: ImageOptions): Promise<void> {
    return this.primary.loadImages(tar, options);
  }

  async createAndStart(spec: ContainerSpec, options?: CallOptions): Promise<string> {
    const engine = spec.labels[LABEL_ENGINE] ?? this.primaryName;
    this.placement.set(spec.name, engine);
    return this.engine(engine).createAndStart(spec, options);
  }

  async create(spec: ContainerSpec, options?: CallOptions): Promise<string> {
    const engine = spec.labels[LABEL_ENGINE] ?? this.primaryName;
    this.placement.set(spec.name, engine);
    return this.engine(engine).create(spec, options);
  }

  async start(container: string, options?: CallOptions): Promise<void> {
    return (await this.on(container, options)).start(container, options);
  }

  /** On the engine its `overlab.engine` label names (the primary without one): a lab's share is per engine. */
  createVolume(name: string, labels: Record<string, string>, options?: CallOptions): Promise<void> {
    return this.engine(labels[LABEL_ENGINE] ?? this.primaryName).createVolume(name, labels, options);
  }

  /** On every engine. */
  async removeVolumes(labelFilter: Record<string, string>, options?: CallOptions): Promise<string[]> {
    return (await Promise.all(this.named.map(({ runtime }) => runtime.removeVolumes(labelFilter, options)))).flat().sort();
  }

  async inspectContainer(container: string, options?: CallOptions): Promise<ContainerDetails> {
    return (await this.on(container, options)).inspectContainer(container, options);
  }

  async list(labelFilter: Record<string, string | true>, options?: CallOptions): Promise<ContainerSummary[]> {
    const lists = await Promise.all(
      this.named.map(async ({ name, runtime }) => {
        const found = await runtime.list(labelFilter, options);
        this.learnFrom(found, name);
        return found;
      }),
    );
    return lists.flat();
  }

  async listByName(names: string[], options?: CallOptions): Promise<ContainerSummary[]> {
    const lists = await Promise.all(
      this.named.map(async ({ name, runtime }) => {
        const found = await runtime.listByName(names, options);
        this.learnFrom(found, name);
        return found;
      }),
    );
    return lists.flat();
  }

  async remove(container: string, options?: CallOptions): Promise<void> {
    return (await this.on(container, options)).remove(container, options);
  }

  async exec(container: string, command: string[], options?: ExecOptions): Promise<ExecResult> {
    return (await this.on(container, options)).exec(container, command, options);
  }

  async execStream(container: string, command: string[], options?: StreamOptions): Promise<StreamingExec> {
    return (await this.on(container, options)).execStream(container, command, options);
  }

  async execAttached(container: string, command: string[], options?: AttachOptions): Promise<AttachedExec> {
    return (await this.on(container, options)).execAttached(container, command, options);
  }

  async followOutput(container: string, take: (stream: 'stdout' | 'stderr', text: string) => boolean, options?: FollowOptions): Promise<boolean> {
    return (await this.on(container, options)).followOutput(container, take, options);
  }

  async execDetached(container: string, command: string[], options?: CallOptions): Promise<void> {
    return (await this.on(container, options)).execDetached(container, command, options);
  }

  async readFile(container: string, path: string, options?: CallOptions): Promise<Buffer> {
    return (await this.on(container, options)).readFile(container, path, options);
  }

  async kill(container: string, signal: 'SIGHUP' | 'SIGTERM' | 'SIGKILL', options?: CallOptions): Promise<void> {
    return (await this.on(container, options)).kill(container, signal, options);
  }

  async pause(container: string, options?: CallOptions): Promise<void> {
    return (await this.on(container, options)).pause(container, options);
  }

  async unpause(container: string, options?: CallOptions): Promise<void> {
    return (await this.on(container, options)).unpause(container, options);
  }

  async putTar(container: string, directory: string, tar: Readable | Buffer, options?: CallOptions): Promise<void> {
    return (await this.on(container, options)).putTar(container, directory, tar, options);
  }

  async listNetworks(options?: CallOptions): Promise<NetworkSummary[]> {
    return (await Promise.all(this.named.map(({ runtime }) => runtime.listNetworks(options)))).flat();
  }
}

/** A lab model was read through `runtime` (from switch `readFrom`): reach its other engines from
 * now on (a no-op unless the command's runtime is a routed one, or the lab has one engine). */
export function adoptLab(runtime: ContainerRuntime, lab: PlacedLab, readFrom?: string): void {
  if (runtime instanceof RoutedRuntime) runtime.adopt(lab, readFrom);
}

/** A view of the runtime of its own, for one lab among several a command reads. */
export function labView(runtime: ContainerRuntime): ContainerRuntime {
  return runtime instanceof RoutedRuntime ? runtime.fork() : runtime;
}

/** The engine a lab's lock and model are on: the routed runtime's primary, or the runtime itself. */
export function primaryRuntime(runtime: ContainerRuntime): ContainerRuntime {
  return runtime instanceof RoutedRuntime ? runtime.primary : runtime;
}
