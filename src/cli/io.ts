import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

/** A stream the CLI writes to; isTTY and columns decide how progress is drawn. */
export interface Output {
  write(chunk: string | Uint8Array): boolean;
  once(event: 'drain', listener: () => void): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Asks the person at the terminal; only present when there is one. */
export interface Prompter {
  ask(question: string, options?: { secret?: boolean }): Promise<string>;
}

/**
 * Everything a client command touches outside itself, so tests can run the commands
 * in-process with their own streams, environment and answers.
 */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: Output;
  stderr: Output;
  prompt?: Prompter | undefined;
  /** Calls handler on each Ctrl-C until the returned function is called. */
  onInterrupt?: ((handler: () => void) => () => void) | undefined;
  cwd?: string;
}

/** Bad arguments or configuration: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The person pressed Ctrl-C at a prompt: exit code 130, like a shell. */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

export function writeLine(stream: Output, text = ''): void {
  stream.write(`${text}\n`);
}

/** Reads a line from the terminal; a secret answer is not echoed. */
function terminalPrompter(): Prompter {
  return {
    async ask(question, options = {}) {
      let muted = false;
      // readline echoes what is typed through its output: mute it for a password.
      const output = new Writable({
        write(chunk, _encoding, done) {
          if (!muted) process.stderr.write(chunk);
          done();
        },
      });
      const readline = createInterface({ input: process.stdin, output, terminal: true });
      const abort = new AbortController();
      readline.on('SIGINT', () => abort.abort());
      try {
        const answer = readline.question(question, { signal: abort.signal });
        // The question is on screen by now; mute what follows for a secret.
        muted = options.secret === true;
        return await answer;
      } catch (error) {
        if (abort.signal.aborted) throw new Interrupted('Interrupted.');
        throw error;
      } finally {
        if (muted) process.stderr.write('\n');
        readline.close();
      }
    },
  };
}

/** The real process: its streams, environment, terminal and Ctrl-C. */
export function processIo(): CliIo {
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    prompt: process.stdin.isTTY ? terminalPrompter() : undefined,
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
    cwd: process.cwd(),
  };
}
