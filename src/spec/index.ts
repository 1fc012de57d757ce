// The lab spec: YAML → checked, typed LabSpec.

export * from './model.js';
export { SpecError, formatIssue } from './errors.js';
export type { SpecIssue } from './errors.js';
export { parseLabSpec, loadLabSpec } from './load.js';
export { SCHEMA_FILE, labSchema } from './schema-validate.js';
export { parseRef, formatRef, isValidIfaceName } from './refs.js';
export type { ParsedRef } from './refs.js';
export { defaultPort } from './lab-model.js';
