export * from './decode.js';
export * from './thumbnail.js';
export * from './metadata.js';
export * from './sniff.js';
export * from './sharpConfig.js';
export { thumbnailExists, writeThumbnailFile, DEFAULT_THUMBNAIL_QUALITY } from './thumbCache.js';
export * from './fingerprint.js';
