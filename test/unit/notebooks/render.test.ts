import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMarkdown, renderNotebook } from '../../../server/notebooks/render.js';

/** A notebook with one code cell whose outputs are `outputs`, and the Markdown cells given. */
function notebook(outputs: unknown[], markdown: string[] = []): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      ...markdown.map((source) => ({ cell_type: 'markdown', metadata: {}, source })),
      { cell_type: 'code', metadata: {}, execution_count: 3, source: ['print("hi")\n', 'x = 1 < 2'], outputs },
    ],
  });
}

function body(text: string): string {
  const page = renderNotebook(text);
  assert.ok(page.ok, page.ok ? '' : page.problem);
  return page.body.value;
}

/** No element or attribute that could run script survives. */
function assertInert(html: string): void {
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no event handler attribute');
  assert.doesNotMatch(html, /(href|src)\s*=\s*["']?\s*javascript:/i, 'no javascript: link');
  assert.doesNotMatch(html, /<(iframe|object|embed|form|svg|style|link|meta|base)\b/i);
}

describe('a student’s notebook, shown to the teacher', () => {
  it('shows code, prompts, streams, errors and plain results, escaped', () => {
    const html = body(
      notebook([
        { output_type: 'stream', name: 'stdout', text: ['<b>not bold</b>\n'] },
        { output_type: 'error', ename: 'ZeroDivisionError', evalue: 'x', traceback: ['\u001b[0;31mZeroDivisionError\u001b[0m: division by zero'] },
        { output_type: 'execute_result', execution_count: 3, data: { 'text/plain': ['42'] }, metadata: {} },
      ]),
    );
    assert.match(html, /In \[3\]:/);
    assert.match(html, /print\(&quot;hi&quot;\)\nx = 1 &lt; 2/);
    assert.match(html, /&lt;b&gt;not bold&lt;\/b&gt;/);
    assert.match(html, /<span class="ansi-red-fg">ZeroDivisionError<\/span>: division by zero/);
    assert.match(html, />42</);
  });

  it('runs none of what a hostile student put in it', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>';
    const html = body(
      notebook(
        [
          { output_type: 'display_data', data: { 'text/html': '<script>fetch("/hub/api/users")</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a><iframe src="/hub/admin"></iframe><b>kept</b>' }, metadata: {} },
          { output_type: 'display_data', data: { 'application/javascript': 'alert(1)', 'text/plain': 'Javascript output' }, metadata: {} },
          { output_type: 'display_data', data: { 'image/svg+xml': svg }, metadata: {} },
          { output_type: 'display_data', data: { 'application/vnd.jupyter.widget-view+json': { model_id: 'x' } }, metadata: {} },
          { output_type: 'display_data', data: { 'text/markdown': '[click](javascript:alert(1)) <img src="http://tracker.example/p.png">' }, metadata: {} },
        ],
        ['# Title\n<script>alert(1)</script>\n[a link](https://example.org) <a href="javascript:alert(1)" onclick="x()">bad</a>'],
      ),
    );
    assertInert(html);
    assert.match(html, /<b>kept<\/b>/, 'harmless HTML stays');
    assert.match(html, /<h1>Title<\/h1>/);
    assert.match(html, /<a href="https:\/\/example\.org" rel="noopener noreferrer nofollow" target="_blank">a link<\/a>/);
    assert.match(html, /<img class="output image" alt="An image output" src="data:image\/svg\+xml;base64,/, 'an SVG is shown as an image, where it runs nothing');
    assert.match(html, /interactive output \(application\/vnd\.jupyter\.widget-view\+json\) is not run here/);
    assert.doesNotMatch(html, /tracker\.example/, 'no image from elsewhere (it would tell who looked)');
  });

  it('cuts a huge output, saying how much is left out', () => {
    const html = body(notebook([{ output_type: 'stream', name: 'stdout', text: 'x'.repeat(300_000) }]));
    assert.match(html, /… \(200000 more characters not shown\)/);
    assert.ok(html.length < 150_000);
  });

  it('says clearly what it cannot show, and never throws', () => {
    const cases: [string, RegExp][] = [
      ['{"cells": [', /not valid JSON/],
      ['[1, 2, 3]', /not a notebook: it has no cells/],
      ['{"worksheets": []}', /nbformat 3/],
      ['', /not valid JSON/],
    ];
    for (const [text, problem] of cases) {
      const page = renderNotebook(text);
      assert.equal(page.ok, false, text);
      assert.match(page.ok ? '' : page.problem, problem);
    }
    // Cells and outputs of the wrong shapes are shown as well as they can be.
    assert.ok(renderNotebook('{"cells": [null, 3, {"cell_type": "code", "outputs": [null, {"output_type": "display_data", "data": {"image/png": "not base64!"}}]}]}').ok);
  });

  it('renders a Markdown file as a Markdown cell, sanitised', () => {
    const html = renderMarkdown('**bold** <img src=x onerror=alert(1)>').value;
    assert.match(html, /<strong>bold<\/strong>/);
    assertInert(html);
  });
});
