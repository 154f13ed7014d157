// The progress page: follows the hub's progress event stream and moves on when the server is ready.
const section = document.getElementById('progress');
if (section) {
  const bar = document.getElementById('progress-bar');
  const message = document.getElementById('progress-message');
  const error = document.getElementById('progress-error');
  const retry = document.getElementById('retry');
  const source = new EventSource(section.dataset.progressUrl);
  source.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (typeof data.progress === 'number') bar.value = data.progress;
    if (data.message) message.textContent = data.message;
    if (data.ready) {
      source.close();
      window.location.assign(section.dataset.next);
    } else if (data.failed) {
      source.close();
      error.textContent = data.message;
      error.hidden = false;
      retry.hidden = false;
    }
  };
  source.onerror = () => {
    // The stream ends once the server is ready or failed; a reload shows where things stand.
    source.close();
    setTimeout(() => window.location.reload(), 2000);
  };
}
