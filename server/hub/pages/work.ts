/**
 * A student's work, read safely: `<base>hub/work/<name>/<path>` shows the folders, notebooks, text
 * and images of a student's own folder, rendered by the hub, with no server of the student's needed
 * and none of the student's code or pages run (notebooks/render.ts). It is how a teacher looks at
 * work; opening the student's live server is a deliberate second choice in the dashboard.
 *
 * Whoever may open a student's server may read its files here (`access:servers`): the student
 * herself, and the teacher. Every page is served with a Content-Security-Policy that runs no script
 * and sandboxes the page in an origin of its own: should anything of the student's slip through the
 * sanitiser, it can neither run nor reach the hub.
 */
import express, { type Request, type Response, type Router } from 'express';
import { renderMarkdown, renderNotebook, renderText } from '../../notebooks/render.js';
import { hasScope } from '../../rbac/scopes.js';
import { homeFolder } from '../../servers/student-folders.js';
import { NotInStudentFolder, StudentFiles, type StudentEntry } from '../../servers/student-files.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf } from '../identity.js';
import { html, type SafeHtml } from './html.js';
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
    // Another student's name gets the same answer as a name that does not exist.
    if (!student || !hasScope(viewer.scopes, ACCESS_SCOPE, { user: student.name, server: `${student.name}/` }, viewer.groupsOf)) {
      throw new HttpError(404, 'No such student, or not one whose work you may see.');
    }
    const segments = req.params.path ?? [];
    const files = new StudentFiles(homeFolder(ctx.config, student.name));
    res.set({ 'Content-Security-Policy': WORK_CSP, 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' });
    // Opened from a handout (`?handout=ID`): previous and next student, at the same place in their copy.
    const handout = ctx.handouts.find(Number(req.query.handout));
    const classmates = handout
      ? ctx.handouts
          .copyFolders(handout)
          .filter((copy) => hasScope(viewer.scopes, ACCESS_SCOPE, { user: copy.user, server: `${copy.user}/` }, viewer.groupsOf))
      : [];
    try {
      const found = await files.at(segments);
      const view: WorkView = {
        urls: ctx.urls,
        viewer: viewer.name,
        student: student.name,
        segments,
        handout: handout && { id: handout.id, name: handout.name, classmates },
      };
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
  /** The handout the teacher is stepping through, and each student's copy of it they may see. */
  handout?: { id: number; name: string; classmates: { user: string; folder: string }[] } | undefined;
}

function page(view: WorkView, body: SafeHtml): string {
  const title = view.segments.length > 0 ? `${view.segments.at(-1) ?? ''} · ${view.student}’s work` : `${view.student}’s work`;
  return layout({ title, urls: view.urls, user: view.viewer, stylesheet: 'work.css', body: html`<section class="work">${breadcrumbs(view)}${body}</section>` });
}

function workUrl(view: WorkView, segments: readonly string[], student = view.student): string {
  return view.urls.hub(`work/${[student, ...segments].map(encodeURIComponent).join('/')}`);
}

/** A page's link to another place in the work: still stepping through the handout's students, if it was. */
function pageUrl(view: WorkView, segments: readonly string[], student = view.student): string {
  const url = workUrl(view, segments, student);
  return view.handout ? `${url}?handout=${view.handout.id}` : url;
}

function breadcrumbs(view: WorkView): SafeHtml {
  const parts = view.segments.map((segment, index) => html` / <a href="${pageUrl(view, view.segments.slice(0, index + 1))}">${segment}</a>`);
  return html`<nav class="crumbs" aria-label="Where in the student’s folder"><a href="${pageUrl(view, [])}">${view.student}</a>${parts}</nav>
${stepper(view)}
<p class="hint">Read only: nothing here runs, and nothing is changed.</p>`;
}

/** Previous and next student with the handout, at the same place in their own copy. */
function stepper(view: WorkView): SafeHtml {
  const { handout } = view;
  const here = handout?.classmates.findIndex((copy) => copy.user === view.student) ?? -1;
  if (!handout || here < 0) return html``;
  const within = view.segments[0] === handout.classmates[here]?.folder ? view.segments.slice(1) : [];
  const link = (copy: { user: string; folder: string } | undefined, label: string) =>
    copy ? html`<a href="${pageUrl(view, [copy.folder, ...within], copy.user)}">${label}: ${copy.user}</a>` : html``;
  return html`<nav class="steps" aria-label="Students with ${handout.name}">${link(handout.classmates[here - 1], '← Previous')}
<span>${here + 1} of ${handout.classmates.length}</span>${link(handout.classmates[here + 1], 'Next →')}</nav>`;
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
  if (ext === '.ipynb') {
    if (size > MAX_NOTEBOOK_BYTES) return tooLarge(size);
    const { bytes } = await files.read(view.segments, MAX_NOTEBOOK_BYTES);
    const rendered = renderNotebook(bytes.toString('utf8'));
    return rendered.ok ? rendered.body : html`<p class="problem" role="alert">${rendered.problem}</p>`;
  }
  if (IMAGE_TYPES[ext]) {
    if (size > MAX_IMAGE_BYTES) return tooLarge(size);
    return html`<img class="file-image" alt="${name}" src="${workUrl(view, view.segments)}?raw=1">`;
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
