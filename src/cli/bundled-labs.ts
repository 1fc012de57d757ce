// The labs that ship inside the package (labs/*.yaml): a spec argument that is not a file but the
// name of one of them finds it from any directory, so an installed `overlab up flannel-vxlan`
// works outside the clone. A file of that name in the current directory still wins.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inputError } from '../base/errors.js';
import { closest } from '../lab-spec/suggest.js';
import { debugLog } from '../base/debug-log.js';

/** Beside dist/ in the package (also from the one-file validate bundle, which sits one level deep too). */
export const BUNDLED_LABS_DIR = fileURLToPath(new URL('../../labs/', import.meta.url));

/** The exercises (`overlab workshop start <id|file name>`), beside the labs. */
export const BUNDLED_EXERCISES_DIR = fileURLToPath(new URL('../../workshop/', import.meta.url));

/** A bundled lab's name: its file name without .yaml (also its `name:`). */
const LAB_FILE_NAME = /^[a-z0-9][a-z0-9-]*$/;

export interface BundledLab {
  name: string;
  /** The spec's `description:`, its one-line story. */
  description: string;
  file: string;
}

export function bundledLabNames(dir = BUNDLED_LABS_DIR): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    debugLog('cli', `list the bundled labs in ${dir}`, error);
    return [];
  }
  return entries
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .filter((n) => LAB_FILE_NAME.test(n))
    .sort();
}

/** The bundled exercises by file name without .yaml ("01-veth-down"), which `workshop start` takes. */
export function bundledExerciseNames(dir = BUNDLED_EXERCISES_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
  } catch (error) {
    debugLog('cli', `list the bundled exercises in ${dir}`, error);
    return [];
  }
}

/** The bundled spec file of this name, when there is one. */
export function bundledLabFile(name: string, dir = BUNDLED_LABS_DIR): string | undefined {
  if (!LAB_FILE_NAME.test(name)) return undefined;
  const file = `${dir}${name}.yaml`;
  return isFile(file) ? file : undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The spec file a `<spec>` argument means: the file itself when one is there (whatever it is:
 * reading it says what is wrong with it), else the bundled lab of that name. An argument that is
 * neither is bad input that says how to list the bundled labs — not a spec error with a position.
 */
export function specFileFor(arg: string, dir = BUNDLED_LABS_DIR): string {
  if (exists(arg)) return arg;
  const bundled = bundledLabFile(arg, dir);
  if (bundled) return bundled;
  const names = bundledLabNames(dir);
  const near = closest(arg.replace(/\.ya?ml$/i, '').replace(/^.*\//, ''), names);
  const listed = `\`overlab labs\` lists them: ${names.join(', ')}`;
  throw inputError(
    `${arg}: no such spec file, and no bundled lab has that name`,
    near ? `did you mean the bundled lab ${near}? (${listed})` : names.length ? `give a spec file's path, or the name of a bundled lab (${listed})` : "give a spec file's path",
  );
}

/** Every bundled lab with its one-line story (read from the YAML, not validated: `validate` does that). */
export async function bundledLabs(dir = BUNDLED_LABS_DIR): Promise<BundledLab[]> {
  // The YAML parser only here: completion and the fast validate path import this module too.
  const { parse } = await import('yaml');
  return bundledLabNames(dir).map((name) => {
    const file = `${dir}${name}.yaml`;
    let description = '';
    try {
      const doc = parse(readFileSync(file, 'utf8')) as { description?: unknown } | null;
      if (typeof doc?.description === 'string') description = doc.description.trim();
    } catch (error) {
      // a bundled lab that does not parse still shows; `overlab validate <name>` says why
      debugLog('cli', `read the description of ${file}`, error);
    }
    return { name, description, file };
  });
}
