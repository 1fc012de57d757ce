// `<lab|spec>` arguments: a path to a YAML spec, or the name of a lab that is up.
import { existsSync } from 'node:fs';
import { loadLabSpec } from '../spec/load.js';
import type { LabSpec } from '../spec/model.js';

export type LabArgument = { kind: 'spec'; path: string; spec: LabSpec } | { kind: 'name'; name: string };

export function looksLikeSpecPath(arg: string): boolean {
  return /\.ya?ml$/i.test(arg) || arg.includes('/') || existsSync(arg);
}

export async function readLabArgument(arg: string): Promise<LabArgument> {
  if (looksLikeSpecPath(arg)) return { kind: 'spec', path: arg, spec: await loadLabSpec(arg) };
  return { kind: 'name', name: arg };
}

export function labNameOf(arg: LabArgument): string {
  return arg.kind === 'spec' ? arg.spec.name : arg.name;
}
