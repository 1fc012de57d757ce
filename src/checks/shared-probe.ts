// One probe for several checks that watch the very same traffic (two captures of one ping on two
// interfaces, run together): each check arrives once it is ready to see it (its tcpdump listens);
// when every check of the batch has arrived — or finished without arriving (it failed before) —
// the probe is sent once and every arrival gets its result. No check sees any traffic but this.
import type { PingResult } from '../probes/ping.js';

export class SharedProbe {
  private arrived: ((result: Promise<PingResult>) => void)[] = [];
  private settled = 0;
  private sent?: Promise<PingResult>;

  constructor(
    private readonly expected: number,
    private readonly send: () => Promise<PingResult>,
  ) {}

  /** A check is ready for the traffic: resolves with the probe's result once it has been sent. */
  arrive(): Promise<PingResult> {
    return new Promise<Promise<PingResult>>((resolve) => {
      this.arrived.push(resolve);
      this.settled++;
      this.maybeSend();
    }).then((p) => p);
  }

  /** A check of the batch is done without having arrived (it failed before its traffic). */
  leave(): void {
    this.settled++;
    this.maybeSend();
  }

  private maybeSend(): void {
    if (this.sent || this.settled < this.expected || this.arrived.length === 0) return;
    this.sent = this.send();
    for (const resolve of this.arrived) resolve(this.sent);
  }
}
