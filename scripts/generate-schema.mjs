// Build step: write schema/lab.schema.json and dist/spec/lab-validator.cjs (the Ajv validator
// precompiled to code, so `overlab validate` neither loads Ajv's compiler nor compiles at start-up).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exerciseSchemaFileText, exerciseValidatorModuleText, schemaFileText, validatorModuleText } from '../dist/spec/schema-build.js';

const root = fileURLToPath(new URL('..', import.meta.url));
writeFileSync(`${root}schema/lab.schema.json`, schemaFileText());
const code = validatorModuleText();
writeFileSync(`${root}dist/spec/lab-validator.cjs`, code);
console.error(`schema/lab.schema.json and dist/spec/lab-validator.cjs (${Math.round(code.length / 1024)} KiB) generated`);
writeFileSync(`${root}schema/exercise.schema.json`, exerciseSchemaFileText());
const exerciseCode = exerciseValidatorModuleText();
mkdirSync(`${root}dist/workshop`, { recursive: true });
writeFileSync(`${root}dist/workshop/exercise-validator.cjs`, exerciseCode);
console.error(`schema/exercise.schema.json and dist/workshop/exercise-validator.cjs (${Math.round(exerciseCode.length / 1024)} KiB) generated`);
