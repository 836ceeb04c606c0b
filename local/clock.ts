/** Time for the local Scheduler: the system clock, or a manual one tests move forward. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; the scheduler fires what became due after each move. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date | number = Date.now()) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  set(to: Date | number): void {
    const next = typeof to === 'number' ? to : to.getTime();
    if (next < this.current) throw new Error('A manual clock only moves forward');
    this.current = next;
  }

  advance(ms: number): void {
    this.set(this.current + ms);
  }
}
