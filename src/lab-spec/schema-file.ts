// The lab JSON Schema as shipped (schema/lab.schema.json), read from disk once: only error
// messages need it (schema-issues.ts explains a validation error by the schema's own words).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of schema/lab.schema.json (src/<layer>/ and dist/<layer>/ are both two levels below the package root). */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/lab.schema.json', import.meta.url));

let schemaJson: Record<string, unknown> | undefined;

export function labSchema(): Record<string, unknown> {
  schemaJson ??= JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  return schemaJson;
}
