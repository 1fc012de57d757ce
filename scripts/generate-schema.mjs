// Build step: write schema/lab.schema.json and dist/spec/lab-validator.cjs (the Ajv validator
// precompiled to code, so `overlab validate` neither loads Ajv's compiler nor compiles at start-up).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schemaFileText, validatorModuleText } from '../dist/spec/schema-build.js';

const root = fileURLToPath(new URL('..', import.meta.url));
writeFileSync(`${root}schema/lab.schema.json`, schemaFileText());
const code = validatorModuleText();
writeFileSync(`${root}dist/spec/lab-validator.cjs`, code);
console.error(`schema/lab.schema.json and dist/spec/lab-validator.cjs (${Math.round(code.length / 1024)} KiB) generated`);
