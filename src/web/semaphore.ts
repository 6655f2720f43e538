/**
 * Bounded concurrency with a bounded queue: at most `concurrency` tasks run at once, at most
 * `maxQueued` wait; beyond that a task is refused at once ({@link QueueFullError}) instead of
 * waiting without end.
 */

export class QueueFullError extends Error {
  constructor() {
    super('too many tasks are waiting');
    this.name = 'QueueFullError';
  }
}

export interface Semaphore {
  /** Runs `task` when a slot is free; rejects with {@link QueueFullError} when the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly running: number;
  readonly queued: number;
}

export function createSemaphore(options: { concurrency: number; maxQueued: number }): Semaphore {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    }
  };
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (running < options.concurrency) {
        running++;
      } else {
        if (waiting.length >= options.maxQueued) throw new QueueFullError();
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
    get running() {
      return running;
    },
    get queued() {
      return waiting.length;
    },
  };
}
