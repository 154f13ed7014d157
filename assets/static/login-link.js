// Login-link page: sends the form that uses the link, once the page is actually on screen. A page
// loaded in the background (prerendered, or fetched by a link preview that runs scripts) waits, so
// only a person looking at it spends the link; the button does the same by hand.
const form = document.getElementById('login-link-form');
let sent = false;
function send() {
  if (sent || document.visibilityState !== 'visible') return;
  sent = true;
  form.submit();
}
if (form) {
  send();
  document.addEventListener('visibilitychange', send);
  form.addEventListener('submit', () => {
    sent = true;
  });
}
