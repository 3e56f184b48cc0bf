/**
 * How many augmented views indexing embeds per image: as many as a training run can read of each
 * image, recorded per database so training asks for what was embedded; the user's choice wins.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { initTf } from '../../core/embed/backend.js';
import { DebiasedInfoNCEClustering, DEFAULTS, RECLUSTER_OVERRIDES } from '../../core/icon/clustering.js';
import { arraySource, type RowSource } from '../../core/icon/preprocess.js';
import { Rng } from '../../core/icon/rng.js';
import {
  chooseViewsForIndexing,
  claimViewDraw,
  DEFAULT_VIEWS,
  getViewsPerImage,
  setViewsPerImage,
  VIEW_DRAWS_PER_RUN,
  viewDrawsOf,
  viewsForLibrarySize,
} from '../../core/jobs/indexing/views.js';
import { openStore } from '../../core/store/index.js';
import { tempDir } from '../store/helpers.js';

const tmp = tempDir('cs-views-');
afterAll(() => tmp.cleanup());

describe('views per image for the size of a library', () => {
  it('keeps 4 views while a run can read them, then as many as it reads of each image', () => {
    // the trainer's own schedule, and the most of any run over the whole library
    expect(VIEW_DRAWS_PER_RUN).toBe(viewDrawsOf(DEFAULTS));
    expect(VIEW_DRAWS_PER_RUN).toBeGreaterThanOrEqual(viewDrawsOf({ ...DEFAULTS, ...RECLUSTER_OVERRIDES }));
    expect(viewsForLibrarySize(0)).toBe(DEFAULT_VIEWS);
    expect(viewsForLibrarySize(300)).toBe(DEFAULT_VIEWS);
    expect(viewsForLibrarySize(100_000)).toBe(DEFAULT_VIEWS);
    const d = VIEW_DRAWS_PER_RUN;
    expect(viewsForLibrarySize(Math.ceil(d / 3) - 1)).toBe(4);
    expect(viewsForLibrarySize(Math.ceil(d / 3))).toBe(3);
    expect(viewsForLibrarySize(Math.ceil(d / 2))).toBe(2);
    expect(viewsForLibrarySize(d - 1)).toBe(2);
    expect(viewsForLibrarySize(d)).toBe(1);
    expect(viewsForLibrarySize(1_000_000)).toBe(1);
    expect(() => viewsForLibrarySize(-1)).toThrow(RangeError);
    expect(() => viewsForLibrarySize(10, 0)).toThrow(RangeError);
  });

  it('records its choice, never raises it again on its own, and yields to the user', () => {
    const store = openStore(`${tmp.dir}/v.db`);
    try {
      expect(chooseViewsForIndexing(store.db, 1_000)).toBe(4);
      expect(store.db.getState('views_per_image_auto')).toBeNull(); // nothing to record at the default
      expect(getViewsPerImage(store.db)).toBe(4);
      expect(chooseViewsForIndexing(store.db, 300_000)).toBe(2);
      expect(getViewsPerImage(store.db)).toBe(2); // training asks for what was embedded
      expect(chooseViewsForIndexing(store.db, 1_000_000)).toBe(1);
      // a library that shrinks keeps its views: removing a folder starts no embedding
      expect(chooseViewsForIndexing(store.db, 1_000)).toBe(1);
      expect(getViewsPerImage(store.db)).toBe(1);
      // `cluster --views 4`: the user's choice, whatever the size
      setViewsPerImage(store.db, 4);
      expect(chooseViewsForIndexing(store.db, 1_000_000)).toBe(4);
      expect(getViewsPerImage(store.db)).toBe(4);
    } finally {
      store.close();
    }
  });

  it('a database holds one set of views: another draw is recorded once, and a mismatch refused', () => {
    // a fresh database takes any draw and records one other than the app's
    const fresh = openStore(`${tmp.dir}/draw-fresh.db`);
    try {
      claimViewDraw(fresh.db, 0);
      expect(fresh.db.getState('view_draw')).toBeNull(); // the app's draw: nothing recorded
      claimViewDraw(fresh.db, 2);
      expect(fresh.db.getState('view_draw')).toBe('2');
      claimViewDraw(fresh.db, 2);
      // the app (draw 0) or another draw would take its stored views as their own
      expect(() => claimViewDraw(fresh.db, 0)).toThrow(/holds the views of draw 2, not 0/);
      expect(() => claimViewDraw(fresh.db, 3)).toThrow(/holds the views of draw 2, not 3/);
      expect(() => claimViewDraw(fresh.db, -1)).toThrow(RangeError);
    } finally {
      fresh.close();
    }
    // a database the app filled (views stored, nothing recorded) holds draw 0
    const app = openStore(`${tmp.dir}/draw-app.db`);
    try {
      app.embeddings.putMany('m', [{ contentHash: 'cs1:a', vector: new Float32Array(4) }]);
      claimViewDraw(app.db, 1); // the image's own row alone: no views to mismatch
      expect(app.db.getState('view_draw')).toBe('1');
      app.db.setState('view_draw', null);
      app.embeddings.putMany('m', [{ contentHash: 'cs1:a', vector: new Float32Array(4), view: 'aug0' }]);
      expect(() => claimViewDraw(app.db, 1)).toThrow(/holds the views of draw 0, not 1/);
      expect(() => claimViewDraw(app.db, 0)).not.toThrow();
    } finally {
      app.close();
    }
  });

  it('a training run reads no more views than its schedule draws', async () => {
    await initTf({ prefer: ['wasm'] });
    const n = 600;
    const d = 16;
    const V = 2;
    const rng = new Rng(3);
    const x = Float32Array.from(rng.normalArray(n * d));
    const views = Float32Array.from(rng.normalArray(n * V * d));
    let read = 0;
    const inner = arraySource(views, n * V, d);
    const counted: RowSource = {
      ...inner,
      read: (start, count) => {
        read += count;
        return inner.read(start, count);
      },
      readRows: (indices) => {
        read += indices.length;
        return inner.readRows(indices);
      },
    };
    const schedule = { epochs: 3, maxSteps: 60, anchorsPerBatch: 16 };
    new DebiasedInfoNCEClustering({ nClusters: 3, seed: 1, ...schedule }).fitSource(arraySource(x, n, d), {
      views: counted,
      viewsInMemoryUpTo: 0, // read per step, as in a library too large to hold them
    });
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(viewDrawsOf(schedule));
    expect(read).toBe(viewDrawsOf(schedule)); // the schedule runs out its steps at this size
  });
});
