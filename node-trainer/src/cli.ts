/** `vidkind`: retrain vidkind's models on your own labelled videos and export them for the site. */
import { Command, CommanderError } from 'commander';

/** Each command lives in its own module under ./commands and registers itself on the program. */
type Registrar = (program: Command) => void;
const COMMANDS: Array<() => Promise<{ register: Registrar }>> = [
  () => import('./commands/train.ts'),
  () => import('./commands/eval.ts'),
  () => import('./commands/import-backbone.ts'),
  () => import('./commands/extract.ts'),
  () => import('./commands/export.ts'),
  () => import('./commands/classify.ts'),
  () => import('./commands/corpus.ts'),
];

/** Runs the CLI; resolves to the process exit code (0 ok, 1 some work failed, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('vidkind')
    .description("Retrain vidkind's video classifier on your own labelled videos and export the ONNX files the site loads.")
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  for (const load of COMMANDS) (await load()).register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    console.error(`vidkind: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
