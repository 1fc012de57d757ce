// Build step: the lab and exercise schemas composed with every check and fault kind (the schema
// layer never imports the kinds: src/lab-loader/lab-kinds.ts puts them together), written as
// schema/lab.schema.json and schema/exercise.schema.json, and their Ajv validators precompiled to
// code (dist/lab-loader/lab-validator.cjs, dist/workshop/exercise-validator.cjs), so `overlab
// validate` neither loads Ajv's compiler nor compiles at start-up.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LAB_KINDS } from '../dist/lab-loader/lab-kinds.js';
import { schemaFileText, validatorModuleText } from '../dist/lab-loader/lab-schema-build.js';
import { exerciseSchemaFileText, exerciseValidatorModuleText } from '../dist/workshop/exercise-schema.js';

const root = fileURLToPath(new URL('..', import.meta.url));
writeFileSync(`${root}schema/lab.schema.json`, schemaFileText());
const code = validatorModuleText();
writeFileSync(`${root}dist/lab-loader/lab-validator.cjs`, code);
console.error(`schema/lab.schema.json and dist/lab-loader/lab-validator.cjs (${Math.round(code.length / 1024)} KiB) generated`);
writeFileSync(`${root}schema/exercise.schema.json`, exerciseSchemaFileText(LAB_KINDS));
const exerciseCode = exerciseValidatorModuleText(LAB_KINDS);
mkdirSync(`${root}dist/workshop`, { recursive: true });
writeFileSync(`${root}dist/workshop/exercise-validator.cjs`, exerciseCode);
console.error(`schema/exercise.schema.json and dist/workshop/exercise-validator.cjs (${Math.round(exerciseCode.length / 1024)} KiB) generated`);
