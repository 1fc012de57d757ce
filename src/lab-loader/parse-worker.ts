// Worker thread entry (see parse-in-worker.ts): parse and check one spec, post the result.
import { parentPort, workerData } from 'node:worker_threads';
import { SpecError } from '../lab-spec/spec-error.js';
import { parseSpecText } from './load.js';

const { text, displayFile, labFile } = workerData as { text: string; displayFile: string; labFile: string };
try {
  parentPort!.postMessage({ lab: await parseSpecText(text, displayFile, labFile) });
} catch (e) {
  if (e instanceof SpecError) parentPort!.postMessage({ issues: e.issues });
  else parentPort!.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
