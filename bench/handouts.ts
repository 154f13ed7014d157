/**
 * Issue 15's benchmark: handing out 50 MB to 100 students and collecting it back, through Lectern's
 * CLI as deployed, beside what the same copies cost the machine without a hub. Not a test: run it
 * by hand.
 *
 *   node --import tsx bench/handouts.ts [--students 100] [--megabytes 50] [--files 20] [--no-build]
 *
 * JupyterHub has no handouts (nbgrader's exchange and nbgitpuller need a shared file system or git
 * and PyPI), so the anchor is the floor: `cp -r` of the same folder into each student's folder, then
 * `sync`, and the same back out. What it measures:
 *   1. upload: the files through `PUT /hub/api/lectern/handouts/ID/files`;
 *   2. hand-out: from `POST …/release` until every student has the version (the status API), each
 *      file synced and renamed into place;
 *   3. collect: `POST …/collect`, a snapshot of every student's copy;
 *   4. download: `GET …/collection`, the class's work as one zip, read to the end;
 * and the hub process's peak resident memory over the whole run (VmHWM), which must not grow with
 * the size of what is handed out: files are streamed, never held.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startCli } from '../test/helpers/cli.js';
import { build, mib, positiveInteger, table, waitFor } from './proxy-harness.js';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '100' },
    megabytes: { type: 'string', default: '50' },
    files: { type: 'string', default: '20' },
    'no-build': { type: 'boolean', default: false },
  },
});
const STUDENTS = positiveInteger('students', args.students);
const BYTES = positiveInteger('megabytes', args.megabytes) * 2 ** 20;
const FILES = positiveInteger('files', args.files);
const TOKEN = randomBytes(24).toString('hex');

const seconds = (since: number) => (performance.now() - since) / 1000;
const peakRss = (pid: number) => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) * 1024;

async function main(): Promise<void> {
  if (!args['no-build']) build();
  const dir = await mkdtemp(join(tmpdir(), 'lectern-bench-handouts-'));
  try {
    // The handout: a few notebooks and data files of random bytes (nothing compresses or dedupes).
    const source = join(dir, 'lesson');
    await mkdir(join(source, 'data'), { recursive: true });
    const paths = Array.from({ length: FILES }, (_, i) => (i % 2 === 0 ? `notebook-${i}.ipynb` : `data/part-${i}.bin`));
    for (const path of paths) await writeFile(join(source, path), randomBytes(Math.floor(BYTES / FILES)));
    const names = Array.from({ length: STUDENTS }, (_, i) => `s${String(i + 1).padStart(3, '0')}`);

    console.log(`Handing out ${mib(BYTES)} in ${FILES} files to ${STUDENTS} students on ${cpus().length} cores.`);
    const floor = await copyFloor(dir, source, names);
    const lectern = await throughLectern(dir, source, paths, names);
    console.log();
    console.log(
      table(
        ['step', 'Lectern', 'cp -r + sync', 'ratio'],
        [
          ['upload', `${lectern.upload.toFixed(1)} s`, '', ''],
          ['hand out', `${lectern.handOut.toFixed(1)} s`, `${floor.handOut.toFixed(1)} s`, `${(lectern.handOut / floor.handOut).toFixed(2)}×`],
          ['collect', `${lectern.collect.toFixed(1)} s`, `${floor.collect.toFixed(1)} s`, `${(lectern.collect / floor.collect).toFixed(2)}×`],
          ['download zip', `${lectern.download.toFixed(1)} s (${mib(lectern.zipBytes)})`, '', ''],
        ],
        new Set([1, 2, 3]),
      ),
    );
    console.log(`\nThe hub's peak memory over the run: ${mib(lectern.peakRss)} (after start: ${mib(lectern.startRss)}).`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The floor: the same copies with cp, made durable with sync, one student after another. */
async function copyFloor(dir: string, source: string, names: string[]): Promise<{ handOut: number; collect: number }> {
  const homes = join(dir, 'floor');
  await mkdir(homes);
  let started = performance.now();
  for (const name of names) {
    await mkdir(join(homes, name));
    execFileSync('cp', ['-r', source, join(homes, name, 'lesson')]);
  }
  execFileSync('sync');
  const handOut = seconds(started);
  started = performance.now();
  await mkdir(join(dir, 'floor-collected'));
  for (const name of names) execFileSync('cp', ['-r', join(homes, name, 'lesson'), join(dir, 'floor-collected', name)]);
  execFileSync('sync');
  const collect = seconds(started);
  await rm(homes, { recursive: true, force: true });
  await rm(join(dir, 'floor-collected'), { recursive: true, force: true });
  return { handOut, collect };
}

async function throughLectern(dir: string, source: string, paths: string[], names: string[]) {
  const config = join(dir, 'lectern.yaml');
  await writeFile(config, `logLevel: warn\nservices:\n  - { name: bench, apiToken: ${TOKEN}, admin: true }\nculler: { enabled: false }\n`);
  const hub = await startCli(['--config', config, '--data-dir', join(dir, 'data')]);
  const pid = hub.child.pid as number;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${hub.origin}/hub/api${path}`, { ...init, headers: { Authorization: `token ${TOKEN}`, ...(init.headers as Record<string, string>) } });
  try {
    const startRss = peakRss(pid);
    if ((await api('/users', { method: 'POST', body: JSON.stringify({ usernames: names }) })).status !== 201) throw new Error('could not create the students');
    const { id } = (await (await api('/lectern/handouts', { method: 'POST', body: JSON.stringify({ name: 'lesson' }) })).json()) as { id: number };

    let started = performance.now();
    for (const path of paths) {
      const put = await api(`/lectern/handouts/${id}/files?path=${encodeURIComponent(path)}`, { method: 'PUT', body: readFileSync(join(source, path)) });
      if (put.status !== 201) throw new Error(`upload of ${path}: ${put.status} ${await put.text()}`);
    }
    const upload = seconds(started);

    started = performance.now();
    if ((await api(`/lectern/handouts/${id}/release`, { method: 'POST', body: '{}' })).status !== 200) throw new Error('release failed');
    const delivered = await waitFor(30 * 60_000, async () => {
      const model = (await (await api(`/lectern/handouts/${id}`)).json()) as { students: { version: number; problem: string | null }[] };
      const problems = model.students.filter((student) => student.problem !== null);
      if (problems.length > 0) throw new Error(`not delivered: ${problems[0]?.problem}`);
      return model.students.every((student) => student.version === 1);
    });
    if (!delivered) throw new Error('the hand-out did not finish within 30 minutes');
    const handOut = seconds(started);

    started = performance.now();
    const collected = (await (await api(`/lectern/handouts/${id}/collect`, { method: 'POST' })).json()) as { collected: number };
    if (collected.collected !== names.length) throw new Error(`collected ${collected.collected} of ${names.length}`);
    const collect = seconds(started);

    started = performance.now();
    const zip = await api(`/lectern/handouts/${id}/collection`);
    let zipBytes = 0;
    for await (const chunk of zip.body as AsyncIterable<Uint8Array>) zipBytes += chunk.length;
    const download = seconds(started);
    return { upload, handOut, collect, download, zipBytes, startRss, peakRss: peakRss(pid) };
  } finally {
    hub.child.kill('SIGTERM');
    await hub.exited;
  }
}

await main();
