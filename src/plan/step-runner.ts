// Run a list of argv commands inside a container with ONE `docker exec`, without a shell ever
// reading a value. The exec runs a constant interpreter text (RUNNER_SCRIPT, bash) whose only
// input is a stream of NUL-separated fields on stdin; it runs each record with `exec --` (never
// a builtin, a function or an option of exec), feeds a batch its lines on stdin, and stops at
// the first failure. Nothing it reads is ever evaluated: no eval, no arithmetic on a field that
// is not first matched against digits, every expansion quoted.
//
// Consecutive `ip` (or `bridge`) commands for the same namespace become one `ip -batch -` step
// (one process instead of dozens). Batch lines are parsed by iproute2's own tokenizer (which
// knows quotes, `#` comments and `\` continuations), so every token of a batch line is checked
// against a safe alphabet before it is written.
import { OverlabError } from '../base/errors.js';
import { shellCommand } from './shell-quote.js';

export interface RunnerStep {
  /** What runs: the command itself, or `ip [-n ns] -batch -` for a batch. */
  argv: string[];
  /** A batch's lines, fed on its stdin. */
  input?: string;
  /** The plan's commands this step runs, in order (one, or the batch's). */
  commands: string[][];
}

const FORMAT = 'overlab-steps/1';
export const STEP_MARK = '@@overlab-step ';
/** The interpreter's own refusal (bad records): EX_SOFTWARE, never a command's status. */
export const RUNNER_BROKEN = 70;

/** Constant text: it is the same for every lab and every value; values only travel on stdin. */
export const RUNNER_SCRIPT = `set -u
mapfile -d '' -t f
n=\${#f[@]}
[[ $n -ge 1 && \${f[0]} == '${FORMAT}' ]] || { echo 'overlab runner: unreadable steps' >&2; exit ${RUNNER_BROKEN}; }
i=1; s=0
while [[ $i -lt $n ]]; do
  k=\${f[i]}; c=\${f[i+1]-}
  case $k in
    run) w=0 ;;
    feed) w=1 ;;
    *) echo "overlab runner: step $s has no kind" >&2; exit ${RUNNER_BROKEN} ;;
  esac
  [[ $c =~ ^[1-9][0-9]{0,4}$ ]] || { echo "overlab runner: step $s has no length" >&2; exit ${RUNNER_BROKEN}; }
  [[ $((i + 2 + c + w)) -le $n ]] || { echo "overlab runner: step $s is cut short" >&2; exit ${RUNNER_BROKEN}; }
  a=("\${f[@]:i+2:c}")
  printf '${STEP_MARK}%d\\n' "$s" >&2
  if [[ $w -eq 1 ]]; then
    ( exec -- "\${a[@]}" ) <<<"\${f[i+2+c]}"
  else
    ( exec -- "\${a[@]}" ) </dev/null
  fi
  r=$?
  [[ $r -eq 0 ]] || exit "$r"
  i=$((i + 2 + c + w)); s=$((s + 1))
done
`;

/** The exec's argv; the steps go on its stdin (encodeSteps). */
export const RUNNER_ARGV: readonly string[] = ['bash', '--noprofile', '--norc', '-c', RUNNER_SCRIPT, 'overlab-runner'];

/** A token iproute2's batch tokenizer reads back as exactly itself: no quotes, no `#`, no `\`,
 * no whitespace, not empty, not an option. */
const BATCH_TOKEN = /^[A-Za-z0-9_.:/][A-Za-z0-9_.:/-]*$/;
const BATCH_TOOLS = new Set(['ip', 'bridge']);

function internal(message: string): OverlabError {
  return new OverlabError('internal', `${message} (a bug in overlab's planner: please report it)`);
}

export function assertBatchToken(token: string, command: readonly string[]): void {
  if (!BATCH_TOKEN.test(token)) {
    throw internal(`refusing to put ${JSON.stringify(token)} on an iproute2 batch line (from \`${shellCommand(command)}\`)`);
  }
}

/** `[prefix…, ip|bridge, (-n ns)?, rest…]` → the batch's argv prefix and the line; undefined
 * when the command is not one an `-batch -` can run (`ip netns exec` starts another program,
 * whose own options a batch line cannot carry). */
function batchParts(argv: readonly string[]): { prefix: string[]; rest: string[] } | undefined {
  let i = 0;
  if (argv[0] === 'nsenter') {
    if (!argv[1]?.startsWith('--net=')) return undefined;
    i = 2;
  }
  const tool = argv[i];
  if (tool === undefined || !BATCH_TOOLS.has(tool)) return undefined;
  let j = i + 1;
  if (tool === 'ip' && argv[j] === '-n') j += 2;
  const rest = argv.slice(j);
  if (j > argv.length || rest.length === 0 || rest[0]!.startsWith('-')) return undefined;
  if (tool === 'ip' && rest[0] === 'netns' && rest[1] === 'exec') return undefined;
  return { prefix: argv.slice(0, j), rest };
}

/** Group consecutive batchable commands with the same prefix; everything else runs as is. */
export function toRunnerSteps(commands: readonly string[][]): RunnerStep[] {
  const groups: { key?: string; prefix?: string[]; commands: string[][] }[] = [];
  for (const argv of commands) {
    if (argv.length === 0) throw internal('an empty command');
    const parts = batchParts(argv);
    const key = parts ? JSON.stringify(parts.prefix) : undefined;
    const last = groups.at(-1);
    if (key !== undefined && last?.key === key) last.commands.push(argv);
    else groups.push({ ...(key !== undefined ? { key, prefix: parts!.prefix } : {}), commands: [argv] });
  }
  return groups.map((group) => {
    if (!group.prefix || group.commands.length === 1) return { argv: group.commands[0]!, commands: group.commands };
    const lines = group.commands.map((argv) => {
      const rest = argv.slice(group.prefix!.length);
      for (const token of rest) assertBatchToken(token, argv);
      return rest.join(' ');
    });
    return { argv: [...group.prefix, '-batch', '-'], input: lines.join('\n') + '\n', commands: group.commands };
  });
}

/** The runner's stdin: NUL-terminated fields, `run|feed`, argc, argv…, and a feed's input. */
export function encodeSteps(steps: readonly RunnerStep[]): string {
  const fields: string[] = [FORMAT];
  for (const step of steps) {
    if (step.argv.length === 0 || step.argv.length > 99_999) throw internal(`a step with ${step.argv.length} arguments`);
    fields.push(step.input === undefined ? 'run' : 'feed', String(step.argv.length), ...step.argv);
    if (step.input !== undefined) fields.push(step.input);
  }
  for (const field of fields) if (field.includes('\0')) throw internal(`a NUL byte in ${JSON.stringify(field.slice(0, 40))}`);
  return fields.map((f) => `${f}\0`).join('');
}

/** The command that failed, from the runner's stderr: the last step announced, and inside a
 * batch iproute2's "Command failed -:N". */
export function failedCommand(steps: readonly RunnerStep[], stderr: string): string[] | undefined {
  const marks = [...stderr.matchAll(new RegExp(`${STEP_MARK}(\\d+)`, 'g'))];
  const last = marks.at(-1);
  if (!last) return undefined;
  const step = steps[Number(last[1])];
  if (!step) return undefined;
  const line = /Command failed -:(\d+)/.exec(stderr.slice(last.index));
  return (line ? step.commands[Number(line[1]) - 1] : undefined) ?? step.commands.at(-1);
}

/** stderr without the runner's marks, for error messages. */
export function runnerErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith(STEP_MARK) && !/^Command failed -:\d+$/.test(l.trim()));
}
