/**
 * Server-sent events read from a `fetch` body, for streams `EventSource` cannot open: it only
 * does GET, and the roster import is a POST that reports its progress as events.
 */

/** The `data` of each event in `body`, as text (multi-line data joined with newlines). */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // Comments (keep-alives) and the other fields (event, id, retry) carry nothing the GUI uses.
    }
  }
  if (data.length > 0) yield data.join('\n');
}
