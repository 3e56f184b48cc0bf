/**
 * What a transport (the HTTP server, Electron's IPC + protocol) needs from the core: the
 * validated method handlers, a way to resolve media by image id, and the event stream.
 * `core/api/service.ts` builds one from a database; tests may build one over a temp database.
 */
import type { ApiEvent, ApiHandlers, MethodName } from '../shared/contract.js';
import { methods } from '../shared/contract.js';
import { ApiError } from '../shared/client.js';
import {
  DatabaseBusyError,
  DatabaseInsidePhotoFolderError,
  LibraryOverlapError,
  StaleEditError,
  StoreError,
  StoreNotFoundError,
  StoreUsageError,
} from '../store/errors.js';

export type MediaKind = 'thumbnail' | 'image';

export interface ApiHost {
  handlers: ApiHandlers;
  /**
   * Absolute path of the file to serve for an image id, or null when the id is unknown, its
   * library is not registered, or (for thumbnails) none was made. Never a renderer-supplied path.
   */
  mediaFile(kind: MediaKind, imageId: number): string | null;
  /**
   * The file to show for the `image` media kind: mediaFile's original where browsers display its
   * format, else a converted copy (TIFF: see core/images/preview.ts); null where mediaFile is
   * null or the original cannot be converted. mediaFile stays the original (Open, Show in
   * folder). A host without it (a test double serving JPEGs) has its originals served as they are.
   */
  previewFile?(imageId: number): Promise<string | null>;
  /** Subscribe to events; returns an unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
  close(): Promise<void>;
}

/**
 * Validates `input` against the method's schema and runs it. Every transport goes through
 * here, so validation cannot be skipped by one of them.
 */
export async function dispatch(host: ApiHost, method: string, input: unknown): Promise<unknown> {
  if (!Object.prototype.hasOwnProperty.call(methods, method)) {
    throw new ApiError('not-found', `unknown method "${method}"`);
  }
  const name = method as MethodName;
  const parsed = methods[name].safeParse(input ?? {});
  if (!parsed.success) {
    // A custom issue's message is written for the user ("A group needs a name"); zod's own
    // messages need the field they are about.
    const text = (i: (typeof parsed.error.issues)[number]) =>
      i.code === 'custom' ? i.message : `${i.path.join('.') || 'input'}: ${i.message}`;
    throw new ApiError('invalid-input', parsed.error.issues.map(text).join('; '));
  }
  const handler = host.handlers[name] as (i: unknown) => Promise<unknown>;
  try {
    return await handler(parsed.data);
  } catch (err) {
    // A store error leaves as what it means to the caller (see storeErrorCode).
    if (err instanceof StoreError) throw new ApiError(storeErrorCode(err), err.userMessage);
    throw err;
  }
}

/**
 * The wire code of a store error: what it means to the caller (a group another edit removed is
 * not found, an edit worked out before another changed its group is a conflict, a refused
 * folder is the caller's input), with the message the store wrote for the user. The rest
 * (disk full, read-only, damaged) are the server's trouble, still said for the user.
 */
function storeErrorCode(err: StoreError): ApiError['code'] {
  if (err instanceof StaleEditError || err instanceof LibraryOverlapError) return 'conflict';
  if (err instanceof StoreNotFoundError) return 'not-found';
  if (err instanceof DatabaseBusyError) return 'busy';
  if (err instanceof StoreUsageError || err instanceof DatabaseInsidePhotoFolderError) return 'invalid-input';
  return 'internal';
}

/** Maps any thrown value to the wire error body. */
export function toErrorBody(err: unknown): { error: { code: ApiError['code']; message: string } } {
  if (err instanceof ApiError) return { error: { code: err.code, message: err.message } };
  // Thrown outside dispatch (opening media, a desktop action): as dispatch would have it.
  if (err instanceof StoreError) return { error: { code: storeErrorCode(err), message: err.userMessage } };
  const message = err instanceof Error ? err.message : String(err);
  return { error: { code: 'internal', message } };
}
