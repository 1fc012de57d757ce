// What an exercise is once loaded: the lab it builds (a checked LabSpec, named ex<id>, with the
// exercise's faults and checks), the words the student reads, and the reference solution as argv.
import type { LabSpec } from '../lab-spec/lab-spec.js';

export type Level = 'beginner' | 'intermediate' | 'advanced';

/** One solution command: argv on a lab target; words may hold placeholders (placeholders.ts). */
export interface SolutionStep {
  /** host, host/pod, external node or etcd. */
  on: string;
  argv: string[];
}

export interface Exercise {
  id: number;
  title: string;
  level: Level;
  story?: string;
  /** The exercise file (absolute). */
  file: string;
  /** The collection it belongs to: "builtin" (the package's workshop/) or the directory's path. */
  collection: string;
  /** The lab `workshop start` builds: name ex<id>, the exercise's checks, the lab's and the exercise's faults. */
  lab: LabSpec;
  task: string;
  commands: string[];
  hints: string[];
  solution: SolutionStep[];
  explanation?: string;
}

export function exerciseLabName(id: number): string {
  return `ex${id}`;
}
