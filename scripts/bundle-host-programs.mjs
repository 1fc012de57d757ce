// Build step: the two programs that run inside lab hosts, each bundled by esbuild from its entry
// into one file with exactly what it imports (src/shared/ included, nothing else):
//   dist/host/agent/main.js               the agent (src/agent/main.ts), our flanneld
//   dist/host/agent/cni-flannel-main.js   the flannel CNI plugin (src/cni-plugin/main.ts)
// dist/host/agent/ is what a host gets at /opt/overlab/agent/ (with the static helpers of
// dist/native/ for udp networks): src/deploy/agents.ts and src/deploy/cni-attach.ts copy these
// files and nothing else. The hosts run Debian's Node 18.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}dist/host/agent`;
mkdirSync(outDir, { recursive: true });
const programs = [
  { entry: 'dist/agent/main.js', out: 'main.js' },
  { entry: 'dist/cni-plugin/main.js', out: 'cni-flannel-main.js' },
];
for (const { entry, out } of programs) {
  const result = await build({
    entryPoints: [`${root}${entry}`],
    outfile: `${outDir}/${out}`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs).length;
  const bytes = Object.values(result.metafile.outputs)[0].bytes;
  console.error(`dist/host/agent/${out}: ${inputs} modules from ${entry} (${Math.round(bytes / 1024)} KiB)`);
}
writeFileSync(`${outDir}/package.json`, '{"type":"module"}\n');
