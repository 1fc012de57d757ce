// Which version of the Engine API overlab speaks to an engine: the engine's newest, but no newer
// than the newest overlab knows (so a newer engine answers as the one overlab was written for),
// and no older than the engine accepts. An engine whose newest is older than what overlab uses
// (HostConfig.ReadonlyPaths, Mounts, Init, exec hijack, the archive API) is refused by name.
import { OverlabError } from '../base/errors.js';

/** Docker 19.03; Podman 3+ serves 1.40 or newer on its compatible API. */
export const OLDEST_API = '1.40';
/** The newest version whose answers overlab has been checked against. */
export const NEWEST_API = '1.47';

export interface VersionAnswer {
  ApiVersion?: unknown;
  MinAPIVersion?: unknown;
  Version?: unknown;
  Components?: { Name?: unknown; Version?: unknown }[] | null;
}

function parse(version: unknown): [number, number] | undefined {
  if (typeof version !== 'string') return undefined;
  const m = /^(\d+)\.(\d+)$/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const compare = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];
const text = (v: [number, number]) => `${v[0]}.${v[1]}`;

export type EngineKind = 'docker' | 'podman';

const versionText = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** Docker or Podman, and its own version (not the API's), from /version. */
export function engineKind(answer: VersionAnswer): { kind: EngineKind; version: string } {
  const podman = (answer.Components ?? []).find((c) => typeof c.Name === 'string' && /podman/i.test(c.Name));
  if (podman) return { kind: 'podman', version: versionText(podman.Version ?? answer.Version) };
  return { kind: 'docker', version: versionText(answer.Version) };
}

/** The version to put in every request's path (`/v1.41/…`). `engine` names it in the refusal. */
export function negotiateApiVersion(answer: VersionAnswer, engine: string): string {
  const newest = parse(answer.ApiVersion);
  if (!newest) {
    throw new OverlabError('environment', `the engine at ${engine} does not say which Engine API version it speaks (no ApiVersion in its /version answer)`, 'overlab talks to Docker Engine 19.03+ or Podman 3+ (`podman system service`); is this a Docker-compatible engine?');
  }
  const { kind, version } = engineKind(answer);
  if (compare(newest, parse(OLDEST_API)!) < 0) {
    const who = `${kind === 'podman' ? 'Podman' : 'Docker'} ${version || '(version unknown)'}`.trim();
    throw new OverlabError(
      'environment',
      `the engine at ${engine} (${who}) speaks Engine API ${text(newest)}; overlab needs ${OLDEST_API} or newer`,
      kind === 'podman' ? 'upgrade Podman to 3.0 or newer' : 'upgrade Docker Engine to 19.03 or newer (Debian 12\'s docker.io is 20.10)',
    );
  }
  let chosen = compare(newest, parse(NEWEST_API)!) < 0 ? newest : parse(NEWEST_API)!;
  const oldest = parse(answer.MinAPIVersion);
  if (oldest && compare(chosen, oldest) < 0) chosen = oldest;
  return text(chosen);
}
