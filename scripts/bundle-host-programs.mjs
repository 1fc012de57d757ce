// Build step: the programs that run inside lab hosts, each bundled by esbuild from its entry
// into one file with exactly what it imports (src/shared/ included, nothing else):
//   dist/host/agent/main.js               the agent (src/agent/main.ts), our flanneld
//   dist/host/agent/cni-flannel-main.js   the flannel CNI plugin (src/cni-plugin/main.ts)
//   dist/host/pod-tools/serve.js          a pod's server (src/pod-tools/serve.ts)
//   dist/host/pod-tools/ask.js            the asking probe (src/pod-tools/ask.ts)
// dist/host/agent/ is what a host gets at /opt/overlab/agent/ (with the static helpers of
// dist/native/ for udp networks): src/deploy/agents.ts and src/deploy/cni-attach.ts copy these
// files and nothing else. The hosts run Debian's Node 18.
// The agent and the CNI plugin are CommonJS (their folder's package.json says so): an ES module
// entry makes Node 18 load and compile its ES module loader first, ~10 ms of CPU at every start
// of every agent and every CNI call on the image's Node, which has no code cache for its own
// modules. `import.meta.url` (used to find files next to the bundle) becomes the file's URL.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const programs = [
  { entry: 'dist/agent/main.js', dir: 'agent', out: 'main.js' },
  { entry: 'dist/cni-plugin/main.js', dir: 'agent', out: 'cni-flannel-main.js' },
  { entry: 'dist/pod-tools/serve.js', dir: 'pod-tools', out: 'serve.js' },
  { entry: 'dist/pod-tools/ask.js', dir: 'pod-tools', out: 'ask.js' },
];
/** Each folder's module format, written into its package.json (the same text the hosts get). */
const FORMATS = { agent: 'commonjs', 'pod-tools': 'module' };
for (const { entry, dir, out } of programs) {
  const cjs = FORMATS[dir] === 'commonjs';
  const outDir = `${root}dist/host/${dir}`;
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [`${root}${entry}`],
    outfile: `${outDir}/${out}`,
    bundle: true,
    platform: 'node',
    format: cjs ? 'cjs' : 'esm',
    ...(cjs ? { define: { 'import.meta.url': '__importMetaUrl' }, banner: { js: "'use strict';\nvar __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" } } : {}),
    target: 'node18',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs).length;
  const bytes = Object.values(result.metafile.outputs)[0].bytes;
  console.error(`dist/host/${dir}/${out}: ${inputs} modules from ${entry} (${Math.round(bytes / 1024)} KiB)`);
}
for (const dir of new Set(programs.map((p) => p.dir))) writeFileSync(`${root}dist/host/${dir}/package.json`, `{"type":"${FORMATS[dir]}"}\n`);
