// The id of one `up` (or `node add`): every container it makes carries it (label overlab.run), so a
// rollback removes exactly what this run made, and the completion marker names it.
import { randomBytes } from 'node:crypto';

/** Time-ordered and unique enough to never repeat. */
export function newRunId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
