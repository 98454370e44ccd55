/**
 * Graceful shutdown, in one place. Components register a close step; the
 * first SIGTERM/SIGINT runs them in reverse order of registration (stop taking
 * work first, close connections last) within a deadline. A second signal, or
 * the deadline, forces the exit. Running it twice is harmless.
 */
import type { Logger } from './logger.js';

type CloseStep = { readonly name: string; readonly close: () => Promise<unknown> };

export interface ShutdownOptions {
  readonly deadlineMs: number;
  readonly log: Logger;
  /** How to end the process. Default: process.exit. */
  readonly exit?: (code: number) => void;
}

export class Shutdown {
  private readonly steps: CloseStep[] = [];
  private running: Promise<void> | undefined;
  private signals = 0;

  constructor(private readonly options: ShutdownOptions) {}

  /** Adds a step; steps run last-registered-first. */
  register(name: string, close: () => Promise<unknown>): void {
    this.steps.push({ name, close });
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Closes everything once; later calls return the same promise. */
  run(reason: string): Promise<void> {
    if (this.running) return this.running;
    const { log, deadlineMs } = this.options;
    log.info({ reason, deadlineMs }, 'shutting down: no new jobs; waiting for in-flight ones');
    const exit = this.options.exit ?? ((code: number) => process.exit(code));
    const timer = setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown deadline passed; forcing exit (interrupted jobs are retried by another worker)');
      exit(1);
    }, deadlineMs);
    timer.unref();
    this.running = (async () => {
      for (const step of [...this.steps].reverse()) {
        try {
          await step.close();
        } catch (error) {
          log.warn({ err: error, step: step.name }, 'a shutdown step failed; continuing');
        }
      }
      clearTimeout(timer);
      log.info('shutdown complete');
    })();
    return this.running;
  }

  /** Closes what was registered, quietly and without exiting: for a start-up that failed half-way. */
  abort(): Promise<void> {
    this.running ??= (async () => {
      for (const step of [...this.steps].reverse()) await step.close().catch(() => {});
    })();
    return this.running;
  }

  /** SIGTERM/SIGINT start the shutdown and exit 0 when it ends; a second signal forces exit 1. */
  installSignalHandlers(): void {
    const exit = this.options.exit ?? ((code: number) => process.exit(code));
    const onSignal = (signal: NodeJS.Signals) => {
      this.signals += 1;
      if (this.signals > 1) {
        this.options.log.warn({ signal }, 'second signal: forcing exit');
        exit(1);
        return;
      }
      void this.run(signal).then(() => exit(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}
