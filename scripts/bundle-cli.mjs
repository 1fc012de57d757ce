// Build step: the CLI's hottest path, `overlab validate <spec>` (what an editor or a pre-commit
// hook runs on every save), as one ES module: dist/lab-loader/validate-bundle.js, made by esbuild
// from the compiled dist/cli/validate-fast.js with the yaml package inside. Node then reads one
// file instead of ~110 modules. It sits in dist/lab-loader/ so that the paths its code finds
// beside itself (lab-validator.cjs, parse-worker.js, ../../schema/) are the same as in the
// unbundled modules.
// bin/run.js falls back to the unbundled module when the bundle is missing.
import { build } from 'esbuild';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}dist/lab-loader`;

/** What the code imports only when it needs it (`await import(...)`: a check kind's probes) stays
 * a module of its own, loaded from dist/ if ever needed — except what validating itself may load
 * (the worker that parses a large spec, the check and fault kinds a spec names, whose `resolve`
 * checks it: src/lab-loader/kind-loaders.ts): a second copy of a module would have its own error
 * classes, which `instanceof` in the bundle would not recognise. */
const BUNDLED_EVEN_IF_LAZY = /\/(parse-in-worker|checks\/kinds\/[\w-]+|faults\/kinds\/[\w-]+)\.js$/;
const lazyStaysOutside = {
  name: 'lazy-stays-outside',
  setup(b) {
    b.onResolve({ filter: /^\./, namespace: 'file' }, (args) => {
      if (args.kind !== 'dynamic-import' || BUNDLED_EVEN_IF_LAZY.test(args.path)) return undefined;
      const target = resolve(args.resolveDir, args.path);
      let path = relative(outDir, target);
      if (!path.startsWith('.')) path = `./${path}`;
      return { path, external: true };
    });
  },
};
const result = await build({
  entryPoints: [`${root}dist/cli/validate-fast.js`],
  outfile: `${outDir}/validate-bundle.js`,
  plugins: [lazyStaysOutside],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Only a spec without a precompiled validator (a tree run from sources) needs Ajv's compiler.
  external: ['ajv'],
  // CommonJS modules inside an ES module bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __overlabRequire } from 'node:module'; const require = __overlabRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
const inputs = Object.keys(result.metafile.inputs).length;
const bytes = Object.values(result.metafile.outputs)[0].bytes;
console.error(`dist/lab-loader/validate-bundle.js: ${inputs} modules in one file (${Math.round(bytes / 1024)} KiB)`);
