// A JSON Schema validator precompiled at build time (Ajv standalone code in a .cjs file beside the
// module that loads it): no schema compilation and no Ajv compiler at start-up. Run from the
// sources (unit tests) there is no such file, and the validator is compiled from the same schema
// with the same options (schema-build.ts) on first use.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject } from 'ajv';

export type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** The precompiled validator at `precompiled` (an absolute path), or `compile()`'s. */
export async function loadValidator(precompiled: string, compile: () => Promise<Validate>): Promise<Validate> {
  // require, not import: ESM would first scan the whole CommonJS module for its export names.
  if (existsSync(precompiled)) return (createRequire(import.meta.url)(precompiled) as { default: Validate }).default;
  return compile();
}

/** Ajv's errors for `data` (empty when it fits the schema). */
export function errorsOf(validate: Validate, data: unknown): ErrorObject[] {
  return validate(data) ? [] : [...(validate.errors ?? [])];
}
