// The shape of a workshop exercise file (schema/exercise.schema.json, generated from this file by
// scripts/generate-schema.mjs with the validator precompiled from it). An exercise is a lab — a
// reference to a spec file, or a lab inline — plus the faults that break it, the task, the checks
// that define "solved", hints and a reference solution. Its schema is the lab schema
// (src/lab-spec/lab-schema.ts) extended: same definitions, one document. TypeBox is build-time
// only, as there: runtime code imports only types and constants that need no schema.
import type { LabKinds } from '../lab-spec/keyed-kinds.js';
import { LabSchema, kit, plain, schemaDefinitions, type RawCheck, type RawFault } from '../lab-spec/lab-schema.js';
import { schemaJsonText, standaloneValidatorText } from '../lab-spec/schema-build.js';

const { T, ref, stringEnum } = kit;

export const EXERCISE_SCHEMA_ID = 'https://github.com/overlab/overlab/schema/exercise.schema.json';
export const EXERCISE_LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
/** A solution line in `overlab exec` form: the words after `--` are the argv (no shell). */
export const EXEC_LINE_PATTERN = '^overlab exec <lab> [a-z][a-z0-9-]*(?:/[a-z][a-z0-9-]*)? -- \\S.*$';
/** Words of a solution command: no control characters; placeholders like <ip:host2> allowed. */
const ARGV_WORD = '^[^\\u0000-\\u001f\\u007f]{1,200}$';

const exerciseText = (max: number, what: string) => T.String({ minLength: 1, maxLength: max, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$', description: what });

const solutionStep = T.Union(
  [
    T.Object(
      {
        on: ref('Where the command runs: a host, host/pod or external node (etcd too).'),
        run: T.Array(T.String({ pattern: ARGV_WORD }), {
          minItems: 1,
          maxItems: 64,
          description: 'The command as an argv list — never a shell string. Words may hold placeholders: <ip:REF>, <mac:REF>, <subnet:HOST>, <gateway:HOST>, <lab>.',
        }),
      },
      { additionalProperties: false, description: 'Run one command on a lab node.' },
    ),
    T.String({ pattern: EXEC_LINE_PATTERN, maxLength: 400, description: 'An `overlab exec <lab> <target> -- <argv…>` line: words split at spaces, no quoting, no shell.' }),
  ],
  { description: 'One step of the reference solution.' },
);

const exerciseLab = T.Unsafe<Record<string, unknown>>({
  ...(plain(LabSchema) as Record<string, unknown>),
  required: (LabSchema.required ?? []).filter((k) => k !== 'name'),
  description: 'The lab, inline (its name is the exercise\'s: ex<id>).',
});

export const ExerciseSchema = T.Object(
  {
    id: T.Integer({ minimum: 1, maximum: 999, description: 'The exercise\'s number: `overlab workshop start <id>`. Its lab is named ex<id>.' }),
    title: exerciseText(80, 'One line: what is broken, without giving it away.'),
    level: stringEnum(EXERCISE_LEVELS, { description: 'beginner, intermediate or advanced.' }),
    story: T.Optional(T.String({ pattern: '^[a-z][a-z0-9-]*$', maxLength: 40, description: 'The step of the story it belongs to (a lab of labs/, e.g. host-gw).' })),
    lab: T.Union([T.String({ pattern: '^[A-Za-z0-9_./-]+\\.ya?ml$', maxLength: 200, description: 'A lab spec file, relative to the exercise file (e.g. ../labs/host-gw.yaml).' }), exerciseLab], {
      description: 'The lab: a spec file (relative to this file) or a lab inline.',
    }),
    faults: T.Optional(
      T.Array(T.Unsafe<RawFault>({ $ref: '#/definitions/fault' }), { minItems: 1, maxItems: 20, description: 'What breaks the lab, applied by `workshop start` and `reset` after wiring; hidden from `fault ls`.' }),
    ),
    task: exerciseText(4000, 'What the student reads: the symptom and the goal, not the cause.'),
    commands: T.Optional(
      T.Array(exerciseText(200, 'A command line; <lab> stands for the exercise\'s lab.'), { maxItems: 12, description: 'Commands worth knowing for this exercise, shown with the task.' }),
    ),
    checks: T.Array(T.Unsafe<RawCheck>({ $ref: '#/definitions/check' }), {
      minItems: 1,
      maxItems: 50,
      description: 'What "solved" means: every check passes. Pin the path (captures on the right interface, kernel state), so a way around the fault is not taken for a fix.',
    }),
    hints: T.Array(exerciseText(1000, 'One hint: it leads, it does not give the answer.'), { minItems: 1, maxItems: 5, description: 'Hints in order, one per `overlab workshop hint`.' }),
    solution: T.Array(solutionStep, { minItems: 1, maxItems: 30, description: 'The reference solution: commands `overlab workshop solve` runs and `workshop solution` shows.' }),
    explanation: T.Optional(exerciseText(4000, 'Why the solution works, shown with it.')),
  },
  {
    additionalProperties: false,
    description: 'A workshop exercise: a lab broken on purpose, the task, the checks that say it is fixed, hints and a reference solution.',
  },
);

/** The exercise JSON Schema as shipped in schema/exercise.schema.json: the lab's definitions (with
 * these kinds) plus the exercise. */
export function exerciseJsonSchema(kinds: LabKinds): Record<string, unknown> {
  const { $schema: _s, $id: _i, title: _t, ...body } = plain(ExerciseSchema) as Record<string, unknown>;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: EXERCISE_SCHEMA_ID,
    title: 'overlab workshop exercise',
    ...body,
    definitions: schemaDefinitions(kinds),
  };
}

/** schema/exercise.schema.json's text, with these kinds (scripts/generate-schema.mjs writes it). */
export function exerciseSchemaFileText(kinds: LabKinds): string {
  return schemaJsonText(exerciseJsonSchema(kinds));
}

/** The exercise validator, precompiled like the lab's (src/workshop/exercise-validate.ts loads it). */
export function exerciseValidatorModuleText(kinds: LabKinds): string {
  return standaloneValidatorText(exerciseJsonSchema(kinds), 'src/workshop/exercise-schema.ts');
}
