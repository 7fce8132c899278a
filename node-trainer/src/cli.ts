/** `vidkind`: retrain vidkind's models on your own labelled videos and export them for the site. */
import { Command, CommanderError } from 'commander';

/**
 * Each command lives in its own module under ./commands and registers itself on the program.
 * Modules are loaded lazily: a command's heavy dependencies (tfjs, onnxruntime) load only when that
 * command runs, so `vidkind classify` does not pay for the trainer's start-up.
 */
type Registrar = (program: Command) => void;
const COMMANDS: Record<string, () => Promise<{ register: Registrar }>> = {
  train: () => import('./commands/train.ts'),
  eval: () => import('./commands/eval.ts'),
  cv: () => import('./commands/cv.ts'),
  'import-backbone': () => import('./commands/import-backbone.ts'),
  extract: () => import('./commands/extract.ts'),
  export: () => import('./commands/export.ts'),
  classify: () => import('./commands/classify.ts'),
  check: () => import('./commands/check.ts'),
  corpus: () => import('./commands/corpus.ts'),
  fit: () => import('./commands/fit.ts'),
};

/** The command modules needed for these arguments: the named one, or all (help, unknown command). */
function commandsFor(argv: string[]): Array<() => Promise<{ register: Registrar }>> {
  const name = argv[2];
  const one = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  return one ? [one] : Object.values(COMMANDS);
}

/** Runs the CLI; resolves to the process exit code (0 ok, 1 some work failed, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('vidkind')
    .description("Retrain vidkind's video classifier on your own labelled videos and export the ONNX files the site loads.")
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  for (const load of commandsFor(argv)) (await load()).register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    console.error(`vidkind: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
