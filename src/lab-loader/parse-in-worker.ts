// Parsing a large spec in a worker thread, so the main thread keeps handling signals: Ctrl-C or
// SIGTERM (through `signal`) ends the worker and the command at once, and a parse that takes
// longer than PARSE_DEADLINE_MS is refused instead of hanging.
import { Worker } from 'node:worker_threads';
import { interruptedError } from '../base/errors.js';
import { SpecError } from '../lab-spec/spec-error.js';
import type { SpecIssue } from '../lab-spec/spec-error.js';
import type { LabSpec } from '../lab-spec/lab-spec.js';

export const PARSE_DEADLINE_MS = 20_000;
/** Heap for the worker: a 1 MiB document needs a few hundred MiB at most; more means something is wrong. */
const WORKER_HEAP_MB = 768;

type Reply = { lab: LabSpec } | { issues: SpecIssue[] } | { error: string };

export function parseInWorker(text: string, displayFile: string, labFile: string, signal?: AbortSignal): Promise<LabSpec> {
  if (signal?.aborted) return Promise.reject(interruptedError());
  return new Promise<LabSpec>((resolve, reject) => {
    const worker = new Worker(new URL('./parse-worker.js', import.meta.url), {
      workerData: { text, displayFile, labFile },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      f();
    };
    const whole = (message: string): SpecError => new SpecError([{ file: displayFile, line: 1, col: 1, path: '', message }]);
    const onAbort = () => finish(() => reject(interruptedError()));
    const timer = setTimeout(
      () => finish(() => reject(whole(`parsing the spec took more than ${PARSE_DEADLINE_MS / 1000} s; a lab spec is a few KiB.`))),
      PARSE_DEADLINE_MS,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: Reply) =>
      finish(() => {
        if ('lab' in reply) resolve(reply.lab);
        else if ('issues' in reply) reject(new SpecError(reply.issues));
        else reject(new Error(reply.error));
      }),
    );
    worker.once('error', (e) =>
      finish(() => reject((e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? whole('the spec needs more memory to parse than any lab spec should.') : e)),
    );
    worker.once('exit', (code) => finish(() => reject(new Error(`the spec parser stopped (exit ${code}) without an answer`))));
  });
}
