/**
 * `constellate models add|list|remove|use|download`, `constellate search <text>` and
 * `constellate names`: the registered models (core/embed/models), switching a database to one,
 * and, with a CLIP-like model, text search and suggested group names.
 */
import { downloadModel, MODEL_CATALOG } from '../embed/models/download.js';
import { ModelWorkerClient } from '../embed/models/modelClient.js';
import { addModelFolder, describeModel, resolveModel } from '../embed/models/manage.js';
import { ModelRegistry } from '../embed/models/registry.js';
import { BACKBONE } from '../embed/backboneInfo.js';
import { ActiveModel } from '../jobs/grouping/activeModel.js';
import { runClusterJob } from '../jobs/grouping/clusterJob.js';
import { groupingModelId } from '../jobs/grouping/groupingModel.js';
import { getLibraryModelId, setLibraryModelId } from '../jobs/indexing/modelChoice.js';
import { groupNameSuggestions, searchByText } from '../jobs/search/modelSearch.js';
import { openSession } from '../app/session.js';
import { formatSummary } from './cluster.js';
import { stderrProgress } from './progressReporter.js';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

export async function modelsAddCommand(folder: string, opts: { json?: boolean }): Promise<void> {
  const registry = new ModelRegistry();
  const client = new ModelWorkerClient();
  try {
    const entry = await addModelFolder(folder, { registry, client });
    const d = describeModel(entry.spec);
    if (opts.json) console.log(JSON.stringify(d, null, 2));
    else {
      console.log(
        `Added ${d.id}: ${d.dim}-d image embeddings from ${d.input} images${d.text ? ', with a text encoder (text search and suggested names)' : ' (images only)'}`,
      );
      console.log(`Use it: constellate models use ${d.id} --db FILE (embeds every image again, then regroups)`);
    }
  } finally {
    await client.close();
  }
}

export function modelsListCommand(opts: { db?: string; json?: boolean }): void {
  const registry = new ModelRegistry();
  const rows = [describeModel(null), ...registry.list().map((r) => ({ ...describeModel(r.spec), missing: !ModelRegistry.present(r) }))];
  let current: string | null = null;
  if (opts.db) {
    const session = openSession(opts.db, { mustExist: true, readOnly: true });
    try {
      current = getLibraryModelId(session.store.db);
    } finally {
      session.close();
    }
  }
  if (opts.json) {
    console.log(JSON.stringify({ modelsDir: registry.dir, models: rows, libraryModel: current, catalog: MODEL_CATALOG }, null, 2));
    return;
  }
  for (const r of rows) {
    const mark = current === r.id ? '*' : ' ';
    const gone = 'missing' in r && r.missing ? '  (folder missing)' : '';
    console.log(
      `${mark} ${r.id.padEnd(40)} ${String(r.dim).padStart(5)}-d  ${r.text ? 'images+text' : 'images     '}  ${r.folder ?? 'built in'}${gone}`,
    );
  }
  console.log(`Registry: ${registry.dir}`);
  console.log('Known models to download (constellate models download <id>):');
  for (const e of MODEL_CATALOG) console.log(`  ${e.id.padEnd(24)} ${e.name}, about ${mb(e.approxBytes)}, ${e.licence}: ${e.about}`);
}

export function modelsRemoveCommand(id: string): void {
  const registry = new ModelRegistry();
  if (id === BACKBONE.id) throw new Error('the built-in model cannot be removed');
  if (!registry.remove(id)) throw new Error(`no model "${id}" is registered`);
  console.log(`Removed ${id} (embeddings made with it stay in each database until the images are embedded again)`);
}

export async function modelsUseCommand(
  id: string,
  opts: { db?: string; groups?: number; workers?: number; json?: boolean },
): Promise<void> {
  const model = resolveModel(new ModelRegistry(), id);
  const session = openSession(opts.db);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    setLibraryModelId(session.store.db, model?.id ?? BACKBONE.id);
    console.error(
      `constellate: ${session.dbPath} now embeds with ${model?.id ?? BACKBONE.id}; embedding and regrouping (Ctrl-C stops; run again to resume)`,
    );
    const summary = await runClusterJob({
      store: session.store,
      model,
      k: opts.groups ?? null,
      workers: opts.workers,
      signal: controller.signal,
      onProgress: stderrProgress(),
    });
    process.stderr.write('\n');
    console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  } finally {
    process.off('SIGINT', onSignal);
    session.close();
  }
}

export async function modelsDownloadCommand(catalogId: string, opts: { json?: boolean }): Promise<void> {
  const entry = MODEL_CATALOG.find((e) => e.id === catalogId);
  if (!entry) throw new Error(`no model "${catalogId}" to download: one of ${MODEL_CATALOG.map((e) => e.id).join(', ')}`);
  const registry = new ModelRegistry();
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const client = new ModelWorkerClient();
  try {
    console.error(`constellate: downloading ${entry.name} (about ${mb(entry.approxBytes)}, licence ${entry.licence}) into ${registry.dir}`);
    const folder = await downloadModel(entry, {
      modelsDir: registry.dir,
      signal: controller.signal,
      onProgress: (p) => process.stderr.write(`\r${p.file}: ${mb(p.done)} of ${mb(p.total)}   `),
    });
    process.stderr.write('\n');
    const added = await addModelFolder(folder, { registry, client, source: { kind: 'download', catalogId } });
    console.log(opts.json ? JSON.stringify(describeModel(added.spec), null, 2) : `Added ${added.spec.id} from ${folder}`);
  } finally {
    process.off('SIGINT', onSignal);
    await client.close();
  }
}

export async function searchCommand(text: string, opts: { db?: string; limit: number; json?: boolean }): Promise<void> {
  const session = openSession(opts.db, { mustExist: true, readOnly: true });
  const client = new ModelWorkerClient();
  const active = new ActiveModel(session.store);
  try {
    const { store } = session;
    const { modelId, results } = await searchByText({ store, registry: new ModelRegistry(), client, rows: active }, text, {
      limit: opts.limit,
    });
    const rows = results.map((r) => ({ ...r, path: store.images.detail(r.imageId)?.absPath ?? null }));
    if (opts.json) console.log(JSON.stringify({ model: modelId, results: rows }, null, 2));
    else for (const r of rows) console.log(`${r.score.toFixed(4)}  ${r.path}`);
  } finally {
    await Promise.all([client.close(), active.close()]);
    session.close();
  }
}

export async function namesCommand(opts: { db?: string; json?: boolean }): Promise<void> {
  const session = openSession(opts.db, { mustExist: true, readOnly: true });
  const rows = new ActiveModel(session.store);
  try {
    const { store } = session;
    const { modelId, suggestions } = await groupNameSuggestions({ store, registry: new ModelRegistry(), rows });
    const current = new Map(store.groups.list().map((g) => [g.id, g.name]));
    if (opts.json) {
      console.log(
        JSON.stringify(
          { model: modelId, suggestions: suggestions.map((s) => ({ ...s, current: current.get(s.groupId) ?? null })) },
          null,
          2,
        ),
      );
      return;
    }
    if (modelId === null) {
      console.log(
        `No suggested names: the grouping's model (${store.runs.activeRunId() === null ? 'none yet' : groupingModelId(store)}) has no text encoder; a CLIP-like model does (constellate models).`,
      );
      return;
    }
    for (const s of suggestions)
      console.log(
        `${(current.get(s.groupId) ?? '').padEnd(24)} -> ${s.name.padEnd(24)} (cosine ${s.score.toFixed(3)}, ${s.margin.toFixed(3)} ahead of the next label)`,
      );
  } finally {
    await rows.close();
    session.close();
  }
}
