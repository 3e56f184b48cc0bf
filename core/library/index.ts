export * from './scan.js';
export * from './hash.js';
export * from './skips.js';
export * from './formats.js';
