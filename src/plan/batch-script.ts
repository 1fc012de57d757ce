// Turn a readable node script into the one that runs: consecutive `ip` commands for the same
// namespace become one `ip [-n ns] -batch -` (one process instead of dozens; `-n` is not allowed
// inside batch lines). Each group announces itself on stderr so a failure names its command.
import type { NodeScript } from './node-scripts.js';

export interface ExecutableScript {
  shell: string;
  /** The commands of each group, as the readable script has them. */
  groups: string[][];
}

const GROUP_MARK = '@@overlab-group ';
const HEREDOC = 'OVERLAB_BATCH';
const IP_COMMAND = /^ip (?:-n (\S+) )?(.+)$/;
const SHELL_SPECIAL = /[$`\\"'|;&<>]/;

interface Group {
  netns?: string;
  batchable: boolean;
  lines: string[];
  original: string[];
}

function batchKey(line: string): { netns?: string; rest: string } | undefined {
  const m = IP_COMMAND.exec(line);
  if (!m || SHELL_SPECIAL.test(line)) return undefined;
  return { ...(m[1] ? { netns: m[1] } : {}), rest: m[2]! };
}

export function toExecutable(script: NodeScript): ExecutableScript {
  const groups: Group[] = [];
  for (const line of script.lines) {
    if (line.startsWith('#') || !line.trim()) continue;
    const key = batchKey(line);
    const last = groups.at(-1);
    if (key && last?.batchable && last.netns === key.netns) {
      last.lines.push(key.rest);
      last.original.push(line);
    } else if (key) {
      groups.push({ ...(key.netns ? { netns: key.netns } : {}), batchable: true, lines: [key.rest], original: [line] });
    } else {
      groups.push({ batchable: false, lines: [line], original: [line] });
    }
  }
  const body = groups.map((group, index) => {
    const mark = `echo '${GROUP_MARK}${index}' >&2`;
    if (!group.batchable || group.lines.length === 1) return `${mark}\n${group.original.join('\n')}`;
    const ip = group.netns ? `ip -n ${group.netns} -batch -` : 'ip -batch -';
    return `${mark}\n${ip} <<'${HEREDOC}'\n${group.lines.join('\n')}\n${HEREDOC}`;
  });
  return { shell: ['set -e', ...body].join('\n') + '\n', groups: groups.map((g) => g.original) };
}

/** Which command failed, from the script's stderr: the last group announced, and for a batch,
 * iproute2's "Command failed -:N". */
export function failedCommand(executable: ExecutableScript, stderr: string): string | undefined {
  const marks = [...stderr.matchAll(new RegExp(`${GROUP_MARK}(\\d+)`, 'g'))];
  const last = marks.at(-1);
  if (!last) return undefined;
  const group = executable.groups[Number(last[1])];
  if (!group) return undefined;
  const line = /Command failed -:(\d+)/.exec(stderr);
  return (line ? group[Number(line[1]) - 1] : undefined) ?? group.at(-1);
}

/** stderr without the group marks, for error messages. */
export function scriptErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith(GROUP_MARK) && !/^Command failed -:\d+$/.test(l.trim()));
}
