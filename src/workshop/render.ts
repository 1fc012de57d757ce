// What the workshop commands print for a person: the task, a check's verdict, hints, the solution.
import type { Palette } from '../text/colour.js';
import type { Exercise } from './exercise.js';

export function indent(text: string, by = '  '): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

export function heading(exercise: Exercise, colours: Palette): string {
  return `${colours.bold(`Exercise ${exercise.id}: ${exercise.title}`)} ${colours.dim(`(${exercise.level}${exercise.story ? `, ${exercise.story}` : ''})`)}`;
}

export function commandsWorthKnowing(exercise: Exercise, lab: string): string[] {
  return exercise.commands.map((c) => c.replace(/<lab>/g, lab));
}

export function renderTask(exercise: Exercise, lab: string, colours: Palette, note?: string): string {
  const commands = commandsWorthKnowing(exercise, lab);
  return [
    heading(exercise, colours),
    ...(note ? [colours.dim(note)] : []),
    '',
    indent(exercise.task),
    ...(commands.length ? ['', colours.bold('Commands worth knowing'), ...commands.map((c) => `  ${c}`)] : []),
    '',
    colours.dim(`done? overlab workshop check   ·   stuck? overlab workshop hint   ·   start over: overlab workshop reset   ·   lab: ${lab}`),
  ].join('\n');
}
