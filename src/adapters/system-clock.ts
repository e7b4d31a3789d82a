import type { Clock } from '../ports/index.js';

/** The one place revwatch reads the real time. */
export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** A clock that only moves when told to; `sleep` advances it instead of waiting. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  private ms: number;

  constructor(start: Date | number | string) {
    this.ms = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(to: Date | number | string): void {
    this.ms = typeof to === 'number' ? to : new Date(to).getTime();
  }

  advance(ms: number): void {
    this.ms += ms;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.ms += ms;
  }
}
