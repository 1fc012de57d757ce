// JSON Schema validation of a spec's data with the validator precompiled at build time
// (dist/lab-loader/lab-validator.cjs); run from the sources (unit tests), it is compiled from the
// lab schema with every kind instead — the same schema, the same Ajv options.
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { errorsOf, loadValidator } from '../lab-spec/compiled-validator.js';

const validator = await loadValidator(fileURLToPath(new URL('./lab-validator.cjs', import.meta.url)), async () => {
  // A module name in a variable: bundlers leave Ajv's compiler (the fallback's) out of the CLI.
  const source = '../lab-spec/schema-build.js';
  const [{ compileValidator }, { labJsonSchema }, { LAB_KINDS }] = await Promise.all([
    import(source) as Promise<typeof import('../lab-spec/schema-build.js')>,
    import('../lab-spec/lab-schema.js'),
    import('./lab-kinds.js'),
  ]);
  return compileValidator(labJsonSchema(LAB_KINDS));
});

/** Ajv's errors for `data` (empty when it fits the schema). */
export function schemaErrors(data: unknown): ErrorObject[] {
  return errorsOf(validator, data);
}
