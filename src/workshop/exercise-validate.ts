// JSON Schema validation of an exercise file's data with the validator precompiled at build time
// (dist/workshop/exercise-validator.cjs) from src/workshop/exercise-schema.ts; from the sources
// (unit tests) it is compiled from the same schema with the same Ajv options.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { errorsOf, loadValidator, type Validate } from '../lab-spec/compiled-validator.js';

export const EXERCISE_SCHEMA_FILE = fileURLToPath(new URL('../../schema/exercise.schema.json', import.meta.url));

let validator: Validate | undefined;

async function compileFromSources(): Promise<Validate> {
  // Module names in variables: bundlers leave TypeBox and Ajv's compiler (the fallback's) out.
  const schemaModule = './exercise-schema.js';
  const buildModule = '../lab-spec/schema-build.js';
  const [{ exerciseJsonSchema }, { compileValidator }, { LAB_KINDS }] = await Promise.all([
    import(schemaModule) as Promise<typeof import('./exercise-schema.js')>,
    import(buildModule) as Promise<typeof import('../lab-spec/schema-build.js')>,
    import('../lab-loader/lab-kinds.js'),
  ]);
  return compileValidator(exerciseJsonSchema(LAB_KINDS));
}

export async function exerciseSchemaErrors(data: unknown): Promise<ErrorObject[]> {
  validator ??= await loadValidator(fileURLToPath(new URL('./exercise-validator.cjs', import.meta.url)), compileFromSources);
  return errorsOf(validator, data);
}

let schemaJson: Record<string, unknown> | undefined;

/** The shipped exercise schema (for "allowed keys" in messages). */
export function exerciseSchema(): Record<string, unknown> {
  schemaJson ??= JSON.parse(readFileSync(EXERCISE_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  return schemaJson;
}
