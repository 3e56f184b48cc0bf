/**
 * The file a folder export leaves at the root of its output folder. Exports are copies (or
 * links) of library images: exported into a library folder, they would be scanned, embedded
 * and grouped a second time. The scanner leaves out every folder holding this file, so the
 * name is shared here, by the export (core/jobs/export/export.ts) and the scanner (scan.ts).
 *
 * Its content is JSON: what wrote it, when, from which database, and (once the export finished)
 * the manifest of the groups and files it placed, which the next export into the folder removes
 * stale files by (core/jobs/export/manifest.ts describes and checks it). Only the name matters to
 * the scanner.
 */
export const EXPORT_MARKER = '.constellate-export';
