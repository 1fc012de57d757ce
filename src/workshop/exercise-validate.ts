// JSON Schema validation of an exercise file's data with the validator precompiled at build time
// (dist/workshop/exercise-validator.cjs) from src/spec/lab-schema.ts; from the sources (unit
// tests) it is compiled from the same schema with the same Ajv options.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';

export const EXERCISE_SCHEMA_FILE = fileURLToPath(new URL('../../schema/exercise.schema.json', import.meta.url));

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

let validator: Validate | undefined;

async function loadValidator(): Promise<Validate> {
  const precompiled = fileURLToPath(new URL('./exercise-validator.cjs', import.meta.url));
  if (existsSync(precompiled)) return (createRequire(import.meta.url)(precompiled) as { default: Validate }).default;
  const source = '../spec/schema-build.js';
  const [{ Ajv }, build, schema] = await Promise.all([
    import('ajv'),
    import(source) as Promise<typeof import('../spec/schema-build.js')>,
    import('../spec/lab-schema.js'),
  ]);
  return new Ajv({ ...build.AJV_OPTIONS }).compile(schema.exerciseJsonSchema()) as Validate;
}

export async function exerciseSchemaErrors(data: unknown): Promise<ErrorObject[]> {
  validator ??= await loadValidator();
  return validator(data) ? [] : [...(validator.errors ?? [])];
}

let schemaJson: Record<string, unknown> | undefined;

/** The shipped exercise schema (for "allowed keys" in messages). */
export function exerciseSchema(): Record<string, unknown> {
  schemaJson ??= JSON.parse(readFileSync(EXERCISE_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  return schemaJson;
}
