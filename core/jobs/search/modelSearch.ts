/**
 * Text search and suggested names over the current grouping's model: what the API and the
 * CLI call. Both need a CLIP-like model (a text tower); with the bundled MobileNetV2, or an
 * image-only model such as DINOv2, search stays as it is (by name) and groups keep "Group N".
 */
import { BACKBONE } from '../../embed/backboneInfo.js';
import type { ModelWorkerClient } from '../../embed/models/modelClient.js';
import type { ModelRegistry } from '../../embed/models/registry.js';
import type { ModelSpec } from '../../embed/models/spec.js';
import { NAME_VOCABULARY } from '../../embed/models/vocabulary.js';
import type { Store } from '../../store/index.js';
import { getUnsortedThreshold } from '../../store/unsorted.js';
import type { ActiveModel } from '../grouping/activeModel.js';
import { groupingModelId } from '../grouping/groupingModel.js';
import { suggestNames, type NameSuggestion } from './naming.js';
import type { Ranked } from '../grouping/textRows.js';

/** Where the image embeddings are: the model worker (ActiveModel), never the main thread. */
export type EmbeddingRows = Pick<ActiveModel, 'rankByVector' | 'unitMeans'>;

export interface SearchDeps {
  store: Store;
  registry: ModelRegistry;
  /** Encodes the query (the ONNX model worker). */
  client: ModelWorkerClient;
  rows: EmbeddingRows;
}

/** Text search is not possible here; the message says why and what would make it possible. */
export class TextSearchUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextSearchUnavailableError';
  }
}

/** The grouping's model when it has a text tower; else null with the reason. */
export function textModel(deps: Pick<SearchDeps, 'store' | 'registry'>): { spec: ModelSpec } | { spec: null; reason: string } {
  const id = groupingModelId(deps.store);
  if (deps.store.runs.activeRunId() === null) return { spec: null, reason: 'nothing is grouped yet' };
  if (id === BACKBONE.id)
    return { spec: null, reason: 'the built-in MobileNetV2 has no text encoder: text search needs a CLIP-like model (Libraries > Models)' };
  const spec = deps.registry.get(id)?.spec ?? null;
  if (!spec) return { spec: null, reason: `the grouping's model ${id} is no longer registered` };
  if (!spec.text)
    return { spec: null, reason: `${spec.name} is an image-only model: text search needs a CLIP-like model with a text encoder` };
  return { spec };
}

export async function searchByText(
  deps: SearchDeps,
  text: string,
  options: { limit: number; allowed?: ReadonlySet<number> },
): Promise<{ modelId: string; results: Ranked[] }> {
  const m = textModel(deps);
  if (!m.spec) throw new TextSearchUnavailableError(`no text search: ${m.reason}`);
  const query = await deps.client.encodeText(m.spec, [text]);
  return { modelId: m.spec.id, results: await deps.rows.rankByVector(m.spec.id, query, options) };
}

/** A suggested name for each group the user has not named (none without a text tower). */
export async function groupNameSuggestions(deps: Pick<SearchDeps, 'store' | 'registry' | 'rows'>): Promise<{
  modelId: string | null;
  suggestions: NameSuggestion[];
}> {
  const m = textModel(deps);
  if (!m.spec) return { modelId: null, suggestions: [] };
  const names = deps.registry.nameVectors(m.spec.id);
  if (!names) return { modelId: m.spec.id, suggestions: [] };
  const threshold = getUnsortedThreshold(deps.store.db);
  const all = deps.store.browse.groupSummaries({ typical: 0, threshold });
  const inUse = new Set(all.filter((g) => g.userNamed).map((g) => g.name.toLowerCase()));
  const unnamed = all.filter((g) => !g.userNamed);
  const means = await deps.rows.unitMeans(
    m.spec.id,
    unnamed.map((g) => deps.store.browse.groupImageIds(g.id)),
  );
  const groups = unnamed.flatMap((g, i) => {
    const mean = means[i];
    return mean ? [{ groupId: g.id, mean }] : [];
  });
  return { modelId: m.spec.id, suggestions: suggestNames(groups, names, NAME_VOCABULARY, inUse) };
}
