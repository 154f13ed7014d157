/**
 * `lectern export --format lectern|jupyterhub|z2jh [--output FILE]`: the class's configuration for
 * its next home (server/config/export.ts says what each file holds). With a hub running on the data
 * dir it asks that hub, which owns the database and knows the changes made on its settings page;
 * otherwise it reads the data dir itself, under its lock, with those changes applied as a hub would.
 */
import { writeFile } from 'node:fs/promises';
import { EXPORT_FORMATS, exportFile, isExportFormat } from '../config/export.js';
import type { LecternConfig } from '../config/schema.js';
import { exportInput } from '../hub/api/export.js';
import { LiveSettings } from '../hub/live-settings.js';
import { createLogger } from '../logging/logger.js';
import { GroupRepository } from '../store/groups.js';
import { HandoutRepository } from '../store/handouts.js';
import { readLock } from '../store/lock.js';
import { SettingsRepository } from '../store/settings.js';
import { callHub, CliError, withOfflineStore } from './users.js';

export async function runExport(config: LecternConfig, format: string | undefined, output: string | undefined): Promise<number> {
  if (!isExportFormat(format)) {
    const given = format === undefined ? 'missing' : `"${format}"`;
    throw new CliError(`--format must be one of ${EXPORT_FORMATS.join(', ')} (${given}), e.g. lectern export --format jupyterhub`);
  }
  const running = await readLock(config.dataDir);
  let text: string;
  if (running?.apiUrl && running.token) {
    text = String(await callHub(running, 'GET', `/lectern/export?format=${format}`));
  } else {
    text = await withOfflineStore(config, async (db, users) => {
      // Warnings about stored settings that no longer validate go to stderr, as a hub would log them.
      const settings = await LiveSettings.open(config, { store: new SettingsRepository(db), db, log: createLogger({ level: 'warn' }) });
      return exportFile(format, exportInput({ config: settings.effective(), users, groups: new GroupRepository(db), handouts: new HandoutRepository(db) })).text;
    });
  }
  if (output === undefined) {
    process.stdout.write(text);
  } else {
    await writeFile(output, text);
    console.error(`Wrote ${output}.`);
  }
  return 0;
}
