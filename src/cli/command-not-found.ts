// oclif's command_not_found hook: an unknown command is bad input (exit 2) that names the
// closest commands, as a JSON error envelope under --json; `overlab help <command>` is help.
import type { Hook } from '@oclif/core';
import { inputError } from '../base/errors.js';
import { commandWords, suggestCommands } from './command-suggest.js';
import { writeError } from './error-output.js';

const hook: Hook<'command_not_found'> = async function ({ id, argv = [], config }) {
  const words = id.split(':');
  if (words[0] === 'help') {
    const { loadHelpClass } = await import('@oclif/core');
    const Help = await loadHelpClass(config);
    await new Help(config).showHelp([...words.slice(1), ...argv]);
    return;
  }
  const visible = config.commands.filter((c) => !c.hidden).map((c) => c.id.replace(/:/g, ' '));
  const asked = commandWords(words, visible);
  const suggestions = suggestCommands(words, visible);
  const bin = config.bin;
  const hint = suggestions.length
    ? `did you mean ${suggestions.map((s) => `\`${bin} ${s}\``).join(' or ')}? (\`${bin} --help\` lists every command)`
    : `\`${bin} --help\` lists every command`;
  const beforeDashes = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  process.exitCode = writeError(inputError(`"${asked.join(' ')}" is not an ${bin} command`, hint), { json: beforeDashes.includes('--json'), argv, version: config.version });
};

export default hook;
