/**
 * A lesson's start, end to end, in Debian's Chromium: from the hub's first start, through the
 * teacher importing the school's class list and printing login cards, to every student (on a phone
 * viewport) answered by a kernel — Lectern against JupyterHub 3.0's admin page, side by side in one
 * run, both with the real `jupyterhub-singleuser`. Not a test: run it by hand.
 *
 *   npm run build && node dist/bench/classroom-flow.js [--students 30] [--timeout 900]
 *
 * (From dist/: the hub runs in this process, and its password hashing worker is compiled code.)
 *
 * Lectern: the desktop app's window opens logged in (no action), then the teacher clicks Import
 * class list, chooses the school's export (`First name,Last name`, Windows-1252, accents, two
 * Zoës, namesakes) and clicks Import and print cards. Each student scans their card: the bench reads
 * each card's QR code from the sheet, as a phone camera would, and opens it in a phone-sized page.
 *
 * JupyterHub 3.0 has no class-list import and no cards: the teacher logs in, opens Add Users, pastes
 * the login names (made by hand from the export: not counted) and adds them; each student types the
 * address, their name and a password (its dummy authenticator takes any) on their phone.
 *
 * For every student, once their browser has reached their own server's page, a notebook's first cell
 * runs in that browser: a kernel started and `print(6*7)` sent over its websocket, as the notebook
 * page does. Printed: the teacher's actions, the time from the first start to the cards
 * (or the users) being ready, and from the first student starting to the last one's `42`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.js';
import { startTestHub } from '../test/helpers/hub.js';
import { resolveLaunch } from '../server/spawner/launch-plan.js';
import { JUPYTERHUB_SINGLEUSER, startJupyterHub } from '../test/helpers/jupyterhub.js';
import { decodeQrSvg } from '../test/helpers/qr.js';
import { SCHOOL_EXPORT, windows1252 } from '../test/helpers/school-export.js';
import { positiveInteger, table } from './proxy-harness.js';
import { PHONE, runFirstCell } from './student-browser.js';

const { values: args } = parseArgs({ options: { students: { type: 'string', default: '30' }, timeout: { type: 'string', default: '900' } } });
const STUDENTS = positiveInteger('students', args.students);
const TIMEOUT_MS = positiveInteger('timeout', args.timeout) * 1000;
const LAPTOP = { viewport: { width: 1366, height: 768 } };
const TEACHER = { name: 'teach', password: 'teacher-password-1' };

interface Outcome {
  label: string;
  /** What the teacher clicked, chose or typed, in order. */
  actions: string[];
  /** Things the teacher had to do outside the tool (turn the list into login names by hand). */
  byHand: string | null;
  /** ms from the hub's start to the students' way in being ready (cards, or accounts). */
  ready: number;
  /** What each student does on their phone before their notebook answers. */
  studentActions: number;
  /** ms from the first student starting to each one's kernel answering, sorted; failures apart. */
  answers: number[];
  failures: string[];
}

/** The school's export, cut to `STUDENTS` rows, in a temp file as the teacher has it. */
async function classList(dir: string): Promise<string> {
  const [header, ...rows] = SCHOOL_EXPORT.split('\r\n');
  if (rows.length < STUDENTS) throw new Error(`--students is at most ${rows.length}, the rows of the school export`);
  const file = join(dir, 'Class 7B.csv');
  await writeFile(file, windows1252([header, ...rows.slice(0, STUDENTS)].join('\r\n')));
  return file;
}

/**
 * One student from their phone to `42`: `reach` brings the page to their server (whatever the
 * hub's way in), then a kernel runs a cell with that browser's cookies. Resolves with the ms since
 * `t0`.
 */
async function student(browser: Browser, name: string, t0: number, reach: (page: Page) => Promise<void>): Promise<number> {
  const context: BrowserContext = await browser.newContext(PHONE);
  // Thirty phones and thirty servers starting on one small machine: every page is slow at first.
  context.setDefaultTimeout(TIMEOUT_MS);
  try {
    const page = await context.newPage();
    await reach(page);
    await runFirstCell(page, name, TIMEOUT_MS);
    const answered = performance.now() - t0;
    console.log(`  ${name}: 42 after ${seconds(answered)}`);
    return answered;
  } finally {
    await context.close();
  }
}

async function everyone(names: string[], run: (name: string) => Promise<number>): Promise<Pick<Outcome, 'answers' | 'failures'>> {
  const results = await Promise.allSettled(names.map(run));
  const answers = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])).sort((a, b) => a - b);
  const failures = results.flatMap((result, i) => (result.status === 'rejected' ? [`${names[i]}: ${(result.reason as Error).message.split('\n')[0]}`] : []));
  return { answers, failures };
}

async function lectern(browser: Browser, file: string): Promise<Outcome & { names: string[] }> {
  const actions: string[] = [];
  const started = performance.now();
  const t = await startTestHub({ culler: { enabled: false } });
  try {
    await t.addUser(TEACHER.name, TEACHER.password, true);
    const teacher = await (await browser.newContext(LAPTOP)).newPage();
    // The desktop app's window: logged in, on the dashboard, without the teacher doing anything.
    await teacher.goto(await t.hub.desktopLoginUrl());
    await teacher.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await teacher.getByRole('button', { name: 'Import class list' }).click();
    actions.push('Import class list');
    const importer = teacher.getByRole('dialog', { name: 'Import a class list' });
    await importer.getByLabel('Class list file').setInputFiles(file);
    actions.push('choose the file');
    const importButton = importer.getByRole('button', { name: /^Import \d+ students? and print (the card|cards)$/ });
    await importButton.click();
    actions.push('Import and print cards');
    await teacher.waitForURL(/\/hub\/cards\//, { timeout: TIMEOUT_MS });
    const ready = performance.now() - started;

    const cards = (await teacher.evaluate(
      "[...document.querySelectorAll('article.login-card')].map((card) => [card.dataset.name, card.querySelector('.qr svg').outerHTML])",
    )) as [string, string][];
    const links = new Map(cards.map(([name, svg]) => [name, decodeQrSvg(svg)]));
    const names = [...links.keys()];
    console.log(`Lectern: ${names.length} cards ready after ${seconds(ready)}; the students scan them…`);
    const t0 = performance.now();
    const result = await everyone(names, (name) =>
      student(browser, name, t0, async (page) => {
        await page.goto(links.get(name) as string);
      }),
    );
    // A student who never got in: what the hub said about them, to tell a hub's fault from the bench's.
    for (const failure of result.failures) {
      const name = failure.split(':')[0] as string;
      const said = t.logLines.filter((line) => line.includes(name)).slice(-20);
      console.log(`Lectern's log about ${name}:\n${said.join('\n') || '(nothing)'}`);
    }
    return { label: 'Lectern', actions, byHand: null, ready, studentActions: 1, names, ...result };
  } finally {
    await t.stop();
  }
}

async function jupyterhub(browser: Browser, names: string[]): Promise<Outcome> {
  const actions: string[] = [];
  const started = performance.now();
  // Out of the box, jupyterhub-singleuser with Debian's packages serves no pages: it gets the app
  // Lectern picks for it (the classic Notebook), so that both hubs run the same server.
  const launch = await resolveLaunch({ command: [JUPYTERHUB_SINGLEUSER], python: null, launchMode: 'auto' });
  const app = launch.plan?.singleuserApp;
  const hub = await startJupyterHub({
    adminUsers: [TEACHER.name],
    spawnerEnvironment: app ? { JUPYTERHUB_SINGLEUSER_APP: app } : {},
    extraConfig: ['c.JupyterHub.concurrent_spawn_limit = 100'],
  });
  try {
    const teacher = await (await browser.newContext(LAPTOP)).newPage();
    await teacher.goto(`${hub.url}hub/admin`);
    await teacher.getByLabel('Username:').fill(TEACHER.name);
    actions.push('type the name');
    await teacher.getByLabel('Password:').fill(TEACHER.password);
    actions.push('type the password');
    await teacher.getByRole('button', { name: 'Sign in' }).click();
    actions.push('Sign in');
    await teacher.getByRole('button', { name: 'Add Users' }).click();
    actions.push('Add Users');
    await teacher.getByPlaceholder(/usernames separated by line/i).fill(names.join('\n'));
    actions.push('paste the login names');
    await teacher.getByRole('button', { name: 'Add Users' }).click();
    actions.push('Add Users');
    await teacher.getByText(names.at(-1) as string, { exact: true }).first().waitFor({ timeout: TIMEOUT_MS });
    const ready = performance.now() - started;

    console.log(`JupyterHub 3.0: ${names.length} users added after ${seconds(ready)}; the students log in…`);
    const t0 = performance.now();
    const result = await everyone(names, (name) =>
      student(browser, name, t0, async (page) => {
        await page.goto(`${hub.url}hub/login`);
        await page.getByLabel('Username:').fill(name);
        await page.getByLabel('Password:').fill('any-password');
        await page.getByRole('button', { name: 'Sign in' }).click();
      }),
    );
    return {
      label: 'JupyterHub 3.0 admin page',
      actions,
      byHand: 'turn the class list into login names',
      ready,
      studentActions: 4,
      ...result,
    };
  } finally {
    await hub.stop();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-classroom-'));
  const browser = await launchBrowser();
  const outcomes: Outcome[] = [];
  try {
    const file = await classList(dir);
    const ours = await lectern(browser, file);
    outcomes.push(ours);
    report(ours);
    try {
      const theirs = await jupyterhub(browser, ours.names);
      outcomes.push(theirs);
      report(theirs);
    } catch (error) {
      console.log(`JupyterHub 3.0 could not do the job here: ${(error as Error).message.split('\n')[0]}`);
    }
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }

  const rows = outcomes.map(row);
  console.log(`\n${table(HEADER, rows, new Set([1, 2, 3, 4, 5, 6]))}`);
  const [ours, theirs] = outcomes;
  if (ours?.answers.length && theirs?.answers.length) {
    const last = (outcome: Outcome) => outcome.answers.at(-1) as number;
    console.log(`Last student's 42, Lectern/JupyterHub: ${(last(ours) / last(theirs)).toFixed(2)}×. Aim: three teacher actions: ${ours.actions.length === 3 ? 'met' : 'NOT met'}.`);
  }
}

const HEADER = ['lesson start', 'teacher actions', 'start → way in ready', 'student actions', 'answered', 'median 42', 'last 42'];

function row(outcome: Outcome): string[] {
  return [
    outcome.label,
    String(outcome.actions.length) + (outcome.byHand ? ' + by hand' : ''),
    seconds(outcome.ready),
    String(outcome.studentActions),
    `${outcome.answers.length}/${outcome.answers.length + outcome.failures.length}`,
    outcome.answers.length ? seconds(outcome.answers[Math.floor((outcome.answers.length - 1) / 2)] as number) : 'n/a',
    outcome.answers.length ? seconds(outcome.answers.at(-1) as number) : 'n/a',
  ];
}

/** One hub's figures as soon as it is done, in case the next one never finishes. */
function report(outcome: Outcome): void {
  console.log(`\n${table(HEADER, [row(outcome)], new Set([1, 2, 3, 4, 5, 6]))}`);
  console.log(`${outcome.label}: ${outcome.actions.join(' → ')}${outcome.byHand ? `; by hand: ${outcome.byHand}` : ''}.`);
  for (const failure of outcome.failures) console.log(`  failed: ${failure}`);
}

await main();
