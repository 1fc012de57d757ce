// Helpers for integration tests: run the built CLI, read Docker state by label, and snapshot the
// machine's own network state (which overlab must never change).
import { execa } from 'execa';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, onTestFinished } from 'vitest';
import { getCurrentTest } from 'vitest/suite';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${ROOT}bin/run.js`;

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const runningChildren = new Set<{ kill(signal?: NodeJS.Signals): unknown }>();

/** A CLI run started inside a test ends with the test: vitest does not stop a timed-out test's
 * work, so its child would run on, loading the engine during the next tests. SIGTERM is overlab's
 * own Ctrl-C path (it takes down what it was making). Vitest cannot tell which of several
 * concurrent tests is running (its global onTestFinished goes to the last one started, which
 * once ended a 6-minute workshop selftest when a shorter test beside it finished), so a run in a
 * concurrent test, or in a hook, ends with its file instead. */
export function endsWithTest<T extends { kill(signal?: NodeJS.Signals): unknown }>(child: T): T {
  runningChildren.add(child);
  if (typeof (child as Partial<PromiseLike<unknown>>).then === 'function') {
    void Promise.resolve(child as unknown as PromiseLike<unknown>).then(
      () => runningChildren.delete(child),
      () => runningChildren.delete(child),
    );
  }
  const test = getCurrentTest();
  if (test && !test.concurrent) onTestFinished(() => void child.kill('SIGTERM'));
  return child;
}

export async function overlab(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await endsWithTest(execa('node', [CLI, ...args], { cwd: ROOT, reject: false, env: { NO_COLOR: '1', ...env } }));
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export async function overlabJson<T>(args: string[]): Promise<{ exitCode: number; body: { status: number; result: T; message?: string } }> {
  const r = await overlab([...args, '--json']);
  try {
    return { exitCode: r.exitCode, body: JSON.parse(r.stdout) };
  } catch {
    throw new Error(`overlab ${args.join(' ')} printed no JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** Containers carrying every one of `labels` (name=value or name). */
export async function containersWithLabel(...labels: string[]): Promise<string[]> {
  const r = await execa('docker', ['ps', '-a', ...labels.flatMap((l) => ['--filter', `label=${l}`]), '--format', '{{.Names}}']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** Volumes carrying these labels (a lab's share). */
export async function volumesWithLabel(...labels: string[]): Promise<string[]> {
  const r = await execa('docker', ['volume', 'ls', ...labels.flatMap((l) => ['--filter', `label=${l}`]), '--format', '{{.Name}}']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

export async function networksWithLabel(label: string): Promise<string[]> {
  const r = await execa('docker', ['network', 'ls', '--filter', `label=${label}`, '--format', '{{.Name}}']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** The machine's links, routes and firewall rules, without counters that change by themselves. */
export async function machineNetworkState(): Promise<{ links: string[]; routes: string; rules: string }> {
  const links = JSON.parse((await execa('ip', ['-j', 'link'])).stdout) as { ifname: string }[];
  const routes = (await execa('ip', ['route', 'show', 'table', 'all'])).stdout;
  const save = await execa('sh', ['-c', 'iptables-save 2>/dev/null || true']);
  const rules = save.stdout
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, ''))
    .join('\n');
  return { links: links.map((l) => l.ifname).sort(), routes, rules };
}

let copies: string | undefined;

// Vitest imports this module afresh for every test file: the file's seed copies go with it, after
// its own afterAll hooks (hooks run as a stack).
afterAll(async () => {
  for (const child of runningChildren) child.kill('SIGTERM');
  runningChildren.clear();
  const dir = copies;
  copies = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** labs/<seed>.yaml as lab `name` (a file in a temporary directory), so that test files running
 * at the same time on one engine never build, change or remove the same lab. `edit` may change
 * the text further (e.g. pin the underlay). */
export async function seedAs(seed: string, name: string, edit: (text: string) => string = (t) => t): Promise<string> {
  const { mkdtemp, readFile, writeFile } = await import('node:fs/promises');
  copies ??= await mkdtemp('/tmp/overlab-seed-copies-');
  const text = (await readFile(`${ROOT}labs/${seed}.yaml`, 'utf8')).replace(/^name: .*$/m, `name: ${name}`);
  const file = `${copies}/${name}.yaml`;
  await writeFile(file, edit(text));
  return file;
}

/** The end of the agents' output in a lab's hosts (their log, echoed there, with their supervisor's
 * notes of each exit and restart), for a failure message: read before the lab goes. */
export async function agentLogs(lab: string, hosts: string[]): Promise<string> {
  const file = '/var/log/overlab-agent.out';
  const parts = await Promise.all(
    hosts.map(async (host) => {
      const r = await execa('docker', ['exec', `overlab-${lab}-${host}`, 'tail', '-n', '80', file], { reject: false });
      return `\n--- ${host}: ${file} (exit ${r.exitCode})\n${r.stdout}${r.stderr}`;
    }),
  );
  return parts.join('');
}

/** Take down the labs a test file made (never `down --all`: other files' labs run beside them). */
export async function downLabs(names: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(names)].map((name) => overlab(['down', name])));
}

/** Polls every 200 ms until `probe` returns a value, for at most `ms`: a readiness wait, not a delay. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
