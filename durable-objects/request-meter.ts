// Counts the requests reaching a shared object (the Directory and every shard), so the load on
// each can be measured where it lands: /admin/stats shows the counts, and `npm run bench --
// --shards` turns two readings into requests per second. One increment in memory per request;
// the count restarts when the object is loaded again (`since` says when).

export interface MeterReading {
  /** Requests counted since `since` (the reading itself is not one of them). */
  requests: number;
  /** Epoch ms when this instance of the object started counting. */
  since: number;
}

export class RequestMeter {
  private requests = 0;
  private readonly since = Date.now();

  count(): void {
    this.requests++;
  }

  reading(): MeterReading {
    return { requests: this.requests, since: this.since };
  }
}
