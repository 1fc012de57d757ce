// `overlab complete -- <words>`: what the completion scripts ask at every Tab, answered without
// loading oclif (bin/run.js comes here directly): the command table is oclif's manifest, read as
// JSON, and the engine is asked only when a lab's name or nodes are wanted. Prints the candidate
// words, one per line; never fails loudly (a completion must not spill errors into a prompt) and
// never waits long for the engine.
import { readFile, readdir } from 'node:fs/promises';
import { commandsFromManifest, complete, type LabWorld } from './completion.js';
import { bundledExerciseNames, bundledLabNames } from './bundled-labs.js';
import { debugLog, tolerated } from '../base/debug-log.js';

const ENGINE_PATIENCE_MS = 1500;

function quickly<T>(work: Promise<T>, fallback: T): Promise<T> {
  return Promise.race([work.catch(tolerated('cli', 'ask the engine for completions', fallback)), new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ENGINE_PATIENCE_MS).unref())]);
}

async function specFiles(prefix: string): Promise<string[]> {
  const slash = prefix.lastIndexOf('/');
  const dir = slash >= 0 ? prefix.slice(0, slash + 1) : '';
  const entries = await readdir(dir || '.', { withFileTypes: true }).catch(tolerated('cli', `list ${dir || '.'} for completions`, []));
  return entries
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || /\.ya?ml$/i.test(e.name)))
    .map((e) => `${dir}${e.name}${e.isDirectory() ? '/' : ''}`);
}

/** `--context NAME` (or `--context=NAME`) already typed on the line: the engine the command will talk to. */
export function contextOnLine(words: string[]): string | undefined {
  for (let i = 0; i < words.length - 1; i++) {
    if (words[i] === '--context' && i + 1 < words.length - 1) return words[i + 1];
    if (words[i]!.startsWith('--context=')) return words[i]!.slice('--context='.length);
  }
  return undefined;
}

/** The engine's side, loaded only when a lab's name or members are wanted. */
async function engine(context: string | undefined) {
  const [{ DockerRuntime }, { listLabs, requireRunningLab }] = await Promise.all([import('../runtime/docker-runtime.js'), import('../lab/engine-labs.js')]);
  return { runtime: new DockerRuntime(context ? { context } : {}), listLabs, requireRunningLab };
}

export async function completeFast(argv: string[]): Promise<void> {
  const words = argv[0] === '--' ? argv.slice(1) : argv;
  const context = contextOnLine(words);
  try {
    const manifest = JSON.parse(await readFile(new URL('../../oclif.manifest.json', import.meta.url), 'utf8')) as Parameters<typeof commandsFromManifest>[0];
    const world: LabWorld = {
      labs: () =>
        quickly(
          engine(context).then(async ({ runtime, listLabs }) => (await listLabs(runtime)).map((l) => l.name)),
          [],
        ),
      members: (lab) =>
        quickly(
          engine(context).then(async ({ runtime, requireRunningLab }) => {
            const l = await requireRunningLab(runtime, lab);
            return { hosts: l.hosts.map((h) => h.name), pods: l.hosts.flatMap((h) => h.pods.map((p) => `${h.name}/${p.name}`)), nodes: l.externals.map((e) => e.name) };
          }),
          { hosts: [], pods: [], nodes: [] },
        ),
      specFiles,
      bundledLabs: async () => bundledLabNames(),
      exercises: async () => bundledExerciseNames(),
    };
    const candidates = await complete(words.length ? words : [''], commandsFromManifest(manifest), world);
    if (candidates.length) process.stdout.write(candidates.join('\n') + '\n');
  } catch (error) {
    // no candidates rather than an error in the middle of someone's prompt
    debugLog('cli', 'complete', error);
  }
  // Timers of a hung engine must not keep the shell waiting.
  process.exit(0);
}
