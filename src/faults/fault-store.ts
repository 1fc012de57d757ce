// The lab's record of its active faults: /etc/overlab/faults.json in the lab's switch container,
// beside the lab's model (src/lab/lab-files.ts) and written the same way (the engine's archive
// API, no process). So `fault ls` and `fault clear` work from any process, without the spec, and
// the record goes with the lab: `down` removes it, a rebuilt lab starts without it.
import type { CallOptions, ContainerRuntime } from '../runtime/runtime.js';
import { environmentError } from '../base/errors.js';
import { isEngineFailure } from '../runtime/engine-errors.js';
import { tarEntries } from '../runtime/tar.js';
import type { KernelChange } from './kernel-change.js';
import type { Namespace } from './namespace.js';

export const LAB_FAULTS_DIR = '/etc/overlab';
export const LAB_FAULTS_FILE = `${LAB_FAULTS_DIR}/faults.json`;

export type FaultSource = 'cli' | 'spec' | 'exercise';

export interface FaultRecord {
  id: number;
  kind: string;
  /** The typed spec, as the kind resolved it. */
  spec: unknown;
  /** One line: what is broken ("host1:eth0 is down"). */
  summary: string;
  source: FaultSource;
  description?: string;
  appliedAt: string;
  /** The overlab command that applied it. */
  by: string;
  /** Where it changed kernel state. */
  namespaces: Namespace[];
  /** Exactly what changed there, as the kernel's tools showed it before and after. */
  changes: KernelChange[];
  /** What the kind's own undo needs (a process's command line, a device's details). */
  undo?: unknown;
}

export interface FaultBook {
  version: 1;
  /** The next id: ids are never reused within a lab. */
  next: number;
  faults: FaultRecord[];
}

export function emptyBook(): FaultBook {
  return { version: 1, next: 1, faults: [] };
}

function isBook(value: unknown): value is FaultBook {
  const v = value as FaultBook | null;
  return v !== null && typeof v === 'object' && v.version === 1 && typeof v.next === 'number' && Array.isArray(v.faults);
}

export async function readFaultBook(runtime: ContainerRuntime, switchContainer: string, options: CallOptions = {}): Promise<FaultBook> {
  let raw: Buffer;
  try {
    raw = await runtime.readFile(switchContainer, LAB_FAULTS_FILE, options);
  } catch (error) {
    if (isEngineFailure(error, 'not-found')) return emptyBook();
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!isBook(parsed)) throw environmentError(`the lab's fault record (${LAB_FAULTS_FILE} in ${switchContainer}) is damaged`, 'rebuild the lab (`overlab up <spec> --recreate`) to start clean');
  return parsed;
}

export async function writeFaultBook(runtime: ContainerRuntime, switchContainer: string, book: FaultBook, options: CallOptions = {}): Promise<void> {
  const dir = LAB_FAULTS_DIR.slice(1);
  const name = LAB_FAULTS_FILE.slice(LAB_FAULTS_DIR.length + 1);
  const tar = tarEntries([{ name: `${dir}/`, mode: 0o755 }, { name: `${dir}/${name}`, content: Buffer.from(JSON.stringify(book) + '\n'), mode: 0o644 }]);
  await runtime.putTar(switchContainer, '/', tar, options);
}
