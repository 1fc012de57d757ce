// Stands in for `ip -force -batch -` in unit tests of the agent's batch sessions (nothing touches
// a real kernel): reads commands line by line and, like iproute2, reports a failing line on stderr
// as its error text then "Command failed -:<line number>". A line naming `overlab-sentinel` or
// containing `fail` fails; `exit` ends the process; `hang` stops answering. Each line it ran is
// echoed on stdout (which the session drains).
import { createInterface } from 'node:readline';

let n = 0;
let hung = false;
for await (const line of createInterface({ input: process.stdin })) {
  n++;
  if (hung) continue;
  if (line === 'exit') process.exit(1);
  if (line === 'hang') {
    hung = true;
    continue;
  }
  if (line.includes('overlab-sentinel')) process.stderr.write(`Device "overlab-sentinel" does not exist.\nCommand failed -:${n}\n`);
  else if (line.includes('fail')) process.stderr.write(`Error: ${line} went wrong.\nCommand failed -:${n}\n`);
  else process.stdout.write(`ran ${n}: ${line}\n`);
}
