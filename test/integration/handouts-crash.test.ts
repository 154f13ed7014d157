/**
 * `kill -9` of the hub while it hands out and while it collects loses nothing: every file a student
 * has is whole (the old one or the new one, never part of one), the next start finishes the
 * deliveries it cut short and clears what it left, and no half-taken snapshot is ever on record.
 * The kill comes as soon as the work is under way; on a machine fast enough to finish first, the
 * same checks hold. Then the class's work, 30 students', downloads as one zip without the hub's
 * memory growing by its size.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

const TOKEN = 'handouts-crash-service-token-0123456789';
const STUDENTS = Array.from({ length: 30 }, (_, i) => `st${i + 1}`);
/** Three files of 1 MiB each, with different bytes, so a torn file cannot pass for a whole one. */
const FILES = ['a.bin', 'data/b.bin', 'data/c.bin'].map((path, i) => ({ path, bytes: Buffer.alloc(2 ** 20, 65 + i) }));
/** A hub that held the zip would grow by all of it (90 MiB); one that streams it, by buffers. */
const ZIP_GROWTH_LIMIT = 40 * 2 ** 20;
const memory = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const WHOLE = new Map(FILES.map((file) => [file.path, sha(file.bytes)]));

/** Every file under `folder` (relative paths), hidden ones included. */
async function filesUnder(folder: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await filesUnder(join(folder, entry.name), path)));
    else found.push(path);
  }
  return found;
}

describe('the hub killed with SIGKILL', () => {
  it('mid-delivery and mid-collection leaves every file whole, and the next start finishes the work', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lectern-handouts-crash-'));
    const data = join(dir, 'data');
    const config = join(dir, 'lectern.yaml');
    await writeFile(config, `services:\n  - { name: automation, apiToken: ${TOKEN}, admin: true }\nculler: { enabled: false }\n`);
    const start = () => startCli(['--config', config, '--data-dir', data]);
    const api = (hub: RunningCli, path: string, init: RequestInit = {}) =>
      fetch(`${hub.origin}/hub/api${path}`, { ...init, headers: { Authorization: `token ${TOKEN}`, ...(init.headers as Record<string, string>) } });
    const kill = async (hub: RunningCli) => {
      hub.child.kill('SIGKILL');
      await hub.exited;
    };
    const home = (user: string) => join(data, 'users', user, 'home', 'lesson');
    let hub = await start();
    try {
      assert.equal((await api(hub, '/users', { method: 'POST', body: JSON.stringify({ usernames: STUDENTS }) })).status, 201);
      const created = await api(hub, '/lectern/handouts', { method: 'POST', body: JSON.stringify({ name: 'lesson' }) });
      const { id } = (await created.json()) as { id: number };
      for (const file of FILES) {
        const put = await api(hub, `/lectern/handouts/${id}/files?path=${encodeURIComponent(file.path)}`, { method: 'PUT', body: file.bytes });
        assert.equal(put.status, 201);
      }
      // The answer comes once the version is recorded; the copies are made after it.
      assert.equal((await api(hub, `/lectern/handouts/${id}/release`, { method: 'POST', body: '{}' })).status, 200);
      await kill(hub);

      // Whatever each student has is whole; what the kill cut short is only a hidden temporary file.
      for (const student of STUDENTS) {
        for (const path of await filesUnder(home(student))) {
          const name = path.split('/').at(-1) as string;
          if (name.startsWith('.lectern-handout-')) continue;
          assert.equal(sha(await readFile(join(home(student), path))), WHOLE.get(path), `${student}'s ${path} is whole`);
        }
      }

      // The next start finishes every delivery, and clears the temporary files.
      hub = await start();
      await until('every student to have the handout', async () => {
        const model = (await (await api(hub, `/lectern/handouts/${id}`)).json()) as { students: { version: number }[] };
        return model.students.every((student) => student.version === 1);
      });
      for (const student of STUDENTS) {
        assert.deepEqual((await filesUnder(home(student))).sort(), FILES.map((file) => file.path).sort(), `${student} has every file, and nothing else`);
        for (const file of FILES) assert.equal(sha(await readFile(join(home(student), file.path))), WHOLE.get(file.path));
      }

      // A collection, killed as soon as it is under way.
      const collecting = api(hub, `/lectern/handouts/${id}/collect`, { method: 'POST' }).catch(() => null);
      await until('the collection to begin', async () => (await readdir(join(data, 'collections', String(id))).catch(() => [])).length > 0, 120_000, 5);
      await kill(hub);
      await collecting;
      hub = await start();
      const collections = join(data, 'collections', String(id));
      const model = (await (await api(hub, `/lectern/handouts/${id}`)).json()) as { students: { user: string; collected: string | null }[] };
      for (const student of STUDENTS) {
        const snapshots = await readdir(join(collections, student)).catch(() => [] as string[]);
        const recorded = model.students.find((entry) => entry.user === student)?.collected ?? null;
        assert.equal(snapshots.length, recorded === null ? 0 : 1, `${student}: a snapshot on disk only when on record (${snapshots.join(', ')})`);
        for (const snapshot of snapshots) {
          const files = await filesUnder(join(collections, student, snapshot));
          assert.deepEqual(files.sort(), FILES.map((file) => file.path).sort(), `${student}'s snapshot is whole`);
        }
      }

      // Collected again, whole; then the class's work as one zip, read to the end, while the hub's
      // peak memory (reset to where it is now) stays put.
      const again = (await (await api(hub, `/lectern/handouts/${id}/collect`, { method: 'POST' })).json()) as { collected: number };
      assert.equal(again.collected, STUDENTS.length);
      const pid = hub.child.pid as number;
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const before = memory(pid, 'VmRSS');
      const zip = await api(hub, `/lectern/handouts/${id}/collection`);
      assert.equal(zip.status, 200);
      let zipBytes = 0;
      for await (const chunk of zip.body as AsyncIterable<Uint8Array>) zipBytes += chunk.length;
      assert.ok(zipBytes >= STUDENTS.length * 3 * 2 ** 20, `the zip holds every student's work (${zipBytes} bytes)`);
      const growth = memory(pid, 'VmHWM') - before;
      assert.ok(growth < ZIP_GROWTH_LIMIT, `the hub grew by ${Math.round(growth / 2 ** 20)} MiB streaming a ${Math.round(zipBytes / 2 ** 20)} MiB zip`);
    } finally {
      hub.child.kill('SIGKILL');
      await hub.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
