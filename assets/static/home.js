// Home page: the "Stop my server" button. Talks to the hub's REST API with the session cookie
// (same origin only; the hub refuses cookie-authenticated API calls from other origins).
const section = document.getElementById('server');
const stopButton = document.getElementById('stop-server');
if (section && stopButton) {
  stopButton.addEventListener('click', async () => {
    stopButton.disabled = true;
    document.getElementById('server-state').textContent = 'Stopping…';
    const response = await fetch(section.dataset.api, { method: 'DELETE', headers: { Accept: 'application/json' } });
    if (response.status === 202) {
      // Still stopping: look again shortly.
      setTimeout(() => window.location.reload(), 1000);
    } else {
      window.location.reload();
    }
  });
}
