// A node:test reporter that keeps, in the file LECTERN_SLOWEST_FILES names, the ten test files that
// took longest so far: where to look first when the suite gets slow. scripts/run-tests.mjs prints it
// after the run, after the usual report. Written at each file's results, so that a run cut short
// still says where its time went.
import { writeFileSync } from 'node:fs';

export default async function* slowestFiles(source) {
  const seconds = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      seconds.set(event.data.file, (seconds.get(event.data.file) ?? 0) + (event.data.details?.duration_ms ?? 0) / 1000);
      const slowest = [...seconds].sort((a, b) => b[1] - a[1]).slice(0, 10);
      const lines = slowest.map(([file, time]) => `${time.toFixed(1).padStart(7)} s  ${file.replace(`${process.cwd()}/`, '')}`);
      writeFileSync(process.env.LECTERN_SLOWEST_FILES, `\nThe slowest test files:\n${lines.join('\n')}\n`);
    }
  }
  yield '';
}
