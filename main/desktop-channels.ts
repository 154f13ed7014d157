/** The IPC channels the preload (`preload.cts`) calls, each handled in `main.ts` behind `guarded()`. */
export const DESKTOP_CHANNELS = {
  copyText: 'lectern:copy-text',
  openDataFolder: 'lectern:open-data-folder',
  about: 'lectern:about',
} as const;
