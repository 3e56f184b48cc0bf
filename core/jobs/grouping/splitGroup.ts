/**
 * Splitting one group: I-Con trained afresh on the group's images alone, into `parts` groups,
 * in a worker thread (the UI and the server stay responsive).
 */
import type { Store } from '../../store/index.js';
import { groupingModelId } from './groupingModel.js';
import { trainInWorker } from './train.js';

/** The group cannot be split as asked; the message is for the user. */
export class SplitRefusedError extends Error {}

export type SplitPartImages = Array<{ imageId: number; confidence: number }>;

/** The group's images in the parts the model found, the empty parts left out (at least two). */
export async function splitGroupImages(store: Store, groupId: number, parts: number): Promise<SplitPartImages[]> {
  const members = store.browse.groupImageIds(groupId);
  if (members.length < parts) throw new SplitRefusedError(`a group of ${members.length} images cannot be split into ${parts}`);
  // the worker reads the members' embeddings itself; here only which of them have one
  const modelId = groupingModelId(store);
  const embedded = new Set(store.embeddings.embeddedImageIds(modelId));
  const ids = Uint32Array.from(members.filter((id) => embedded.has(id)));
  if (ids.length < parts) throw new SplitRefusedError('not enough embedded images in this group to split it');
  const { result } = await trainInWorker(
    {
      source: { file: store.db.file, model: modelId, imageIds: ids, views: null },
      k: parts,
      seed: 0,
      pins: [],
      start: null,
      map: false,
      minK: parts,
      previousRunId: null,
    },
    null,
  );
  const byPart = Array.from({ length: parts }, (): SplitPartImages => []);
  ids.forEach((id, i) => byPart[result.labels[i]!]!.push({ imageId: id, confidence: result.confidence[i]! }));
  const nonEmpty = byPart.filter((p) => p.length > 0);
  if (nonEmpty.length < 2)
    throw new SplitRefusedError(`the ${ids.length} images in this group look the same to the model: there is nothing to split them by`);
  return nonEmpty;
}
