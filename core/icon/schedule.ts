/**
 * The training schedule's length and its caps (clustering.ts's DEFAULTS), in a module of its own
 * with no imports: indexing reads them on the app's main thread (core/jobs/indexing/views.ts:
 * how many views a run can read), where tfjs must never load.
 */
export const SCHEDULE = {
  epochs: 30,
  /** Anchors fed per optimiser step. */
  anchorsPerBatch: 512,
  /** Cap on optimiser steps (all epochs together): bounds a run's time in a large library. */
  maxSteps: 1000,
} as const;
