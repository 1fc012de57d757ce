#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// A signal that arrives before a command has started (while Node and oclif load) ends the
// process at once, with the conventional code and a word: nothing has been changed yet. Each
// command replaces these handlers with its own, which roll back what it made.
const early = (code, what) => () => {
  process.stderr.write(`\n${what} before overlab changed anything\n`);
  process.exit(code);
};
process.on('SIGINT', early(130, 'interrupted'));
process.on('SIGTERM', early(143, 'terminated (SIGTERM)'));

// Started by bin/overlab (the `overlab` command): tell it this process handles signals now (it
// speaks for the time before), and end with it when it is killed outright (SIGKILL). It is our
// parent only when the parent runs that very file.
const launcher = process.ppid;
const realpath = (path) => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};
const startedByLauncher = (() => {
  const ours = realpath(fileURLToPath(new URL('./overlab', import.meta.url)));
  let argv;
  try {
    argv = readFileSync(`/proc/${launcher}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  return ours !== undefined && argv.slice(0, 3).some((a) => a.includes('/') && realpath(a) === ours);
})();
if (startedByLauncher) {
  process.kill(launcher, 'SIGUSR1');
  setInterval(() => {
    if (process.ppid !== launcher) process.exit(137);
  }, 500).unref();
}

// `overlab validate <spec>` is answered without loading oclif (src/cli/validate-fast.ts), from the
// one-file bundle `npm run build` makes of it (scripts/bundle-cli.mjs); every other command, and
// every other form of validate, goes through oclif.
const args = process.argv.slice(2);
// `overlab --context NAME <command> …`, as the docker CLI takes it: oclif reads flags only after
// the command, so the global flag moves there (before a `--`, whose words are a program's own).
const contextWords = args[0] === '--context' ? 2 : args[0]?.startsWith('--context=') ? 1 : 0;
if (contextWords && args.length > contextWords) {
  const flag = args.splice(0, contextWords);
  const end = args.indexOf('--');
  args.splice(end < 0 ? args.length : end, 0, ...flag);
}
const validateModule = async () => {
  try {
    return await import('../dist/lab-loader/validate-bundle.js');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('validate-bundle.js')) throw error;
    return import('../dist/cli/validate-fast.js');
  }
};
// `--version` / `-v` (oclif's answer, word for word, without loading oclif): scripts and bug
// reports ask for it, and it must stay as cheap as Node's own start.
const printVersion = async () => {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${arch} node-${process.version}\n`);
  return true;
};
// `overlab complete -- <words>` is what a shell asks at every Tab: answered without oclif too.
const complete = async () => {
  await (await import('../dist/cli/complete-fast.js')).completeFast(args.slice(1));
  return true;
};
const answered =
  args[0] === '--version' || args[0] === '-v'
    ? await printVersion()
    : args[0] === 'complete'
      ? await complete()
      : args[0] === 'validate' && (await (await validateModule()).validateFast(args.slice(1)));
if (!answered) {
  // oclif checks, every time it loads, that Node satisfies oclif's own `engines` with semver: ~50
  // modules, ~20-35 ms of every command's start-up. overlab's package.json says which Node
  // it needs (npm checks it on install); the variable is oclif's own switch for that check, set
  // only while oclif loads so that no program overlab starts inherits it.
  const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING;
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
  const { execute, settings } = await import('@oclif/core');
  if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
  else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning;
  // overlab always runs its compiled dist/. Left on, oclif looks for TypeScript sources whenever
  // NODE_ENV is test or development, and an installed overlab (no tsconfig, no typescript) then
  // warns "Could not find typescript" on every command.
  settings.enableAutoTranspile = false;
  await execute({ dir: import.meta.url, args });
}
