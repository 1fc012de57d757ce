// Helpers for integration tests: run the built CLI, read Docker state by label, and snapshot the
// machine's own network state (which overlab must never change).
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${ROOT}bin/run.js`;

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function overlab(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await execa('node', [CLI, ...args], { cwd: ROOT, reject: false, env: { NO_COLOR: '1', ...env } });
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

export async function containersWithLabel(label: string): Promise<string[]> {
  const r = await execa('docker', ['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}}']);
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
