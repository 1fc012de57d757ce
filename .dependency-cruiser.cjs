// The layers of src/ as checked rules (dependency-cruiser; `npm run lint:deps`, and `npm test`
// runs it first). Every relative import counts — static, dynamic `import()` and `import type`.
// docs/architecture.md draws its picture from this file (scripts/architecture-diagram.mjs; a unit
// test fails when they differ), so change the tiers here and run `npm run docs:architecture`.
//
// TIERS, bottom first: a folder may import its own files and the folders of LOWER tiers only —
// never a folder of its own tier or above. The programs that run inside lab hosts stand apart:
// they import Node's built-ins and src/shared/ only, and nothing imports them (they ship as
// bundles, scripts/bundle-host-programs.mjs).
const TIERS = [
  { folders: ['base', 'shared', 'pcap', 'text'], what: 'leaves: errors and polling; pure modules the host programs share; packet decoders; terminal text' },
  { folders: ['runtime', 'lab-spec'], what: 'the engine API client; the lab spec language (schema, rules, names), without the kinds' },
  { folders: ['plan', 'image'], what: 'spec → resolved lab → argv plans (pure); the host image' },
  { folders: ['probes'], what: 'ping, tcpdump, the probe reaper' },
  { folders: ['lab'], what: 'a lab on the engine: lock, files in the switch, state, references, leases' },
  { folders: ['deploy', 'trace'], what: 'making a lab\'s containers, wiring, agents, CNI; one packet\'s journey' },
  { folders: ['checks'], what: 'check kinds and the check runner' },
  { folders: ['faults'], what: 'fault kinds and the fault engine' },
  { folders: ['lab-loader'], what: 'the spec language with every kind: a YAML file → LabSpec' },
  { folders: ['core'], what: 'orchestration: up, verify, down, node add/rm, doctor' },
  { folders: ['report'], what: 'what a command found, rendered: tables, JUnit, Mermaid, the HTML report' },
  { folders: ['workshop'], what: 'exercises' },
  { folders: ['cli'], what: 'the base command, output, progress' },
  { folders: ['commands'], what: 'thin oclif commands' },
];
/** Programs of their own, run inside lab hosts: only Node built-ins and these folders. */
const HOST_PROGRAMS = { agent: ['shared'], 'cni-plugin': ['shared'], 'pod-tools': ['shared'] };
/** Folders that may import no npm package at all (Node built-ins only). */
const NO_PACKAGES = ['base', 'shared', 'pcap', 'text', 'agent', 'cni-plugin', 'pod-tools'];

const alternatives = (names) => `(${names.join('|')})`;

// The diagram (scripts/architecture-diagram.mjs) reads these rules back: the folder from `from`,
// what it may import from `to.pathNot`, what the tier holds from the comment's first line.
function layerRule(folder, allowed, what) {
  return {
    name: `layer-${folder}`,
    comment: `${what}\nsrc/${folder}/ may import only: ${allowed.length ? allowed.map((f) => `src/${f}/`).join(', ') : 'nothing outside itself'}`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: '^src/', pathNot: `^src/${alternatives([folder, ...allowed])}/` },
  };
}

const layerRules = [
  ...TIERS.flatMap((tier, i) => {
    const below = TIERS.slice(0, i).flatMap((t) => t.folders);
    return tier.folders.map((folder) => layerRule(folder, below, tier.what));
  }),
  ...Object.entries(HOST_PROGRAMS).map(([folder, allowed]) => layerRule(folder, allowed, 'a program run inside lab hosts')),
];

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'No import cycle, of files or through folders: static, dynamic and type-only imports all count.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'unknown-folder',
      comment: 'Every folder of src/ has a place in the tiers (.dependency-cruiser.cjs): add it there.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/${alternatives([...TIERS.flatMap((t) => t.folders), ...Object.keys(HOST_PROGRAMS)])}/` },
      to: {},
    },
    {
      name: 'node-builtins-only',
      comment: `${NO_PACKAGES.map((f) => `src/${f}/`).join(', ')} import Node built-ins only, no package.`,
      severity: 'error',
      from: { path: `^src/${alternatives(NO_PACKAGES)}/` },
      to: { dependencyTypesNot: ['local', 'core', 'type-only', 'dynamic-import'] },
    },
    {
      name: 'no-test-code',
      comment: 'The program never imports tests or their support (test/support/ holds the fakes).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'resolvable',
      comment: 'Every import resolves to a file.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    // Type-only imports count: a cycle through `import type` is still one.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
