// One alarm per object serves every job that needs a durable timer (TTL expiry, webhook delivery,
// broadcast fan-out, receipts reports, ...; not the views' pushes, whose batches live in memory:
// views.ts). Each job is a task that says when it is next due (`nextDue`, answered from memory so
// an alarm with nothing due costs no storage read) and does its work (`run`); the alarm is a loop
// over the tasks that are due.
//
// Platform contract: an alarm runs at least once and, if its handler throws, is retried with
// backoff a limited number of times. So a task's work queue lives in storage (or is derived from
// it), never in the alarm, and a task that fails is caught here, logged (never a payload) and
// retried a second later, rather than failing the whole alarm.

import { describeError } from "../protocol/errors.js";

export interface AlarmTask {
  readonly name: string;
  /** Epoch ms when this task next has work, or null when it has none. */
  nextDue(now: number): number | null;
  run(now: number): Promise<void>;
}

/** Delay before a failed task is tried again. */
const RETRY_MS = 1000;

export class AlarmScheduler {
  private tasks: AlarmTask[] = [];
  /** The alarm as set in storage (read once at start), so arming it again is a no-op in memory. */
  private alarmAt: number | null = null;
  private readonly retryAt = new Map<string, number>();

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads the stored alarm; call once, inside blockConcurrencyWhile. */
  async load(): Promise<void> {
    this.alarmAt = await this.storage.getAlarm();
  }

  /** The tasks this alarm serves (set again when the object's storage is replaced). */
  setTasks(tasks: AlarmTask[]): void {
    this.tasks = tasks;
  }

  /**
   * Makes sure the alarm fires by `at` (a task just got work due then). Not awaited: like every
   * storage write, setAlarm is held by the object's output gate, so no answer leaves the object
   * before the alarm is durable, and the state that made it due is committed with it.
   */
  wake(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.storage.setAlarm(at);
  }

  /** The alarm handler: runs every due task, then arms the alarm for the next one. */
  async run(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    for (const task of this.tasks) {
      const due = this.retryAt.get(task.name) ?? task.nextDue(now);
      if (due === null || due > now) continue;
      this.retryAt.delete(task.name);
      try {
        await task.run(now);
      } catch (error) {
        console.error(`alarm: ${task.name} failed: ${describeError(error)}`);
        this.retryAt.set(task.name, Date.now() + RETRY_MS);
      }
    }
    this.armNext();
  }

  /** Forgets the alarm (the object's storage was deleted with it). */
  reset(): void {
    this.alarmAt = null;
    this.retryAt.clear();
  }

  private armNext(): void {
    const now = Date.now();
    let next: number | null = null;
    for (const task of this.tasks) {
      const due = this.retryAt.get(task.name) ?? task.nextDue(now);
      if (due !== null && (next === null || due < next)) next = due;
    }
    if (next !== null) this.wake(next);
  }
}
