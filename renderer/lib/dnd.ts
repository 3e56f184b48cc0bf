/**
 * Dragging images onto a group (its card, or a chip of the drop bar that shows while dragging):
 * the dragged image ids travel in the drag's data under IMAGES_MIME.
 */
export const IMAGES_MIME = 'application/x-constellate-images';

interface DataTransferLike {
  setData(type: string, data: string): void;
  getData(type: string): string;
  readonly types: ReadonlyArray<string>;
  effectAllowed: string;
}

export function setDraggedImages(dt: DataTransferLike | null, ids: readonly number[], label: string): void {
  if (!dt) return;
  dt.setData(IMAGES_MIME, JSON.stringify(ids));
  dt.setData('text/plain', label);
  dt.effectAllowed = 'move';
}

/** The image ids being dragged, or null when the drag holds none (files, text). */
export function draggedImages(dt: DataTransferLike | null): number[] | null {
  if (!dt || !dt.types.includes(IMAGES_MIME)) return null;
  try {
    const ids = JSON.parse(dt.getData(IMAGES_MIME)) as unknown;
    return Array.isArray(ids) && ids.every((x) => Number.isInteger(x) && x > 0) ? (ids as number[]) : [];
  } catch {
    return [];
  }
}

/** Whether a drag carries images (during dragover the data itself cannot be read, only its types). */
export const carriesImages = (dt: DataTransferLike | null): boolean => !!dt && dt.types.includes(IMAGES_MIME);
