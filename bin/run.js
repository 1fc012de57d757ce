#!/usr/bin/env node
// A signal that arrives before a command has started (while Node and oclif load) ends the
// process at once, with the conventional code and a word: nothing has been changed yet. Each
// command replaces these handlers with its own, which roll back what it made.
const early = (code, what) => () => {
  process.stderr.write(`\n${what} before overlab changed anything\n`);
  process.exit(code);
};
process.on('SIGINT', early(130, 'interrupted'));
process.on('SIGTERM', early(143, 'terminated (SIGTERM)'));

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
