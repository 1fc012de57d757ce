// JSON Schema validation of a spec's data with the validator precompiled at build time
// (dist/spec/lab-validator.cjs, Ajv standalone code): no schema compilation, and no Ajv compiler,
// at start-up. Run from the sources (unit tests), the validator is compiled from
// src/spec/lab-schema.ts instead — the same schema, the same Ajv options (src/spec/schema-build.ts).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';

/** Absolute path of schema/lab.schema.json (src/spec/ and dist/spec/ are both two levels below the package root). */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/lab.schema.json', import.meta.url));

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

async function loadValidator(): Promise<Validate> {
  const precompiled = fileURLToPath(new URL('./lab-validator.cjs', import.meta.url));
  // require, not import: ESM would first scan the whole CommonJS module for its export names.
  if (existsSync(precompiled)) return (createRequire(import.meta.url)(precompiled) as { default: Validate }).default;
  const source = './schema-build.js';
  const [{ Ajv }, build, schema] = await Promise.all([
    import('ajv'),
    import(source) as Promise<typeof import('./schema-build.js')>,
    import('./lab-schema.js'),
  ]);
  return new Ajv({ ...build.AJV_OPTIONS }).compile(schema.labJsonSchema()) as Validate;
}

const validator = await loadValidator();

/** Ajv's errors for `data` (empty when it fits the schema). */
export function schemaErrors(data: unknown): ErrorObject[] {
  return validator(data) ? [] : [...(validator.errors ?? [])];
}

let schemaJson: Record<string, unknown> | undefined;

/** The lab JSON Schema as shipped, read from disk once (only error messages need it). */
export function labSchema(): Record<string, unknown> {
  schemaJson ??= JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  return schemaJson;
}
