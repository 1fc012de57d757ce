// Write oclif.manifest.json at build time, so the CLI does not import every command at start-up
// to learn their flags (oclif reads the manifest when its version matches the package's).
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = fileURLToPath(new URL('..', import.meta.url));
// oclif would read a previous manifest instead of the commands: start from the commands.
rmSync(`${root}oclif.manifest.json`, { force: true });
const config = await Config.load(root);
const plugin = config.plugins.get(config.pjson.name);
// overlab's own static: what each argument holds, for shell completion (src/cli/completion.ts).
for (const id of Object.keys(plugin.manifest.commands)) {
  const command = await config.findCommand(id)?.load();
  if (command?.completion) plugin.manifest.commands[id].completion = command.completion;
}
writeFileSync(`${root}oclif.manifest.json`, JSON.stringify(plugin.manifest, null, 2) + '\n');
console.error(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`);
