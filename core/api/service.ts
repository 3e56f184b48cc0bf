/**
 * The core service: implements the API contract over the store and the job runner. Served
 * by the HTTP server (browser mode, CLI `serve`, tests) and by Electron's IPC alike.
 * Thin like Immich's controllers: validation happens in `dispatch`, the work in repositories
 * and jobs.
 */
import { EventEmitter } from 'node:events';
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type {
  ApiEvent,
  ApiHandlers,
  GroupSummary,
  HistoryState,
  ImageSummary,
  JobState,
  Library,
} from './contract.js';
import { EXPORT_LIST_LIMIT } from './contract.js';
import { ApiError } from './client.js';
import type { ApiHost, MediaKind } from './host.js';
import { packageVersion } from '../cli/paths.js';
import { BACKBONE } from '../embed/backboneInfo.js';
import { deviceOf } from '../embed/backendNames.js';
import { PREVIEW_DIR_NAME, previewFile } from '../images/preview.js';
import { ActiveModel } from '../jobs/activeModel.js';
import { placeNewImages } from '../jobs/assignNew.js';
import { runClusterJob } from '../jobs/clusterJob.js';
import { exportRecords, listedAtMost } from '../jobs/export.js';
import { exportRecordsFromStore } from '../jobs/exportRecords.js';
import { placeOnMap } from '../jobs/mapPlacement.js';
import { absoluteExportPath, ExportDestinationError } from '../jobs/exportTarget.js';
import { decodeSkip } from '../jobs/indexLibrary.js';
import { JobRunner } from '../jobs/jobRunner.js';
import { decodeRunModel } from '../jobs/runModel.js';
import { getUnsortedThreshold, setUnsortedThreshold } from '../jobs/settings.js';
import { trainInWorker } from '../jobs/train.js';
import { BrowseRepository } from '../store/browse.js';
import { LibraryOverlapError, thumbnailDir, type GroupImage, type Store } from '../store/index.js';

export interface ServiceOptions {
  store: Store;
  /** Worker threads for decode+embed (default: one per core). */
  workers?: number;
}

function notFound(what: string): never {
  throw new ApiError('not-found', `${what} not found`);
}

function toImageSummary(r: GroupImage | (Omit<GroupImage, 'confidence' | 'pinned'> & { confidence: number | null; pinned?: boolean }), groupId: number | null): ImageSummary {
  return {
    id: r.id,
    name: r.name,
    groupId,
    confidence: r.confidence,
    pinned: r.pinned ?? false,
    width: r.displayWidth,
    height: r.displayHeight,
    takenAt: r.takenAt === null ? null : new Date(r.takenAt).toISOString(),
  };
}

export function createService(options: ServiceOptions): ApiHost & Required<Pick<ApiHost, 'previewFile'>> {
  const { store } = options;
  const events = new EventEmitter();
  const emit = (e: ApiEvent) => events.emit('event', e);
  const active = new ActiveModel(store);
  const browse = new BrowseRepository(store.db);
  /**
   * Where getMap put the images placed after the run's map was made, with the group each was
   * placed by: the search costs new images x group size x dim, and the map is fetched after
   * every edit. Kept until the image's group changes or a job ends (new images, a new map).
   */
  let placedOnMap: { runId: number; at: Map<number, { group: number | null; xy: [number, number] }> } | null = null;
  const jobs = new JobRunner((job) => {
    if (job.status !== 'running') {
      active.invalidate();
      placedOnMap = null;
      emit({ type: 'changed', what: 'groups' });
      emit({ type: 'changed', what: 'libraries' });
    }
    emit({ type: 'job', job });
  });
  let lastBackend: { choice: string; device: string } | null = null;

  const history = (): HistoryState => {
    const u = store.edits.nextUndo();
    const r = store.edits.nextRedo();
    return { canUndo: u !== null, canRedo: r !== null, undoId: u?.id ?? null, undoLabel: u?.label ?? null, redoLabel: r?.label ?? null };
  };
  const edited = <T extends object>(value: T): T & HistoryState => {
    emit({ type: 'changed', what: 'groups' });
    emit({ type: 'changed', what: 'history' });
    return { ...value, ...history() };
  };
  const requireRun = (): number => store.runs.activeRunId() ?? notFound('a grouping (run "Scan and cluster" first)');
  const threshold = () => getUnsortedThreshold(store.db);
  // Names tell groups apart in Move menus and become export folders (case-insensitive on macOS
  // and Windows): two groups with images never share one, whatever the case.
  /** The names of the groups with images, lower-cased, but those of `except`: name -> as written. */
  const namesInUse = (except: readonly number[] = []) =>
    new Map(store.groups.listSummaries({ typical: 0 }).filter((g) => !except.includes(g.id)).map((g) => [g.name.toLowerCase(), g.name]));
  const requireFreeName = (name: string, except: readonly number[], hint: string): void => {
    const taken = namesInUse(except).get(name.toLowerCase());
    if (taken !== undefined) throw new ApiError('invalid-input', `A group is already called “${taken}”: ${hint}`);
  };
  /** Names for the new parts of a split of `base`: "base (2)", "base (3)", … skipping names in use. */
  const partNames = (base: string, count: number): string[] => {
    const used = namesInUse();
    const out: string[] = [];
    for (let n = 2; out.length < count; n++) if (!used.has(`${base} (${n})`.toLowerCase())) out.push(`${base} (${n})`);
    return out;
  };
  const libraryView = (id: number): Library => {
    const l = store.libraries.get(id) ?? notFound(`library ${id}`);
    const c = store.images.countsByStatus({ libraryId: id });
    return { id: l.id, path: l.rootPath, addedAt: new Date(l.addedAt).toISOString(), imageCount: c.ok + c.pending, skippedCount: c.skipped, missingCount: c.missing };
  };
  const startCluster = (kind: 'cluster' | 'recluster', input: { libraryIds?: number[]; groups?: number | null; seed?: number }): JobState => {
    if (jobs.busy) throw new ApiError('busy', 'a job is already running');
    return jobs.start(kind, async (signal, update) => {
      const summary = await runClusterJob({
        store,
        index: kind === 'cluster',
        libraryIds: input.libraryIds,
        k: input.groups ?? null,
        seed: input.seed ?? 0,
        workers: options.workers,
        signal,
        onProgress: (phases, phase) => update({ phases, phase }),
      });
      if (summary.backend.choice !== 'none') lastBackend = summary.backend;
      return { summary };
    });
  };

  const handlers: ApiHandlers = {
    async getStatus() {
      const run = store.runs.activeRun();
      return {
        version: packageVersion(),
        dbPath: store.db.file,
        // before this process has run a job: the backend of the run on screen, and its device
        backend: lastBackend ?? (run?.backend ? { choice: run.backend, device: typeof run.params.device === 'string' ? run.params.device : deviceOf(run.backend) } : null),
        job: jobs.state,
        unsortedThreshold: threshold(),
        hasRun: run !== null,
      };
    },
    async listLibraries() {
      return store.libraries.list().map((l) => libraryView(l.id));
    },
    async addLibrary({ path: p }) {
      const abs = path.resolve(p);
      if (!statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new ApiError('invalid-input', `not a folder: ${p}`);
      let lib;
      try {
        lib = store.libraries.add(realpathSync(abs));
      } catch (err) {
        // Inside a library or holding one: the message names them and says what to do.
        if (err instanceof LibraryOverlapError) throw new ApiError('conflict', err.userMessage);
        throw err;
      }
      emit({ type: 'changed', what: 'libraries' });
      return libraryView(lib.id);
    },
    async removeLibrary({ id }) {
      if (jobs.busy) throw new ApiError('busy', 'wait for the running job to finish');
      store.libraries.remove(id);
      active.invalidate();
      emit({ type: 'changed', what: 'libraries' });
      emit({ type: 'changed', what: 'groups' });
      return { ok: true };
    },
    async startClustering(input) {
      return startCluster('cluster', input);
    },
    async recluster(input) {
      requireRun();
      return startCluster('recluster', input);
    },
    async placeNewImages() {
      requireRun();
      if (jobs.busy) throw new ApiError('busy', 'a job is already running');
      return jobs.start('place', async (signal, update) => {
        const placed = await placeNewImages({ store, workers: options.workers, signal, onProgress: (phases, phase) => update({ phases, phase }) });
        return { placed };
      });
    },
    async cancelJob({ jobId }) {
      return { ok: jobs.cancel(jobId) };
    },
    async getJob() {
      return jobs.state;
    },
    async listSkipped({ offset, limit }) {
      const rows = store.images.listSkipped({ limit: offset + limit });
      const total = store.images.countsByStatus().skipped;
      return {
        total,
        items: rows.slice(offset).map((r) => ({ imageId: r.id, path: r.absPath, ...decodeSkip(r.skipReason) })),
      };
    },
    async listMissing({ offset, limit }) {
      const rows = store.images.listMissing({ limit: offset + limit });
      return {
        total: store.images.countsByStatus().missing,
        items: rows.slice(offset).map((r) => ({
          imageId: r.id,
          path: r.absPath,
          missingSince: r.missingSince === null ? null : new Date(r.missingSince).toISOString(),
        })),
      };
    },
    async listGroups({ sort, search }) {
      if (store.runs.activeRunId() === null) return { groups: [], unsortedCount: 0, ungroupedCount: 0, unsortedThreshold: threshold() };
      const t = threshold();
      const rows = browse.groupSummaries({ typical: 4, threshold: t, sort: sort === 'name' ? 'name' : 'size', query: search || undefined });
      const groups: GroupSummary[] = rows.map((g) => ({
        id: g.id,
        name: g.name,
        userNamed: g.userNamed,
        color: g.color,
        count: g.count,
        meanConfidence: g.meanConfidence ?? 0,
        typicalImageIds: g.typicalImageIds,
      }));
      if (sort === 'confidence') groups.sort((a, b) => a.meanConfidence - b.meanConfidence); // least certain first
      return { groups, unsortedCount: browse.countUnsorted({ threshold: t }), ungroupedCount: browse.countUngrouped(), unsortedThreshold: t };
    },
    async listGroupImages({ groupId, sort, offset, limit }) {
      const t = threshold();
      if (groupId === 'unsorted') {
        const page = browse.unsortedImages({ threshold: t, sort, offset, limit });
        return { total: page.total, items: page.items.map((r) => toImageSummary(r, r.groupId)) };
      }
      if (!store.groups.get(groupId)) notFound(`group ${groupId}`);
      const page = browse.groupImages(groupId, { sort, offset, limit, threshold: t });
      return { total: page.total, items: page.items.map((r) => toImageSummary(r, groupId)) };
    },
    async locateImage({ groupId, imageId, sort }) {
      const t = threshold();
      if (groupId === 'unsorted') return browse.unsortedImageIndex(imageId, { threshold: t, sort });
      if (!store.groups.get(groupId)) notFound(`group ${groupId}`);
      return browse.groupImageIndex(groupId, imageId, { threshold: t, sort });
    },
    async getImage({ id }) {
      const d = store.images.detail(id) ?? notFound(`image ${id}`);
      const groupNames = new Map(store.groups.list().map((g) => [g.id, g.name]));
      const a = d.assignment;
      const below = a !== null && !a.pinned && a.confidence < threshold();
      const groupId = a && !below ? a.groupId : null;
      const neighbourIds = await active.neighbours(id, 12);
      const neighbours = neighbourIds.map((nid) => store.images.detail(nid)).filter((x) => x !== null).map((n) => ({
        id: n.id,
        name: n.name,
        groupId: n.assignment?.groupId ?? null,
        confidence: n.assignment?.confidence ?? null,
        pinned: n.assignment?.pinned ?? false,
        width: n.displayWidth,
        height: n.displayHeight,
        takenAt: n.takenAt === null ? null : new Date(n.takenAt).toISOString(),
      }));
      const suggestions = (await active.suggestions(id)).map((s) => ({ ...s, name: groupNames.get(s.groupId) ?? '' }));
      return {
        id: d.id,
        name: d.name,
        path: d.absPath,
        size: d.size,
        mtime: new Date(d.mtimeMs).toISOString(),
        width: d.displayWidth,
        height: d.displayHeight,
        takenAt: d.takenAt === null ? null : new Date(d.takenAt).toISOString(),
        camera: d.camera,
        groupId,
        groupName: groupId === null ? null : (groupNames.get(groupId) ?? null),
        confidence: a?.confidence ?? null,
        pinned: a?.pinned ?? false,
        neighbours,
        suggestions,
      };
    },
    async getMap() {
      const runId = requireRun();
      const blob = store.runs.loadModel(runId);
      const art = blob ? decodeRunModel(blob) : null;
      if (!art?.map) return { imageIds: [], xy: [], groupIds: [] };
      const map = { imageIds: art.imageIds, xy: art.map };
      const t = threshold();
      const groupOf = new Map<number, number | null>();
      const assigned = new Map<number, number | null>();
      for (const a of store.groups.listAssignments(runId)) {
        groupOf.set(a.imageId, a.groupId !== null && (a.pinned || a.confidence >= t) ? a.groupId : null);
        assigned.set(a.imageId, a.groupId);
      }
      const imageIds: number[] = [];
      const xy: number[] = [];
      const groupIds: Array<number | null> = [];
      const mapped = new Set<number>();
      map.imageIds.forEach((id, i) => {
        mapped.add(id);
        if (!groupOf.has(id)) return; // removed or missing since the run
        imageIds.push(id);
        xy.push(map.xy[2 * i]!, map.xy[2 * i + 1]!);
        groupIds.push(groupOf.get(id) ?? null);
      });
      // Images placed since the map was made (a rescan, an added folder): beside their most similar mapped image.
      if (placedOnMap?.runId !== runId) placedOnMap = { runId, at: new Map() };
      const cache = placedOnMap.at;
      const newIds = [...groupOf.keys()].filter((id) => !mapped.has(id));
      const todo = newIds.filter((id) => cache.get(id)?.group !== (assigned.get(id) ?? null));
      const features = todo.length > 0 ? await active.get() : null;
      if (features) {
        const placed = placeOnMap({ mapIds: map.imageIds, mapXy: map.xy, unit: features.unit, dim: features.dim, rowOf: features.rowOf, newIds: todo, groupOf: assigned });
        for (const [id, at] of placed) cache.set(id, { group: assigned.get(id) ?? null, xy: at });
      }
      for (const id of newIds) {
        const c = cache.get(id);
        if (!c) continue;
        imageIds.push(id);
        xy.push(c.xy[0], c.xy[1]);
        groupIds.push(groupOf.get(id) ?? null);
      }
      return { imageIds, xy, groupIds };
    },
    async reviewQueue({ limit }) {
      requireRun();
      const page = browse.leastCertain({ limit });
      const groupNames = new Map(store.groups.list().map((g) => [g.id, g.name]));
      const sugg = await active.suggestionsMany(page.map((r) => r.id), 9);
      const t = threshold();
      return {
        items: page.map((r) => ({
          // below the threshold the image is in Unsorted, here as on every other screen
          ...toImageSummary(r, r.confidence < t ? null : r.groupId),
          assignedGroupId: r.groupId,
          suggestions: (sugg.get(r.id) ?? []).map((s) => ({ ...s, name: groupNames.get(s.groupId) ?? '' })),
        })),
      };
    },
    async setUnsortedThreshold({ threshold: t }) {
      setUnsortedThreshold(store.db, t);
      emit({ type: 'changed', what: 'groups' });
      return { ok: true };
    },
    async renameGroup({ groupId, name }) {
      if (!store.groups.get(groupId)) notFound(`group ${groupId}`);
      requireFreeName(name, [groupId], 'to put them together, select both and Merge');
      store.edits.renameGroup(groupId, name);
      return edited({});
    },
    async mergeGroups({ groupIds, name }) {
      for (const g of groupIds) if (!store.groups.get(g)) notFound(`group ${g}`);
      if (name !== undefined) requireFreeName(name, groupIds, 'choose another name for the merged group');
      const [target, ...sources] = groupIds;
      store.edits.mergeGroups(target!, sources, { name });
      return edited({ groupId: target! });
    },
    async splitGroup({ groupId, parts }) {
      const group = store.groups.get(groupId) ?? notFound(`group ${groupId}`);
      const members = browse.groupImageIds(groupId);
      if (members.length < parts) throw new ApiError('invalid-input', `a group of ${members.length} images cannot be split into ${parts}`);
      const m = store.embeddings.loadAll(BACKBONE.id, { imageIds: members });
      if (m.count < parts) throw new ApiError('invalid-input', 'not enough embedded images in this group to split it');
      // Re-cluster just this group's images with I-Con into `parts` groups (off the main thread).
      const { result } = await trainInWorker(
        { features: m.vectors, views: null, n: m.count, d: m.dim, k: parts, seed: 0, pins: [], start: null, map: false, minK: parts, graph: null },
        null,
      );
      const byPart = Array.from({ length: parts }, () => [] as Array<{ imageId: number; confidence: number }>);
      m.imageIds.forEach((id, i) => byPart[result.labels[i]!]!.push({ imageId: id, confidence: result.confidence[i]! }));
      const nonEmpty = byPart.filter((p) => p.length > 0);
      if (nonEmpty.length < 2) throw new ApiError('invalid-input', `the ${m.count} images in this group look the same to the model: there is nothing to split them by`);
      const names = partNames(group.name || 'Group', nonEmpty.length - 1);
      const res = store.edits.splitGroup(
        groupId,
        nonEmpty.map((images, i) => ({ name: i === 0 ? undefined : names[i - 1], images })),
      );
      return edited({ groupIds: res.groupIds });
    },
    async moveImages({ imageIds, to }) {
      requireRun();
      if ('groupId' in to) {
        if (!store.groups.get(to.groupId)) notFound(`group ${to.groupId}`);
        store.edits.moveImages(imageIds, to.groupId);
        return edited({ groupId: to.groupId });
      }
      requireFreeName(to.newGroupName, [], 'choose it in the list to move the images there');
      const r = store.edits.moveImagesToNewGroup(imageIds, to.newGroupName);
      return edited({ groupId: r.groupId });
    },
    async removeFromGroup({ imageIds }) {
      requireRun();
      store.edits.removeFromGroup(imageIds);
      return edited({});
    },
    async pinImages({ imageIds, pinned }) {
      requireRun();
      store.edits.pinImages(imageIds, pinned);
      return edited({});
    },
    async undo() {
      store.edits.undo();
      active.invalidate();
      return edited({});
    },
    async redo() {
      store.edits.redo();
      active.invalidate();
      return edited({});
    },
    async getHistory() {
      return history();
    },
    async exportGroups({ format, out, mode, dryRun }) {
      const records = exportRecordsFromStore(store);
      if (records.length === 0) throw new ApiError('conflict', 'nothing to export yet');
      try {
        // `~` is the home folder; a relative path would land in the server's working directory.
        const abs = absoluteExportPath(out, format === 'folders' ? '/home/me/Pictures/sorted' : `/home/me/groups.${format}`);
        const libraryRoots = store.libraries.list().map((l) => l.rootPath);
        return listedAtMost(await exportRecords(records, { format, out: abs, mode, dryRun, database: store.db.file, libraryRoots }), EXPORT_LIST_LIMIT);
      } catch (err) {
        if (err instanceof ExportDestinationError) throw new ApiError('invalid-input', err.message);
        throw err;
      }
    },
  };

  function mediaFile(kind: MediaKind, imageId: number): string | null {
    const d = store.images.detail(imageId);
    if (!d || d.status === 'missing') return null;
    // Only files of a registered library, found by id: never a path from the renderer.
    if (!store.libraries.get(d.libraryId)) return null;
    if (kind === 'image') return d.absPath;
    return d.thumbPath ? path.join(thumbnailDir(store.db.file), d.thumbPath) : null;
  }

  return {
    handlers,
    mediaFile,
    async previewFile(imageId: number): Promise<string | null> {
      const original = mediaFile('image', imageId);
      if (!original) return null;
      // Converted copies go beside the thumbnails, next to the database (never in a photo folder).
      const cacheDir = path.join(path.dirname(thumbnailDir(store.db.file)), PREVIEW_DIR_NAME);
      // Gone since the last scan, or unreadable, or not convertible: nothing to show, as for a missing file.
      return previewFile(original, cacheDir).catch(() => null);
    },
    onEvent(listener) {
      events.on('event', listener);
      return () => events.off('event', listener);
    },
    async close() {
      const job = jobs.state;
      if (job && job.status === 'running') jobs.cancel(job.id);
      await jobs.idle();
      events.removeAllListeners();
    },
  };
}

