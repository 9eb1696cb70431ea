/**
 * Group commit: one statement (or transaction) for many callers. A request that finds nothing
 * in flight goes at once, so a lone caller waits no longer than before; requests that arrive
 * while a batch is in flight go together in the next one. `run` answers each input in order,
 * with its result or the Error that caller gets. A batch that fails as a whole is run again
 * one input at a time, so one bad input fails alone.
 */
export class Batcher<Input, Output> {
  private waiting: Array<{
    input: Input;
    resolve: (output: Output) => void;
    reject: (error: unknown) => void;
  }> = [];
  private inFlight = 0;

  constructor(
    private readonly run: (inputs: Input[]) => Promise<Array<Output | Error>>,
    private readonly options: { maxBatch: number; parallel: number } = {
      maxBatch: 200,
      parallel: 2,
    },
  ) {}

  push(input: Input): Promise<Output> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.next();
    });
  }

  private async runSplitting(inputs: Input[]): Promise<Array<Output | Error>> {
    try {
      return await this.run(inputs);
    } catch (error) {
      if (inputs.length === 1) throw error;
      const outputs: Array<Output | Error> = [];
      for (const input of inputs) {
        try {
          outputs.push(...(await this.run([input])));
        } catch (one) {
          outputs.push(one instanceof Error ? one : new Error(String(one)));
        }
      }
      return outputs;
    }
  }

  private next(): void {
    while (this.inFlight < this.options.parallel && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.runSplitting(batch.map((entry) => entry.input))
        .then(
          (outputs) =>
            batch.forEach((entry, i) => {
              const output = outputs[i];
              if (output instanceof Error) entry.reject(output);
              else entry.resolve(output as Output);
            }),
          (error: unknown) => {
            for (const entry of batch) entry.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.next();
        });
    }
  }
}
