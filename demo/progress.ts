import cliProgress from 'cli-progress';

/**
 * One progress bar per training run on a terminal (cli-progress), with the per-epoch lines
 * printed above it; plain lines only when stdout is not a terminal (logs, tests), where
 * cli-progress draws nothing.
 */
export class TrainingProgress {
  readonly #bars = process.stdout.isTTY
    ? new cliProgress.MultiBar(
        {
          stream: process.stdout,
          format: '  {title} [{bar}] epoch {value}/{total} | loss {loss} | val Dice {dice}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  #bar: cliProgress.SingleBar | undefined;

  start(title: string, epochs: number, dice: number): void {
    this.#bar = this.#bars?.create(epochs, 0, { title, loss: '-', dice: dice.toFixed(3) });
  }

  epoch(epoch: number, line: string, values: { loss: number; dice: number }): void {
    if (!this.#bars) {
      console.log(line);
      return;
    }
    this.#bars.log(`${line}\n`);
    this.#bar?.update(epoch, { loss: values.loss.toFixed(4), dice: values.dice.toFixed(3) });
  }

  log(line: string): void {
    if (this.#bars) this.#bars.log(`${line}\n`);
    else console.log(line);
  }

  stop(): void {
    this.#bars?.stop();
  }
}
