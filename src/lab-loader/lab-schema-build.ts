// Build-time: the lab schema with every kind (src/lab-spec/lab-schema.ts + lab-kinds.ts) as the
// shipped schema/lab.schema.json and its precompiled validator (dist/lab-loader/lab-validator.cjs).
// Run by scripts/generate-schema.mjs; a unit test asserts the committed file equals schemaFileText().
import { labJsonSchema } from '../lab-spec/lab-schema.js';
import { schemaJsonText, standaloneValidatorText } from '../lab-spec/schema-build.js';
import { LAB_KINDS } from './lab-kinds.js';

export function schemaFileText(): string {
  return schemaJsonText(labJsonSchema(LAB_KINDS));
}

export function validatorModuleText(): string {
  return standaloneValidatorText(labJsonSchema(LAB_KINDS), 'src/lab-spec/lab-schema.ts and the kinds of src/lab-loader/lab-kinds.ts');
}
