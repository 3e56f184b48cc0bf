/** Store rows as the contract's shapes (dates as ISO text, the image's shown group). */
import type { ImageSummary, Library } from '../shared/contract.js';
import type { GroupImage, ImageDetail, Store } from '../store/index.js';
import { formatTakenAt } from '../images/metadata.js';
import { notFound } from './context.js';

/** An EXIF date as the camera recorded it (wall clock, its zone where known); see ImageSummary.takenAt. */
export const takenIso = (ms: number | null, offset: number | null): string | null => (ms === null ? null : formatTakenAt(ms, offset));

/** An image row of a group or of Unsorted; `groupId`: where it is shown (null: Unsorted). */
export function toImageSummary(
  r: GroupImage | (Omit<GroupImage, 'confidence' | 'pinned'> & { confidence: number | null; pinned?: boolean }),
  groupId: number | null,
): ImageSummary {
  return {
    id: r.id,
    name: r.name,
    groupId,
    confidence: r.confidence,
    pinned: r.pinned ?? false,
    width: r.displayWidth,
    height: r.displayHeight,
    takenAt: takenIso(r.takenAt, r.takenOffset ?? null),
    fileTime: new Date(r.mtimeMs).toISOString(),
  };
}

/** A neighbour of an image: in the group of its assignment, threshold aside. */
export function neighbourSummary(n: ImageDetail): ImageSummary {
  return {
    id: n.id,
    name: n.name,
    groupId: n.assignment?.groupId ?? null,
    confidence: n.assignment?.confidence ?? null,
    pinned: n.assignment?.pinned ?? false,
    width: n.displayWidth,
    height: n.displayHeight,
    takenAt: takenIso(n.takenAt, n.takenOffset),
    fileTime: new Date(n.mtimeMs).toISOString(),
  };
}

export function libraryView(store: Store, id: number): Library {
  const l = store.libraries.get(id) ?? notFound(`library ${id}`);
  const c = store.images.countsByStatus({ libraryId: id });
  return {
    id: l.id,
    path: l.rootPath,
    addedAt: new Date(l.addedAt).toISOString(),
    imageCount: c.ok + c.pending,
    skippedCount: c.skipped,
    missingCount: c.missing,
    watch: l.watch !== 0,
  };
}
