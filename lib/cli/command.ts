/** What every subcommand file exports; lib/cli/main.ts dispatches to them. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The whole --help text. */
  help: string;
  run(argv: string[]): Promise<void>;
}
