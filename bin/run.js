#!/usr/bin/env node
// `overlab validate <spec>` is answered without loading oclif (src/cli/validate-fast.ts); every
// other command, and every other form of validate, goes through oclif.
const args = process.argv.slice(2);
const answered = args[0] === 'validate' && (await (await import('../dist/cli/validate-fast.js')).validateFast(args.slice(1)));
if (!answered) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
