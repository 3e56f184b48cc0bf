/** Public API of the I-Con engine (pure math over tfjs tensors; no I/O). */
export { Rng } from './rng.js';
export { l2normalize, pcaFit, pcaTransform, fitPreprocess, applyPreprocess, symmetricEigen } from './preprocess.js';
export type { PcaModel, PreprocessOptions, Preprocessor } from './preprocess.js';
export {
  knnGraph,
  knnQuery,
  knnKernelSparse,
  walkKernelSparse,
  symmetrizeSparse,
  normalizeSparseRows,
  sparseMatMul,
  sparseAdd,
} from './knn.js';
export type { KnnGraph, KnnOptions, SparseRows } from './knn.js';
export {
  KERNEL_EPS,
  rowNormalize,
  squaredDistances,
  knnKernel,
  walkKernel,
  viewsKernel,
  labelsKernel,
  gaussianKernel,
  perplexityBetas,
  clusterKernel,
  gaussianQKernel,
  studentTKernel,
  mixKernels,
} from './kernels.js';
export { debias, debiasedLog, LOG_FLOOR } from './debias.js';
export { iconLoss, meanKl, meanEntropy } from './loss.js';
export { kmeans, kmeansPlusPlus, assignToCentroids, PointBlocks } from './kmeans.js';
export type { KMeansOptions, KMeansResult } from './kmeans.js';
export { hungarianAccuracy, nmi, ari, scoreAll, contingency, hungarian } from './metrics.js';
export type { Scores } from './metrics.js';
export { DebiasedInfoNCEClustering, DEFAULTS, PAPER_DEFAULTS } from './clustering.js';
export type { ClusteringOptions, FitInput, FitResult, Assignment, HeadExport } from './clustering.js';
export { evaluate, samplePins } from './evaluate.js';
export type { EvaluateInput, EvaluateResult, MetricSummary, MeanStd, SeedResult } from './evaluate.js';
export { chooseK, silhouette, knnModularity, defaultCandidates } from './choosek.js';
export type { ChooseKOptions, ChooseKResult } from './choosek.js';
export { tsneMap, tsneMapDetailed } from './tsne.js';
export type { TsneOptions, TsneResult } from './tsne.js';
export { knnGraphHnsw, knnGraphAuto, knnRecall, HNSW_DEFAULTS, KNN_EXACT_UP_TO } from './knn.js';
export type { HnswOptions, KnnAutoOptions } from './knn.js';
export { clusterIconLoss } from './loss.js';
