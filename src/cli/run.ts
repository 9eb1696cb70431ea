import { ApiError, ConnectionError, type ConnectOptions, RegistrarClient } from './client.ts';
import { type CliIo, EXIT, Interrupted, UsageError, writeLine } from './io.ts';

/** Prints a problem+json answer as "title: detail" and one line per bad field. */
export function printProblem(error: ApiError, io: CliIo): void {
  const { problem } = error;
  writeLine(io.stderr, error.message);
  for (const issue of problem.errors ?? []) {
    writeLine(io.stderr, `  - ${issue.field}: ${issue.message}`);
  }
  if (error.status === 401) {
    writeLine(
      io.stderr,
      'Check REGISTRAR_TOKEN (or --token), or REGISTRAR_EMAIL and REGISTRAR_PASSWORD.',
    );
  }
}

/** Tells the user what went wrong and returns the exit code for it. */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof ApiError) {
    printProblem(error, io);
    return EXIT.failure;
  }
  if (error instanceof UsageError) {
    writeLine(io.stderr, error.message);
    return EXIT.usage;
  }
  if (error instanceof Interrupted) {
    writeLine(io.stderr, error.message);
    return EXIT.interrupted;
  }
  if (error instanceof ConnectionError) {
    writeLine(io.stderr, error.message);
    return EXIT.failure;
  }
  writeLine(io.stderr, error instanceof Error ? error.message : String(error));
  return EXIT.failure;
}

/**
 * Runs a command as the signed-in user: connects, runs it, signs out again, and turns any
 * error into its message and exit code.
 */
export async function withClient(
  options: ConnectOptions,
  io: CliIo,
  action: (client: RegistrarClient) => Promise<number>,
): Promise<number> {
  let client: RegistrarClient | undefined;
  try {
    client = await RegistrarClient.connect(options, io);
    return await action(client);
  } catch (error) {
    return reportError(error, io);
  } finally {
    await client?.close();
  }
}
