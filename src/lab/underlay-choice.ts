// Two labs built at the same time (two `up`s, a workshop beside `run`) must not choose the same
// underlay subnet. Another process sees a lab's underlay only once the lab's switch exists (it
// carries the label), so the choice is held — an engine-wide lock, like a lab's — from reading
// what is taken until this lab's switch has started (or the build has ended).
import type { ContainerRuntime } from '../runtime/runtime.js';
import { acquireLabLock, engineLockKey } from './lab-lock.js';
import { takenSubnets } from './taken-subnets.js';
import { findLab } from './engine-labs.js';

/** The lock's name: never a lab's (lab names start with a letter). */
const UNDERLAY_CHOICE_LOCK = '.underlay-choice';
/** Others wait for one switch to start, which takes seconds even on a busy machine. */
const UNDERLAY_CHOICE_WAIT_MS = 120_000;

export interface UnderlayChoice {
  /** The subnets in use (Docker networks, other labs' underlays, the machine's routes). */
  taken: string[];
  /** The underlay the lab has now, when it is up (kept if still free: see ResolveOptions). */
  current?: string;
  /** Call once the lab's switch has started, and again (harmless) when the build is over. */
  release: () => Promise<void>;
}

export async function chooseUnderlay(runtime: ContainerRuntime, exceptLab: string, signal: AbortSignal): Promise<UnderlayChoice> {
  const lock = await acquireLabLock({ engine: await engineLockKey(runtime, signal), lab: UNDERLAY_CHOICE_LOCK, signal, waitMs: UNDERLAY_CHOICE_WAIT_MS });
  try {
    const [taken, existing] = await Promise.all([takenSubnets(runtime, exceptLab, signal), findLab(runtime, exceptLab)]);
    return { taken, ...(existing?.underlay ? { current: existing.underlay } : {}), release: () => lock.release() };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** Run `build` holding the choice; it gets the choice (whose release is the hook to call once
 * its switch has started). */
export async function withUnderlayChoice<T>(
  runtime: ContainerRuntime,
  exceptLab: string,
  signal: AbortSignal,
  build: (choice: UnderlayChoice) => Promise<T>,
): Promise<T> {
  const choice = await chooseUnderlay(runtime, exceptLab, signal);
  try {
    return await build(choice);
  } finally {
    await choice.release();
  }
}
