/**
 * A zip of files on disk, streamed as it is made: each file is read when its turn comes, so a
 * class's work is never held in memory whatever its size. yazl writes the zip (ZIP64 where needed,
 * UTF-8 names). Only text is compressed (notebooks, code, CSV): images and data files are mostly
 * compressed already, and deflating them would cost the teacher's laptop CPU for nothing.
 */
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';

const TEXT = /\.(ipynb|py|r|jl|md|txt|csv|tsv|json|ya?ml|toml|html?|css|js|ts|tex|sql|sh|log)$/i;

export interface ZipEntry {
  /** Its path in the zip, `/` between folders. */
  name: string;
  /** The file on disk. */
  file: string;
}

/** Writes a zip of `entries` to `out`; resolves once it is all written. */
export async function streamZip(entries: readonly ZipEntry[], out: Writable): Promise<void> {
  // Loaded on the first download: most lessons never zip anything.
  const { ZipFile } = await import('yazl');
  const zip = new ZipFile();
  for (const entry of entries) zip.addFile(entry.file, entry.name, { compress: TEXT.test(entry.name) });
  zip.end();
  await pipeline(zip.outputStream, out);
}
