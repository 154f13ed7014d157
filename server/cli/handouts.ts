/**
 * `lectern handout create|update|list` and `lectern collect`: handouts from a folder on disk, through
 * the running hub's REST API (the hub delivers them and owns the collected work, so it must run).
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { LecternConfig } from '../config/schema.js';
import { readLock, type LockInfo } from '../store/lock.js';
import { callHub, CliError } from './users.js';

export interface HandoutOptions {
  from?: string | undefined;
  class?: string | undefined;
  available?: string | undefined;
  due?: string | undefined;
  late?: string | undefined;
  restoreDeleted?: boolean | undefined;
  output?: string | undefined;
}

interface HandoutSummary {
  id: number;
  name: string;
  class: string | null;
  version: number;
  dueAt: string | null;
}

interface HandoutModel extends HandoutSummary {
  students: { user: string; version: number; problem: string | null }[];
}

async function runningHub(config: LecternConfig): Promise<LockInfo> {
  const running = await readLock(config.dataDir);
  if (!running?.apiUrl || !running.token) {
    throw new CliError(`No hub is running on ${config.dataDir}. Start it (lectern start) first: it hands the files out and keeps the work.`);
  }
  return running;
}

async function findHandout(hub: LockInfo, name: string): Promise<HandoutSummary> {
  const { handouts } = (await callHub(hub, 'GET', '/lectern/handouts')) as { handouts: HandoutSummary[] };
  const found = handouts.find((handout) => handout.name === name);
  if (!found) throw new CliError(`There is no handout called "${name}". See them with: lectern handout list`);
  return found;
}

/** The files under `folder` (relative paths with `/`): hidden ones and links left out. */
async function filesIn(folder: string): Promise<string[]> {
  const facts = await lstat(folder).catch(() => null);
  if (!facts?.isDirectory()) throw new CliError(`--from must be a folder: ${folder} is not one.`);
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(join(folder, relative), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) found.push(path);
    }
  };
  await walk('');
  if (found.length === 0) throw new CliError(`${folder} has no files to hand out.`);
  return found.sort();
}

async function upload(hub: LockInfo, id: number, folder: string, files: string[]): Promise<void> {
  for (const path of files) {
    const response = await fetch(`${hub.apiUrl}/lectern/handouts/${id}/files?path=${encodeURIComponent(path)}`, {
      method: 'PUT',
      headers: { Authorization: `token ${hub.token}`, 'Content-Type': 'application/octet-stream' },
      // Read from disk as it is sent, never whole in memory.
      body: await openAsBlob(join(folder, ...path.split('/'))),
    });
    if (!response.ok) {
      const message = ((await response.json().catch(() => null)) as { message?: string } | null)?.message ?? response.statusText;
      throw new CliError(`${path} was not uploaded: ${message}`);
    }
  }
}

async function release(hub: LockInfo, handout: HandoutSummary, restoreDeleted: boolean): Promise<void> {
  const { version } = (await callHub(hub, 'POST', `/lectern/handouts/${handout.id}/release`, { restoreDeleted })) as { version: number };
  const model = (await callHub(hub, 'GET', `/lectern/handouts/${handout.id}`)) as HandoutModel;
  console.log(`Handed out ${handout.name}, version ${version}, to ${model.students.length} students${handout.class ? ` of class ${handout.class}` : ''}.`);
  console.log('Each gets it in their folder now, or at their next start; see where each stands in the Handouts screen.');
}

export async function createHandout(config: LecternConfig, name: string, options: HandoutOptions): Promise<number> {
  if (!options.from) throw new CliError('Say which folder to hand out: lectern handout create NAME --from FOLDER');
  const files = await filesIn(options.from);
  const hub = await runningHub(config);
  const handout = (await callHub(hub, 'POST', '/lectern/handouts', {
    name,
    class: options.class ?? null,
    availableAt: options.available ?? null,
    dueAt: options.due ?? null,
    ...(options.late === undefined ? {} : { late: options.late }),
  })) as HandoutSummary;
  await upload(hub, handout.id, options.from, files);
  await release(hub, handout, false);
  return 0;
}

export async function updateHandout(config: LecternConfig, name: string, options: HandoutOptions): Promise<number> {
  if (!options.from) throw new CliError('Say which folder holds the new files: lectern handout update NAME --from FOLDER');
  const files = await filesIn(options.from);
  const hub = await runningHub(config);
  const handout = await findHandout(hub, name);
  await upload(hub, handout.id, options.from, files);
  await release(hub, handout, options.restoreDeleted ?? false);
  return 0;
}

export async function listHandouts(config: LecternConfig): Promise<number> {
  const hub = await runningHub(config);
  const { handouts } = (await callHub(hub, 'GET', '/lectern/handouts')) as { handouts: HandoutSummary[] };
  if (handouts.length === 0) console.log('No handouts yet.');
  for (const handout of handouts) {
    const parts = [handout.version === 0 ? 'not handed out' : `version ${handout.version}`, handout.class ? `class ${handout.class}` : 'everyone'];
    if (handout.dueAt) parts.push(`due ${handout.dueAt}`);
    console.log(`${handout.name}  (${parts.join(', ')})`);
  }
  return 0;
}

export async function collect(config: LecternConfig, name: string, output: string | undefined): Promise<number> {
  const hub = await runningHub(config);
  const handout = await findHandout(hub, name);
  const { collected, missing } = (await callHub(hub, 'POST', `/lectern/handouts/${handout.id}/collect`)) as { collected: number; missing: string[] };
  console.log(`Collected ${collected} students' work.${missing.length > 0 ? ` Nothing to collect from: ${missing.join(', ')}.` : ''}`);
  if (output !== undefined) {
    const response = await fetch(`${hub.apiUrl}/lectern/handouts/${handout.id}/collection`, { headers: { Authorization: `token ${hub.token}` } });
    if (!response.ok || !response.body) throw new CliError(`The work could not be downloaded: ${response.status} ${response.statusText}`);
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), createWriteStream(output));
    console.log(`Wrote the class's work to ${output}.`);
  }
  return 0;
}
