/**
 * An in-memory ApiHost for UI development, component tests and the UI benchmark: synthetic
 * images (thumbnails are real PNGs reused round-robin), groups, a 2-D map, undo/redo and a
 * fake clustering job with progress events. NOT the product: the real one is core/api/service.ts.
 */
import { EventEmitter } from 'node:events';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../core/shared/client.js';
import type {
  ApiEvent,
  ApiHandlers,
  GroupSuggestion,
  HistoryState,
  ImageSummary,
  JobState,
  Library,
  ParsedInput,
} from '../../core/shared/contract.js';
import type { ApiHost } from '../../core/api/host.js';

interface Img {
  id: number;
  name: string;
  group: number | null;
  conf: number;
  pinned: boolean;
  x: number;
  y: number;
  file: string;
  takenAt: string;
  probs: number[]; // per group index (for suggestions)
}
interface Grp {
  id: number;
  name: string;
  userNamed: boolean;
}

export interface FakeOptions {
  images: number;
  groups: number;
  /** Folder of real images used as thumbnails and previews (round-robin). */
  mediaDir: string;
  seed?: number;
  /** Start with a finished run (true) or empty (false: add a library to fill it). */
  populated?: boolean;
  /** Make one group hold this many images (benchmarks a huge group). */
  bigGroup?: number;
  /** Say this many of the unsorted images were indexed after the grouping (not grouped yet). */
  ungrouped?: number;
}

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(png|jpe?g|webp)$/i.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

export function createFakeHost(opts: FakeOptions): ApiHost & { images: Img[] } {
  const rand = rng(opts.seed ?? 7);
  const files = listImages(opts.mediaDir);
  const events = new EventEmitter();
  const emit = (e: ApiEvent) => events.emit('e', e);
  let threshold = 0.3;
  let groups: Grp[] = [];
  let images: Img[] = [];
  const libraries: Library[] = [];
  let job: JobState | null = null;
  let nextGroupId = 1;
  type Snap = { id: number; label: string; groups: Grp[]; images: Array<[number, number | null, number, boolean]> };
  let editSeq = 0;
  const undoStack: Snap[] = [];
  const redoStack: Snap[] = [];

  const snap = (label: string, id = ++editSeq): Snap => ({
    id,
    label,
    groups: groups.map((g) => ({ ...g })),
    images: images.map((i) => [i.id, i.group, i.conf, i.pinned]),
  });
  const restore = (s: Snap) => {
    groups = s.groups.map((g) => ({ ...g }));
    const byId = new Map(images.map((i) => [i.id, i]));
    for (const [id, g, c, p] of s.images) {
      const im = byId.get(id)!;
      im.group = g;
      im.conf = c;
      im.pinned = p;
    }
  };
  const history = (): HistoryState => ({
    canUndo: undoStack.length > 0,
    canRedo: redoStack.length > 0,
    undoId: undoStack.at(-1)?.id ?? null,
    undoLabel: undoStack.at(-1)?.label ?? null,
    redoLabel: redoStack.at(-1)?.label ?? null,
  });
  const edit = <T extends object>(label: string, fn: () => T): T & HistoryState => {
    undoStack.push(snap(label));
    redoStack.length = 0;
    const out = fn();
    emit({ type: 'changed', what: 'groups' });
    emit({ type: 'changed', what: 'history' });
    return { ...out, ...history() };
  };

  function generate(n: number, k: number) {
    groups = [];
    const centers: Array<[number, number]> = [];
    for (let g = 0; g < k; g++) {
      groups.push({ id: nextGroupId++, name: `Group ${g + 1}`, userNamed: false });
      const a = (g / k) * Math.PI * 2;
      centers.push([Math.cos(a) * 10 + rand() * 3, Math.sin(a) * 10 + rand() * 3]);
    }
    images = [];
    const t0 = Date.UTC(2020, 0, 1);
    for (let i = 0; i < n; i++) {
      const gi = opts.bigGroup && i < opts.bigGroup ? 0 : Math.floor(rand() * k);
      const [cx, cy] = centers[gi]!;
      const r = Math.sqrt(-2 * Math.log(rand() + 1e-9));
      const t = rand() * Math.PI * 2;
      const conf = Math.min(0.99, 0.15 + rand() * 0.85);
      const probs = Array.from({ length: k }, (_, j) => (j === gi ? conf : rand() * (1 - conf)));
      images.push({
        id: i + 1,
        name: `${path.basename(files[i % files.length] ?? 'img.png', path.extname(files[i % files.length] ?? '.png'))}_${i + 1}.png`,
        group: groups[gi]!.id,
        conf,
        pinned: false,
        x: cx + r * Math.cos(t) * 2.2,
        y: cy + r * Math.sin(t) * 2.2,
        file: files[i % files.length]!,
        takenAt: new Date(t0 + i * 3_600_000).toISOString(),
        probs,
      });
    }
  }
  if (opts.populated !== false) {
    generate(opts.images, opts.groups);
    libraries.push({
      id: 1,
      path: opts.mediaDir,
      addedAt: new Date().toISOString(),
      imageCount: opts.images,
      skippedCount: 2,
      missingCount: 0,
    });
  }

  const effectiveGroup = (i: Img): number | null => (i.group !== null && (i.pinned || i.conf >= threshold) ? i.group : null);
  const summary = (i: Img): ImageSummary => ({
    id: i.id,
    name: i.name,
    groupId: effectiveGroup(i),
    confidence: i.conf,
    pinned: i.pinned,
    width: 400,
    height: 300,
    takenAt: i.takenAt,
  });
  const suggestions = (i: Img): GroupSuggestion[] =>
    groups
      .map((g, j) => ({ groupId: g.id, name: g.name, probability: i.probs[j] ?? 0.01 }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, 9);
  const membersOf = (groupId: number | 'unsorted', sort: ParsedInput<'listGroupImages'>['sort']): Img[] => {
    const target = groupId === 'unsorted' ? null : groupId;
    const members = images.filter((i) => effectiveGroup(i) === target);
    if (sort === 'confidence-asc') members.sort((a, b) => a.conf - b.conf);
    else if (sort === 'confidence-desc') members.sort((a, b) => b.conf - a.conf);
    else if (sort === 'name') members.sort((a, b) => a.name.localeCompare(b.name));
    return members;
  };
  const byId = (id: number) =>
    images[id - 1] ??
    (() => {
      throw new ApiError('not-found', `image ${id} not found`);
    })();

  function runJob(kind: JobState['kind'], k: number) {
    const n = opts.images;
    const start = Date.now();
    const phases = (['scan', 'check', 'embed', 'train', 'write', 'map'] as const).map((name) => ({
      name,
      done: 0,
      total: name === 'train' ? 100 : n,
      rate: null,
      etaSeconds: null,
    }));
    job = { id: `job-${start}`, kind, status: 'running', phase: 'scan', phases, startedAt: new Date(start).toISOString() };
    let p = 0;
    const timer = setInterval(() => {
      if (!job || job.status !== 'running') return clearInterval(timer);
      const ph = job.phases[p]!;
      ph.done = Math.min(ph.total!, ph.done + Math.ceil(ph.total! / 6));
      const secs = (Date.now() - start) / 1000;
      ph.rate = ph.done / Math.max(0.1, secs);
      ph.etaSeconds = (ph.total! - ph.done) / Math.max(1, ph.rate);
      if (ph.done >= ph.total!) p++;
      if (p >= job.phases.length) {
        clearInterval(timer);
        generate(n, k);
        if (!libraries.length)
          libraries.push({
            id: 1,
            path: opts.mediaDir,
            addedAt: new Date().toISOString(),
            imageCount: n,
            skippedCount: 2,
            missingCount: 0,
          });
        job = {
          ...job,
          status: 'done',
          phase: null,
          summary: {
            runId: 1,
            images: n,
            skipped: { 'not-an-image': 2 },
            groups: groups.map((g) => ({ id: g.id, name: g.name, size: images.filter((i) => i.group === g.id).length })),
            unsorted: images.filter((i) => effectiveGroup(i) === null).length,
            secondsByPhase: {},
            backend: { choice: 'fake', device: 'cpu' },
            k,
            kChosenBy: 'user',
          },
        };
        emit({ type: 'job', job });
        emit({ type: 'changed', what: 'groups' });
        emit({ type: 'changed', what: 'libraries' });
        return;
      }
      job = { ...job, phase: job.phases[p]!.name, phases: job.phases.map((x) => ({ ...x })) };
      emit({ type: 'job', job });
    }, 120);
    return job;
  }

  const noModels = async (): Promise<never> => {
    throw new ApiError('invalid-input', 'the fake host has no models');
  };
  const handlers: ApiHandlers = {
    // Only the built-in model: no text search, no suggested names (test/e2e/models.test.ts covers them on the real service).
    async listModels() {
      return {
        models: [
          {
            id: 'builtin',
            name: 'MobileNetV2 x1.4 (ImageNet, built in)',
            dim: 1792,
            text: false,
            builtIn: true,
            folder: null,
            bytes: 0,
            input: '224 px',
            missing: false,
          },
        ],
        libraryModel: 'builtin',
        groupingModel: images.length ? 'builtin' : null,
        catalog: [],
        modelsDir: '(fake)',
        calibrationNote: '',
      };
    },
    addModel: noModels,
    removeModel: noModels,
    useModel: noModels,
    downloadModel: noModels,
    searchByText: noModels,
    async suggestGroupNames() {
      return { suggestions: [], model: null };
    },
    async getStatus() {
      return {
        version: '0.1.0-fake',
        dbPath: '(in memory: fake dev host)',
        backend: { choice: 'fake', device: 'cpu' },
        job,
        unsortedThreshold: threshold,
        hasRun: images.length > 0,
      };
    },
    async listLibraries() {
      return libraries;
    },
    async addLibrary({ path: p }) {
      const lib = { id: libraries.length + 1, path: p, addedAt: new Date().toISOString(), imageCount: 0, skippedCount: 0, missingCount: 0 };
      libraries.push(lib);
      emit({ type: 'changed', what: 'libraries' });
      return lib;
    },
    async removeLibrary({ id }) {
      const i = libraries.findIndex((l) => l.id === id);
      if (i < 0) throw new ApiError('not-found', 'library not found');
      libraries.splice(i, 1);
      return { ok: true };
    },
    async startClustering({ groups: k }) {
      if (job?.status === 'running') throw new ApiError('busy', 'a job is running');
      return runJob('cluster', k ?? opts.groups);
    },
    async recluster({ groups: k }) {
      undoStack.push(snap(`re-cluster into ${k}`));
      return runJob('recluster', k);
    },
    async placeNewImages() {
      // The fake library does not grow: placing new images finds nothing new and keeps every group.
      job = {
        id: `job-${Date.now()}`,
        kind: 'place-new',
        status: 'done',
        phase: null,
        phases: [],
        startedAt: new Date().toISOString(),
        placed: { placed: 0, unsorted: 0, moved: 0, missing: 0, newlyMissing: 0, skipped: { 'not-an-image': 2 }, seconds: 0 },
      };
      queueMicrotask(() => emit({ type: 'job', job: job! }));
      return job;
    },
    async cancelJob({ jobId }) {
      if (job?.id !== jobId || job.status !== 'running') return { ok: false };
      job = { ...job, status: 'cancelled' };
      emit({ type: 'job', job });
      return { ok: true };
    },
    async getJob() {
      return job;
    },
    async listSkipped({ offset, limit }) {
      const items = images.length
        ? [
            { imageId: 999_999, path: `${opts.mediaDir}/notes.txt`, code: 'not-an-image', message: 'not an image file' },
            { imageId: 999_998, path: `${opts.mediaDir}/broken.jpg`, code: 'decode-failed', message: 'truncated JPEG' },
          ]
        : [];
      return { items: items.slice(offset, offset + limit), total: items.length };
    },
    async listMissing() {
      return { items: [], total: 0 }; // the fake library never loses files
    },
    async listGroups({ sort, search }) {
      const counts = new Map<number, Img[]>();
      let unsorted = 0;
      for (const i of images) {
        const g = effectiveGroup(i);
        if (g === null) unsorted++;
        else (counts.get(g) ?? counts.set(g, []).get(g)!).push(i);
      }
      let out = groups.map((g) => {
        const members = counts.get(g.id) ?? [];
        let sum = 0;
        const top: Img[] = [];
        for (const m of members) {
          sum += m.conf;
          if (top.length < 4 || m.conf > top[3]!.conf) {
            top.push(m);
            top.sort((a, b) => b.conf - a.conf);
            if (top.length > 4) top.pop();
          }
        }
        return {
          id: g.id,
          name: g.name,
          userNamed: g.userNamed,
          color: g.id,
          count: members.length,
          meanConfidence: members.length ? sum / members.length : 0,
          typicalImageIds: top.map((t) => t.id),
        };
      });
      out = out.filter((g) => g.count > 0);
      if (search) out = out.filter((g) => g.name.toLowerCase().includes(search.toLowerCase()));
      if (sort === 'name') out.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true, sensitivity: 'base' }) || a.id - b.id);
      else if (sort === 'confidence') out.sort((a, b) => a.meanConfidence - b.meanConfidence);
      else out.sort((a, b) => b.count - a.count);
      return {
        groups: out,
        unsortedCount: unsorted,
        ungroupedCount: Math.min(unsorted, opts.ungrouped ?? 0),
        unsortedThreshold: threshold,
      };
    },
    async listGroupImages({ groupId, sort, offset, limit }) {
      const members = membersOf(groupId, sort);
      return { items: members.slice(offset, offset + limit).map(summary), total: members.length };
    },
    async locateImage({ groupId, imageId, sort }) {
      const members = membersOf(groupId, sort);
      const index = members.findIndex((i) => i.id === imageId);
      return { index: index < 0 ? null : index, total: members.length };
    },
    async getImage({ id }) {
      const i = byId(id);
      const g = effectiveGroup(i);
      const neighbours = images
        .filter((o) => o.id !== id && Math.abs(o.x - i.x) < 1.5 && Math.abs(o.y - i.y) < 1.5)
        .slice(0, 12)
        .map(summary);
      return {
        ...summary(i),
        path: i.file,
        size: 123_456,
        mtime: i.takenAt,
        camera: 'Fakon D100',
        groupName: groups.find((x) => x.id === g)?.name ?? null,
        neighbours,
        suggestions: suggestions(i),
      };
    },
    async getMap() {
      return { imageIds: images.map((i) => i.id), xy: images.flatMap((i) => [i.x, i.y]), groupIds: images.map(effectiveGroup) };
    },
    async reviewQueue({ limit }) {
      return {
        items: images
          .filter((i) => !i.pinned)
          .sort((a, b) => a.conf - b.conf)
          .slice(0, limit)
          .map((i) => ({ ...summary(i), assignedGroupId: i.group, suggestions: suggestions(i) })),
      };
    },
    async setUnsortedThreshold({ threshold: t }) {
      threshold = t;
      emit({ type: 'changed', what: 'groups' });
      return { ok: true };
    },
    async renameGroup({ groupId, name }) {
      const g =
        groups.find((x) => x.id === groupId) ??
        (() => {
          throw new ApiError('not-found', 'group not found');
        })();
      return edit(`rename to “${name}”`, () => ((g.name = name), (g.userNamed = true), {}));
    },
    async mergeGroups({ groupIds, name }) {
      const [keep, ...rest] = groupIds;
      return edit(`merge ${groupIds.length} groups`, () => {
        for (const i of images) if (i.group !== null && rest.includes(i.group)) i.group = keep!;
        groups = groups.filter((g) => !rest.includes(g.id));
        if (name) groups.find((g) => g.id === keep)!.name = name;
        return { groupId: keep! };
      });
    },
    async splitGroup({ groupId, parts }) {
      const g =
        groups.find((x) => x.id === groupId) ??
        (() => {
          throw new ApiError('not-found', 'group not found');
        })();
      return edit(`split “${g.name}”`, () => {
        const ids = [groupId];
        for (let p = 1; p < parts; p++) {
          const ng = { id: nextGroupId++, name: `${g.name} ${p + 1}`, userNamed: false };
          groups.push(ng);
          ids.push(ng.id);
        }
        let k = 0;
        for (const i of images) if (i.group === groupId) i.group = ids[k++ % parts]!;
        return { groupIds: ids };
      });
    },
    async moveImages({ imageIds, to }) {
      return edit(`move ${imageIds.length} images`, () => {
        let gid: number;
        if ('groupId' in to) gid = to.groupId;
        else {
          gid = nextGroupId++;
          groups.push({ id: gid, name: to.newGroupName, userNamed: true });
        }
        for (const id of imageIds) Object.assign(byId(id), { group: gid, pinned: true, conf: 1 });
        return { groupId: gid };
      });
    },
    async removeFromGroup({ imageIds }) {
      return edit(`remove ${imageIds.length} images`, () => {
        for (const id of imageIds) Object.assign(byId(id), { group: null, pinned: false });
        return {};
      });
    },
    async pinImages({ imageIds, pinned }) {
      return edit(`${pinned ? 'pin' : 'unpin'} ${imageIds.length} images`, () => {
        for (const id of imageIds) byId(id).pinned = pinned;
        return {};
      });
    },
    async undo() {
      const s = undoStack.pop();
      if (s) {
        redoStack.push(snap(s.label, s.id));
        restore(s);
        emit({ type: 'changed', what: 'groups' });
      }
      return history();
    },
    async redo() {
      const s = redoStack.pop();
      if (s) {
        undoStack.push(snap(s.label, s.id));
        restore(s);
        emit({ type: 'changed', what: 'groups' });
      }
      return history();
    },
    async getHistory() {
      return history();
    },
    async exportGroups({ out, dryRun, format }) {
      const planGroups = groups.map((g) => {
        const count = images.filter((i) => effectiveGroup(i) === g.id).length;
        return {
          groupId: g.id as number | null,
          name: g.name,
          target: format === 'folders' ? path.join(out, g.name) : out,
          count,
          newFiles: count,
          alreadyThere: 0,
          failed: 0,
          removed: 0,
        };
      });
      return {
        total: images.length,
        groups: planGroups,
        conflicts: [],
        conflictCount: 0,
        alreadyThere: 0,
        removed: 0,
        removedFiles: [],
        failed: [],
        failedCount: 0,
        notes: [],
        dryRun,
        written: dryRun ? 0 : images.length,
      };
    },
    // The photo organizer's methods, as an empty library would answer them (the real service
    // is what test/e2e/organizer.test.ts drives).
    async groupTimeline() {
      return { unit: 'month', buckets: [], fileDated: 0 };
    },
    async searchImages() {
      return { items: [], total: 0, dateRange: null };
    },
    async listDuplicates() {
      return { sets: [], copies: 0, maxDistance: 12, safeRange: [6, 14], minCosine: 0.8, unfingerprinted: 0 };
    },
    async setDuplicateThreshold() {
      return { ok: true };
    },
    async setLibraryWatch({ id, watch }) {
      const lib = libraries.find((l) => l.id === id)!;
      lib.watch = watch;
      return lib;
    },
    async browseFolders() {
      return { path: opts.mediaDir, parent: null, folders: [], roots: [{ name: 'Home', path: opts.mediaDir }] };
    },
  };

  return {
    images,
    handlers,
    mediaFile: (_kind, id) => images[id - 1]?.file ?? null,
    onEvent(listener) {
      events.on('e', listener);
      return () => events.off('e', listener);
    },
    async close() {},
  };
}
