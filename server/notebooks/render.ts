/**
 * A student's notebook as a page the teacher can read safely: cells, Markdown, images and text
 * outputs, with no student JavaScript run and no student HTML trusted. A notebook is attacker input
 * — its outputs may hold script tags, `javascript:` links, SVG with scripts, megabytes of text or
 * JSON that is not a notebook at all — so:
 *
 * - text (code, streams, tracebacks, plain outputs) is escaped, ANSI colours turned into spans by
 *   ansi_up, which escapes as it goes;
 * - Markdown goes through markdown-it, and it and HTML outputs then through sanitize-html, which keeps
 *   an allow-list of tags and attributes and only http(s) and mailto links; images only as
 *   `data:` URLs of image types (an SVG in an `<img>` runs no script);
 * - JavaScript and widget outputs are named, not run; huge outputs are cut, saying so;
 * - whatever cannot be read is a clear message, never an exception.
 *
 * The page it goes in is served with a Content-Security-Policy that forbids scripts and sandboxes
 * it (hub/pages/work.ts): a sanitiser bypass would still run nothing.
 */
import { AnsiUp } from 'ansi_up';
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { html, SafeHtml } from '../html/html.js';

/** Text outputs longer than this are cut (a loop printing a million lines makes no readable page). */
const MAX_TEXT_CHARS = 100_000;
/** Images larger than this are left out (base64 characters). */
const MAX_IMAGE_CHARS = 10_000_000;
/** The image types shown, as `data:` URLs in `<img>` elements. */
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'] as const;
/** Output types in the order a notebook viewer prefers them. */
const RICH_ORDER = ['text/html', 'text/markdown', ...IMAGE_TYPES, 'text/latex', 'application/json', 'text/plain'] as const;

const markdown = new MarkdownIt({ html: true, linkify: true });

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'del', 'ins', 'sup', 'sub', 'details', 'summary'],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    th: ['colspan', 'rowspan', 'align'],
    td: ['colspan', 'rowspan', 'align'],
    ol: ['start'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['data'] },
  allowProtocolRelative: false,
  transformTags: {
    // A link leaves the teacher's page without telling the destination where it came from.
    a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }),
  },
  exclusiveFilter: (frame) => frame.tag === 'img' && !isImageDataUrl(frame.attribs.src ?? ''),
};

export type NotebookPage = { ok: true; body: SafeHtml; cells: number } | { ok: false; problem: string };

interface Cell {
  cell_type?: unknown;
  source?: unknown;
  outputs?: unknown;
  execution_count?: unknown;
}

/** Renders the text of an `.ipynb` file, or says why it cannot. */
export function renderNotebook(text: string): NotebookPage {
  let notebook: unknown;
  try {
    notebook = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `This notebook cannot be shown: it is not valid JSON (${(error as Error).message}). It may have been saved half-way, or it is not a notebook.` };
  }
  const cells = isObject(notebook) && Array.isArray(notebook.cells) ? (notebook.cells as unknown[]) : undefined;
  if (cells === undefined) {
    const old = isObject(notebook) && Array.isArray(notebook.worksheets);
    return {
      ok: false,
      problem: old
        ? 'This notebook is in the format of Jupyter 3 or older (nbformat 3). Open it in Jupyter once to convert it.'
        : 'This file is JSON, but not a notebook: it has no cells.',
    };
  }
  const rendered = cells.map((cell) => renderCell(isObject(cell) ? (cell as Cell) : {}));
  return { ok: true, body: html`<div class="notebook">${rendered}</div>`, cells: cells.length };
}

/** A Markdown file, rendered and sanitised like a Markdown cell. */
export function renderMarkdown(text: string): SafeHtml {
  return new SafeHtml(sanitizeHtml(markdown.render(text), SANITIZE));
}

/** Text shown as it is, escaped and cut when huge. */
export function renderText(text: string): SafeHtml {
  return html`<pre class="text">${cut(text)}</pre>`;
}

function renderCell(cell: Cell): SafeHtml {
  const source = joined(cell.source);
  switch (cell.cell_type) {
    case 'markdown':
      return html`<section class="cell markdown">${renderMarkdown(source)}</section>`;
    case 'code': {
      const count = typeof cell.execution_count === 'number' ? cell.execution_count : ' ';
      const outputs = Array.isArray(cell.outputs) ? cell.outputs.map((output) => renderOutput(isObject(output) ? output : {})) : [];
      return html`<section class="cell code"><div class="prompt">In [${count}]:</div><pre class="source">${cut(source)}</pre>${outputs}</section>`;
    }
    default:
      return html`<section class="cell raw"><pre class="source">${cut(source)}</pre></section>`;
  }
}

function renderOutput(output: Record<string, unknown>): SafeHtml {
  switch (output.output_type) {
    case 'stream':
      return html`<pre class="output stream ${output.name === 'stderr' ? 'stderr' : ''}">${ansi(joined(output.text))}</pre>`;
    case 'error': {
      const traceback = Array.isArray(output.traceback) ? output.traceback.map((line) => String(line)).join('\n') : `${String(output.ename)}: ${String(output.evalue)}`;
      return html`<pre class="output error">${ansi(traceback)}</pre>`;
    }
    case 'execute_result':
    case 'display_data':
      return renderRich(isObject(output.data) ? output.data : {});
    default:
      return html``;
  }
}

function renderRich(data: Record<string, unknown>): SafeHtml {
  for (const type of RICH_ORDER) {
    if (data[type] === undefined) continue;
    const value = joined(data[type]);
    switch (type) {
      case 'text/html':
        return html`<div class="output html">${new SafeHtml(sanitizeHtml(cut(value), SANITIZE))}</div>`;
      case 'text/markdown':
        return html`<div class="output markdown">${renderMarkdown(cut(value))}</div>`;
      case 'text/latex':
      case 'text/plain':
        return html`<pre class="output">${ansi(value)}</pre>`;
      case 'application/json':
        return html`<pre class="output">${cut(JSON.stringify(data[type], null, 2) ?? '')}</pre>`;
      default:
        return image(type, value);
    }
  }
  const script = Object.keys(data).find((type) => /javascript|widget|vnd\./.test(type));
  return script
    ? html`<p class="output omitted">An interactive output (${script}) is not run here: open the notebook in Jupyter to see it.</p>`
    : html`<p class="output omitted">An output of a kind this view does not show (${Object.keys(data).join(', ') || 'empty'}).</p>`;
}

function image(type: (typeof IMAGE_TYPES)[number], value: string): SafeHtml {
  const base64 = type === 'image/svg+xml' ? Buffer.from(value, 'utf8').toString('base64') : value.replace(/\s+/g, '');
  if (base64.length > MAX_IMAGE_CHARS) return html`<p class="output omitted">An image too large to show here (${Math.round((base64.length * 3) / 4 / 2 ** 20)} MiB).</p>`;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return html`<p class="output omitted">An image that is not valid base64.</p>`;
  return html`<img class="output image" alt="An image output" src="data:${type};base64,${base64}">`;
}

function ansi(text: string): SafeHtml {
  const converter = new AnsiUp();
  converter.use_classes = true;
  // ansi_up escapes <, > and & itself: its output is HTML.
  return new SafeHtml(converter.ansi_to_html(cut(text)));
}

function cut(text: string): string {
  if (text.length <= MAX_TEXT_CHARS) return text;
  return `${text.slice(0, MAX_TEXT_CHARS)}\n… (${text.length - MAX_TEXT_CHARS} more characters not shown)`;
}

/** A notebook's multiline string: a string, or a list of lines. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((line) => (typeof line === 'string' ? line : '')).join('');
  return '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isImageDataUrl(src: string): boolean {
  return /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$/.test(src);
}
