/**
 * `constellate`: the command line. Thin: parses arguments (commander), then calls the same
 * services the UI uses. Progress goes to stderr, results to stdout.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ENGINE_ORDER } from '../embed/engine.js';
import { packageVersion } from '../app/paths.js';

function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/**
 * `--engine NAME`: this process and the workers it starts use that engine only (benchmarks, bug
 * reports): an engine that cannot load is an error, not a quiet fallback. Worker threads inherit
 * the environment, which is how the choice reaches the embed and training workers.
 */
function engineOption(): Option {
  return new Option('--engine <name>', 'embedding engine, forced (default: the fastest that loads)')
    .choices([...ENGINE_ORDER])
    .argParser((value: string) => {
      if (!(ENGINE_ORDER as readonly string[]).includes(value))
        throw new InvalidArgumentError(`expected one of ${ENGINE_ORDER.join(', ')}`);
      process.env.CONSTELLATE_ENGINE = value;
      return value;
    });
}

/** A finished command's exit code other than 0 (export: some files could not be exported). */
let exitCode = 0;

type ExportCliOptions = {
  db?: string;
  format: 'csv' | 'json' | 'folders';
  out?: string;
  mode: 'copy' | 'hardlink' | 'symlink';
  dryRun?: boolean;
  skipDuplicates?: boolean;
  skipUnsorted?: boolean;
  confirmedOnly?: boolean;
  minConfidence?: number;
  hfMetadata?: boolean;
};

export function buildProgram(): Command {
  const program = new Command()
    .name('constellate')
    .description('Group the images of a folder, offline, with Debiased InfoNCE Clustering (I-Con).')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();

  addClusterCommand(program);
  addExportCommand(program);
  addEvalCommand(program);
  addModelsCommands(program);
  addSearchCommands(program);
  addServeCommand(program);

  return program;
}

/** `cluster`: scan, embed, train and store a grouping (or place new images in the current one). */
function addClusterCommand(program: Command): void {
  program
    .command('cluster')
    .description('scan folders, embed new or changed images, cluster them and store everything')
    .argument('<folder...>', 'image folders (scanned recursively)')
    .option('-g, --groups <K>', 'number of groups (default: chosen from the data)', intArg(2, 1000))
    .option('--db <file>', 'database file (default: in the app-data folder)')
    .option('--seed <N>', 'random seed', intArg(0), 0)
    .option('--workers <N>', 'decode+embed worker threads (default: one per core)', intArg(1, 64))
    .option(
      '--views <N>',
      'augmented views embedded per image and trained on (0-8; default 4, or what the database was clustered with): each costs a forward pass',
      intArg(0, 8),
    )
    .option('--place-new', 'keep the current groups: embed new images and place them with the trained head (no retraining)')
    .option(
      '--model <id>',
      'embed and group with this registered model from now on (constellate models list; default: what the database uses, at first the built-in MobileNetV2)',
    )
    .option(
      '--new-map',
      'compute the 2-D map afresh (by default it is kept when the images are the same or few changed: new ones go beside their neighbours), and train even when nothing changed',
    )
    // Its old name, kept for scripts.
    .addOption(new Option('--assign-new').hideHelp())
    .addOption(engineOption())
    .option('--json', 'print the summary as JSON on stdout')
    .action(
      async (
        folders: string[],
        opts: {
          groups?: number;
          db?: string;
          seed: number;
          workers?: number;
          views?: number;
          json?: boolean;
          placeNew?: boolean;
          assignNew?: boolean;
          model?: string;
          newMap?: boolean;
        },
      ) => {
        const { clusterCommand } = await import('./cluster.js');
        const { assignNew, ...rest } = opts;
        await clusterCommand(folders, { ...rest, placeNew: rest.placeNew || assignNew });
      },
    );
}

/** `export`: the current groups as CSV, JSON or one folder per group. */
function addExportCommand(program: Command): void {
  program
    .command('export')
    .description(
      'export the current groups: CSV, JSON, or one folder per group (exit code 2: some files could not be exported, listed on stderr)',
    )
    .option('--db <file>', 'database file (default: in the app-data folder)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json', 'folders']).makeOptionMandatory())
    .option('--out <path>', 'output file (csv/json; default stdout) or folder (folders)')
    .addOption(new Option('--mode <mode>', 'for folders: how files get there').choices(['copy', 'hardlink', 'symlink']).default('copy'))
    .option(
      '--dry-run',
      'write and remove nothing: show per group what would be written, already there, removed and skipped, and list every renamed, removed and skipped file',
    )
    .option('--skip-duplicates', 'leave out the copies in each duplicate set (the suggested keeper is exported)')
    .option('--skip-unsorted', 'leave out Unsorted (folders: no Unsorted/ class)')
    .option('--confirmed-only', 'only the images you pinned or moved')
    .option('--min-confidence <p>', 'leave out the images the model placed with less than this (0-1); yours stay', parseFloat)
    .option('--hf-metadata', 'folders: also write metadata.csv for Hugging Face imagefolder')
    .action(async (opts: ExportCliOptions) => {
      const { exportCommand } = await import('./export.js');
      exitCode = await exportCommand(opts);
    });
}

/** `eval`: I-Con scored on a labelled folder against its start, k-means and scikit-learn. */
function addEvalCommand(program: Command): void {
  program
    .command('eval')
    .description(
      'cluster a labelled folder (labels = first-level folder names) and score I-Con against its start, k-means and scikit-learn',
    )
    .argument('<labeled-folder>')
    .option('-g, --groups <K>', 'number of groups (default: number of labels)', intArg(2, 1000))
    .option('--seeds <N>', 'seeds to average over', intArg(1, 100), 5)
    .option('--db <file>', 'embedding cache database (default: eval-cache.db in the app-data folder)')
    .option(
      '--pins <N>',
      'also score regrouping after N edits per class (N random images pinned; N misplaced images moved)',
      intArg(0, 1000),
      0,
    )
    .option('--model <id>', "score this registered model's features (default: the built-in MobileNetV2)")
    .option(
      '--view-draw <N>',
      "another set of augmented views of the same images (0: the app's), to measure how much a result owes to the crops drawn; one set per --db",
      intArg(0, 1000000),
      0,
    )
    .addOption(engineOption())
    .option('--json', 'print the result as JSON on stdout')
    .option('--no-peers', 'skip the scikit-learn peers (run through python3 where it has sklearn)')
    .action(
      async (
        folder: string,
        opts: {
          groups?: number;
          seeds: number;
          db?: string;
          pins: number;
          json?: boolean;
          peers: boolean;
          model?: string;
          viewDraw: number;
        },
      ) => {
        const { evalCommand } = await import('./eval.js');
        await evalCommand(folder, opts);
      },
    );
}

/** `models add|list|remove|use|download`: the registered image encoders. */
function addModelsCommands(program: Command): void {
  const models = program
    .command('models')
    .description('image encoders: the built-in MobileNetV2 and models added from a folder (CLIP, SigLIP, DINOv2 ONNX exports)');
  models
    .command('add')
    .description(
      'register the model in a folder: an ONNX image encoder (onnx/vision_model.onnx or onnx/model.onnx) with preprocessor_config.json; CLIP-like ones with onnx/text_model.onnx and tokenizer.json too',
    )
    .argument('<folder>')
    .option('--json', 'print the model as JSON')
    .action(async (folder: string, opts: { json?: boolean }) => {
      const { modelsAddCommand } = await import('./models.js');
      await modelsAddCommand(folder, opts);
    });
  models
    .command('list')
    .description('the registered models, the known ones to download, and (with --db) which one the database uses')
    .option('--db <file>', 'mark the model this database uses')
    .option('--json', 'print as JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      const { modelsListCommand } = await import('./models.js');
      modelsListCommand(opts);
    });
  models
    .command('remove')
    .description('forget a registered model (a downloaded one is deleted; a folder you added is left alone)')
    .argument('<id>')
    .action(async (id: string) => {
      const { modelsRemoveCommand } = await import('./models.js');
      modelsRemoveCommand(id);
    });
  models
    .command('use')
    .description(
      'make the database embed with this model and regroup with it (embeds what is missing first; Ctrl-C stops, running it again resumes)',
    )
    .argument('<id>', 'a registered model id or name, or "builtin"')
    .option('--db <file>', 'database file (default: in the app-data folder)')
    .option('-g, --groups <K>', 'number of groups (default: chosen from the data)', intArg(2, 1000))
    .option('--workers <N>', 'decode worker threads', intArg(1, 64))
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (id: string, opts: { db?: string; groups?: number; workers?: number; json?: boolean }) => {
      const { modelsUseCommand } = await import('./models.js');
      await modelsUseCommand(id, opts);
    });
  models
    .command('download')
    .description(
      'download a known model (clip-vit-base-patch32, dinov2-small) into the models folder and register it; resumes an interrupted download',
    )
    .argument('<id>')
    .option('--json', 'print the model as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { modelsDownloadCommand } = await import('./models.js');
      await modelsDownloadCommand(id, opts);
    });
}

/** `search` and `names`: what a CLIP-like model's text encoder makes possible. */
function addSearchCommands(program: Command): void {
  program
    .command('search')
    .description('images ranked by how well they match a text (needs a CLIP-like model: constellate models use)')
    .argument('<text>')
    .option('--db <file>', 'database file (default: in the app-data folder)')
    .option('--limit <N>', 'how many images', intArg(1, 10000), 20)
    .option('--json', 'print as JSON')
    .action(async (text: string, opts: { db?: string; limit: number; json?: boolean }) => {
      const { searchCommand } = await import('./models.js');
      await searchCommand(text, opts);
    });

  program
    .command('names')
    .description('suggested names for the groups you have not named (needs a CLIP-like model); nothing is renamed')
    .option('--db <file>', 'database file (default: in the app-data folder)')
    .option('--json', 'print as JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      const { namesCommand } = await import('./models.js');
      await namesCommand(opts);
    });
}

/** `serve`: the app in the browser. */
function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the app in the browser on 127.0.0.1 (the printed URL carries an access token)')
    .option('--db <file>', 'database file (default: in the app-data folder)')
    // The default's description replaces commander's "(default: 0)", which came second.
    .addOption(new Option('--port <N>', 'port').argParser(intArg(0, 65535)).default(0, 'a free one'))
    .option('--demo', 'add the built-in demo images as a library if the database has none')
    .action(async (opts: { db?: string; port: number; demo?: boolean }) => {
      const { serveCommand } = await import('./serve.js');
      await serveCommand(opts);
    });
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  exitCode = 0;
  const engineBefore = process.env.CONSTELLATE_ENGINE;
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return e.exitCode ?? 1;
    // Store errors carry a message written for the user (what happened, what to do).
    const userMessage = (err as { userMessage?: string }).userMessage;
    console.error(`constellate: ${userMessage ?? e.message ?? String(err)}`);
    return 1;
  } finally {
    // `--engine` is for this command: a caller running several (tests) gets its environment back.
    if (engineBefore === undefined) delete process.env.CONSTELLATE_ENGINE;
    else process.env.CONSTELLATE_ENGINE = engineBefore;
  }
}
