/**
 * A student's work, read safely: `<base>hub/work/<name>/<path>` shows the folders, notebooks, text
 * and images of a student's own folder, rendered by the hub, with no server of the student's needed
 * and none of the student's code or pages run (notebooks/render.ts). It is how a teacher looks at
 * work; opening the student's live server is a deliberate second choice in the dashboard.
 *
 * `?snapshot=ID` shows one of the student's hand-ins or collected snapshots instead of their live
 * folder, and steps through each classmate's latest snapshot of that handout.
 *
 * Whoever may open a student's server may read its files here (`access:servers`): the student
 * herself, and the teacher; a snapshot also to whoever may collect its handout (a teaching
 * assistant of its class). Every page is served with a Content-Security-Policy that runs no script
 * and sandboxes the page in an origin of its own: should anything of the student's slip through the
 * sanitiser, it can neither run nor reach the hub.
 */
import express, { type Request, type Response, type Router } from 'express';
import { hasScope, scopeStatus } from '../../rbac/scopes.js';
import { homeFolder } from '../../servers/student-folders.js';
import { NotInStudentFolder, StudentFiles, type StudentEntry } from '../../servers/student-files.js';
import type { HandinKind } from '../../store/handouts.js';
import { COLLECT_SCOPES, collectTarget } from '../api/handouts.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf } from '../identity.js';
import { html, type SafeHtml } from '../../html/html.js';
import { layout } from './templates.js';

/** Files larger than these are not rendered (a page of that size helps nobody). */
const MAX_NOTEBOOK_BYTES = 20 * 2 ** 20;
const MAX_TEXT_BYTES = 2 * 2 ** 20;
const MAX_IMAGE_BYTES = 10 * 2 ** 20;
const TEXT_FILES = /\.(py|txt|md|csv|tsv|json|ya?ml|toml|ini|cfg|r|jl|sql|sh|js|ts|html?|css|tex|log)$/i;
const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.svg': 'image/svg+xml' };
/** No script, no plugin, no form, an opaque origin: a student's content shows, and does nothing. */
const WORK_CSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";
const ACCESS_SCOPE = 'access:servers';

export function workRouter(ctx: HubContext): Router {
  const router = express.Router();
  const { urls } = ctx;

  router.get('/work/:name{/*path}', async (req: Request<{ name: string; path?: string[] }>, res: Response) => {
    const viewer = identityOf(res);
    if (!viewer?.user) {
      res.redirect(302, urls.login(req.originalUrl));
      return;
    }
    const student = ctx.users.find(req.params.name);
    // `?snapshot=ID`: one of the student's hand-ins or collected snapshots, instead of their live folder.
    const snapshot = req.query.snapshot === undefined ? undefined : ctx.handouts.findSnapshot(Number(req.query.snapshot));
    const snapshotOf = snapshot && ctx.handouts.find(snapshot.handin.handoutId);
    const maySee = (name: string) =>
      hasScope(viewer.scopes, ACCESS_SCOPE, { user: name, server: `${name}/` }, viewer.groupsOf) ||
      (snapshotOf !== undefined && scopeStatus(viewer.scopes, COLLECT_SCOPES, collectTarget(snapshotOf), viewer.groupsOf) === 'allowed');
    // Another student's name gets the same answer as a name that does not exist.
    if (!student || !maySee(student.name) || (req.query.snapshot !== undefined && snapshot?.handin.userId !== student.id)) {
      throw new HttpError(404, 'No such student, or not one whose work you may see.');
    }
    const segments = req.params.path ?? [];
    const files = new StudentFiles(snapshot ? snapshot.root : homeFolder(ctx.config, student.name));
    res.set({ 'Content-Security-Policy': WORK_CSP, 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' });
    const view: WorkView = {
      urls: ctx.urls,
      viewer: viewer.name,
      student: student.name,
      segments,
      query: '',
      snapshot: snapshot && { at: snapshot.handin.at, kind: snapshot.handin.kind, late: snapshot.handin.late },
    };
    if (snapshot && snapshotOf) {
      // Previous and next student: each one's latest snapshot of the same handout.
      view.query = `?snapshot=${snapshot.handin.id}`;
      view.steps = {
        name: snapshotOf.name,
        stops: ctx.handouts
          .latestSnapshots(snapshotOf)
          .filter((latest) => maySee(latest.user))
          .sort((a, b) => a.user.localeCompare(b.user))
          .map((latest) => ({ user: latest.user, root: [], query: `?snapshot=${latest.handin.id}` })),
      };
    } else {
      // Opened from a handout (`?handout=ID`): previous and next student, at the same place in their copy.
      const handout = ctx.handouts.find(Number(req.query.handout));
      if (handout) {
        view.query = `?handout=${handout.id}`;
        view.steps = {
          name: handout.name,
          stops: ctx.handouts
            .copyFolders(handout)
            .filter((copy) => maySee(copy.user))
            .map((copy) => ({ user: copy.user, root: [copy.folder], query: `?handout=${handout.id}` })),
        };
      }
    }
    try {
      const found = await files.at(segments);
      if (found.kind === 'folder') {
        res.type('html').send(page(view, folderView(view, found.entries)));
        return;
      }
      const name = segments.at(-1) ?? '';
      const imageType = IMAGE_TYPES[extension(name)];
      if (imageType && req.query.raw === '1') {
        await sendImage(res, files, segments, imageType);
        return;
      }
      res.type('html').send(page(view, await fileView(view, files, name, found.size)));
    } catch (error) {
      if (error instanceof NotInStudentFolder) throw new HttpError(404, 'There is no such file or folder in this student’s work.');
      throw error;
    }
  });

  return router;
}

interface WorkView {
  urls: HubContext['urls'];
  viewer: string;
  student: string;
  segments: readonly string[];
  /** Kept on every link within the page (`?handout=3`, `?snapshot=17`), or ''. */
  query: string;
  /** When the page shows a snapshot rather than the live folder: when it was taken, and how. */
  snapshot?: { at: string; kind: HandinKind; late: boolean } | undefined;
  /** The students the teacher is stepping through, with where each one's copy starts. */
  steps?: { name: string; stops: StepStop[] } | undefined;
}

/** One student's place in a step-through: the path to their copy of the handout, and the query for it. */
interface StepStop {
  user: string;
  root: string[];
  query: string;
}

function page(view: WorkView, body: SafeHtml): string {
  const title = view.segments.length > 0 ? `${view.segments.at(-1) ?? ''} · ${view.student}’s work` : `${view.student}’s work`;
  return layout({ title, urls: view.urls, user: view.viewer, stylesheet: 'work.css', body: html`<section class="work">${breadcrumbs(view)}${body}</section>` });
}

function workUrl(view: WorkView, segments: readonly string[], student = view.student): string {
  return view.urls.hub(`work/${[student, ...segments].map(encodeURIComponent).join('/')}`);
}

/** A page's link to another place in the same work: the same snapshot, or still stepping through a handout. */
function pageUrl(view: WorkView, segments: readonly string[]): string {
  return `${workUrl(view, segments)}${view.query}`;
}

function breadcrumbs(view: WorkView): SafeHtml {
  const parts = view.segments.map((segment, index) => html` / <a href="${pageUrl(view, view.segments.slice(0, index + 1))}">${segment}</a>`);
  const root = view.snapshot ? `${view.student}’s ${SNAPSHOT_KINDS[view.snapshot.kind]} ${view.snapshot.at.replace('T', ' ').slice(0, 16)} UTC${view.snapshot.late ? ' (late)' : ''}` : view.student;
  return html`<nav class="crumbs" aria-label="Where in the student’s folder"><a href="${pageUrl(view, [])}">${root}</a>${parts}</nav>
${stepper(view)}
<p class="hint">Read only: nothing here runs, and nothing is changed.</p>`;
}

const SNAPSHOT_KINDS: Record<HandinKind, string> = { 'handed-in': 'hand-in of', collected: 'work collected' };

/** Previous and next student, at the same place in their own copy. */
function stepper(view: WorkView): SafeHtml {
  const stops = view.steps?.stops ?? [];
  const here = stops.findIndex((stop) => stop.user === view.student);
  if (!view.steps || here < 0) return html``;
  const root = (stops[here] as StepStop).root;
  const within = root.every((segment, i) => view.segments[i] === segment) ? view.segments.slice(root.length) : [];
  const link = (stop: StepStop | undefined, label: string) =>
    stop ? html`<a href="${workUrl(view, [...stop.root, ...within], stop.user)}${stop.query}">${label}: ${stop.user}</a>` : html``;
  return html`<nav class="steps" aria-label="Students with ${view.steps.name}">${link(stops[here - 1], '← Previous')}
<span>${here + 1} of ${stops.length}</span>${link(stops[here + 1], 'Next →')}</nav>`;
}

function folderView(view: WorkView, entries: StudentEntry[]): SafeHtml {
  if (entries.length === 0) return html`<p class="empty">This folder is empty.</p>`;
  const rows = entries.map(
    (entry) =>
      html`<tr><td><a href="${pageUrl(view, [...view.segments, entry.name])}">${entry.kind === 'folder' ? `${entry.name}/` : entry.name}</a></td><td class="size">${entry.kind === 'folder' ? '' : formatSize(entry.size)}</td><td class="modified">${entry.modified.replace('T', ' ').slice(0, 16)}</td></tr>`,
  );
  return html`<table class="listing"><thead><tr><th>Name</th><th>Size</th><th>Changed (UTC)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function fileView(view: WorkView, files: StudentFiles, name: string, size: number): Promise<SafeHtml> {
  const ext = extension(name);
  // Loaded when a teacher first opens a file: markdown-it and sanitize-html (with its CSS and HTML
  // parsers) are a few MB of heap that a hub nobody reads work on never needs.
  const { renderMarkdown, renderNotebook, renderText } = await import('../../notebooks/render.js');
  if (ext === '.ipynb') {
    if (size > MAX_NOTEBOOK_BYTES) return tooLarge(size);
    const { bytes } = await files.read(view.segments, MAX_NOTEBOOK_BYTES);
    const rendered = renderNotebook(bytes.toString('utf8'));
    return rendered.ok ? rendered.body : html`<p class="problem" role="alert">${rendered.problem}</p>`;
  }
  if (IMAGE_TYPES[ext]) {
    if (size > MAX_IMAGE_BYTES) return tooLarge(size);
    return html`<img class="file-image" alt="${name}" src="${pageUrl(view, view.segments)}${view.query ? '&' : '?'}raw=1">`;
  }
  if (TEXT_FILES.test(name)) {
    const { bytes, complete } = await files.read(view.segments, MAX_TEXT_BYTES);
    const text = bytes.toString('utf8');
    const shown = ext === '.md' ? html`<div class="markdown">${renderMarkdown(text)}</div>` : renderText(text);
    return complete ? shown : html`${shown}<p class="hint">Only the first ${formatSize(MAX_TEXT_BYTES)} of ${formatSize(size)} are shown.</p>`;
  }
  return html`<p class="empty">A file of ${formatSize(size)} that this view does not show. Open it in the student’s server to see it.</p>`;
}

async function sendImage(res: Response, files: StudentFiles, segments: readonly string[], type: string): Promise<void> {
  const { bytes, complete } = await files.read(segments, MAX_IMAGE_BYTES);
  if (!complete) throw new HttpError(413, 'This image is too large to show here.');
  // An SVG opened on its own is a document that could run script: the page's CSP keeps it inert.
  res.set({ 'Content-Type': type, 'Content-Disposition': 'inline', 'X-Content-Type-Options': 'nosniff' });
  res.send(bytes);
}

function tooLarge(size: number): SafeHtml {
  return html`<p class="empty">This file is ${formatSize(size)}: too large to show here. Open it in the student’s server to see it.</p>`;
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
