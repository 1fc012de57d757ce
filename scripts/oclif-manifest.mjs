// Write oclif.manifest.json at build time, so the CLI does not import every command at start-up
// to learn their flags (oclif reads the manifest when its version matches the package's).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = fileURLToPath(new URL('..', import.meta.url));
const config = await Config.load(root);
const plugin = config.plugins.get(config.pjson.name);
writeFileSync(`${root}oclif.manifest.json`, JSON.stringify(plugin.manifest, null, 2) + '\n');
console.error(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`);
