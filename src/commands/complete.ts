// Called by the completion scripts at every Tab: prints the candidate words, one per line. It
// never fails loudly (a completion must not spill errors into the prompt) and never waits long
// for the engine.
import { Command } from '@oclif/core';
import { readFile, readdir } from 'node:fs/promises';
import { commandsFromManifest, complete, type LabWorld } from '../cli/completion.js';
import { DockerRuntime } from '../runtime/docker-runtime.js';
import { listLabs, requireRunningLab } from '../lab/engine-labs.js';
import { bundledExerciseNames, bundledLabNames } from '../cli/bundled-labs.js';

const ENGINE_PATIENCE_MS = 1500;

function quickly<T>(work: Promise<T>, fallback: T): Promise<T> {
  return Promise.race([work.catch(() => fallback), new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ENGINE_PATIENCE_MS).unref())]);
}

async function specFiles(prefix: string): Promise<string[]> {
  const slash = prefix.lastIndexOf('/');
  const dir = slash >= 0 ? prefix.slice(0, slash + 1) : '';
  const entries = await readdir(dir || '.', { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || /\.ya?ml$/i.test(e.name)))
    .map((e) => `${dir}${e.name}${e.isDirectory() ? '/' : ''}`);
}

export default class Complete extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Completion candidates for the words given (used by `overlab completion`).';

  async run(): Promise<void> {
    const words = this.argv[0] === '--' ? this.argv.slice(1) : this.argv;
    try {
      const manifest = JSON.parse(await readFile(new URL('../../oclif.manifest.json', import.meta.url), 'utf8'));
      const runtime = new DockerRuntime();
      const world: LabWorld = {
        labs: () => quickly(listLabs(runtime).then((labs) => labs.map((l) => l.name)), []),
        members: (lab) =>
          quickly(
            requireRunningLab(runtime, lab).then((l) => ({
              hosts: l.hosts.map((h) => h.name),
              pods: l.hosts.flatMap((h) => h.pods.map((p) => `${h.name}/${p.name}`)),
              nodes: l.externals.map((e) => e.name),
            })),
            { hosts: [], pods: [], nodes: [] },
          ),
        specFiles,
        bundledLabs: async () => bundledLabNames(),
        exercises: async () => bundledExerciseNames(),
      };
      const candidates = await complete(words.length ? words : [''], commandsFromManifest(manifest), world);
      if (candidates.length) process.stdout.write(candidates.join('\n') + '\n');
    } catch {
      // no candidates rather than an error in the middle of someone's prompt
    }
    // Timers of a hung engine must not keep the shell waiting.
    process.exit(0);
  }
}
