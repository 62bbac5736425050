/**
 * SIGINT, SIGTERM and SIGHUP while Apache's configuration is being changed do not kill the
 * process: they mark the run interrupted, the current step ends, and the caller restores what
 * was there before exiting. A second signal during the restore is ignored for the same reason.
 */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class InterruptGuard {
  signal: NodeJS.Signals | null = null;
  private wake: (() => void) | null = null;
  private readonly handler = (signal: NodeJS.Signals) => {
    if (this.signal) return;
    this.signal = signal;
    this.wake?.();
  };

  constructor() {
    for (const s of SIGNALS) process.on(s, this.handler);
  }

  /** Throws Interrupted when a signal has arrived. */
  check(): void {
    if (this.signal) throw new Interrupted(this.signal);
  }

  /**
   * Test hook, TRAC_DEPLOY_TEST_PAUSE_AT=<step>: at that step, print "paused at <step>" on
   * stderr and wait for a signal, so a test can interrupt (or SIGKILL) apply at a chosen point.
   */
  async pauseAt(step: string, stderr: (text: string) => void): Promise<void> {
    if (process.env.TRAC_DEPLOY_TEST_PAUSE_AT !== step) return;
    stderr(`trac-deploy: paused at ${step} (TRAC_DEPLOY_TEST_PAUSE_AT)`);
    if (!this.signal) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        // keep the event loop alive while waiting for the signal
        const timer = setInterval(() => undefined, 1 << 30);
        const done = this.wake;
        this.wake = () => {
          clearInterval(timer);
          done();
        };
      });
    }
    this.check();
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.handler);
  }
}
