/*
 * The status page's script, served from /assets/page.js (loaded with the
 * page's CSP nonce; nothing else may run).
 *
 * Refreshes the live part by fetching this same URL and swapping `#live`
 * (one renderer — the server's — for first paint and updates, so escaping
 * lives in one place); submits the filter form on change; sends Retry.
 *
 * Retry is a POST with a JSON content type: a cross-site form cannot send
 * that without a CORS preflight, which this server never grants, so a
 * browser's remembered Basic credentials cannot be abused from another
 * site. When the server answers 401 (no credentials remembered), the token
 * is asked for once and kept in sessionStorage for this tab only.
 */
(() => {
  const refreshSeconds = Number(document.body.dataset.refreshSeconds) || 5;
  const state = document.getElementById('refresh-state');
  let busy = false;

  function say(el, text, cls) {
    if (!el) return;
    el.textContent = text;
    el.className = cls || '';
  }

  function refresh() {
    if (busy) return Promise.resolve();
    busy = true;
    return fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' })
      .then((res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return res.text();
      })
      .then((text) => {
        const next = new DOMParser().parseFromString(text, 'text/html').getElementById('live');
        const live = document.getElementById('live');
        if (next && live) live.replaceWith(document.adoptNode(next));
        say(state, `updated ${new Date().toLocaleTimeString()}`, 'muted');
      })
      .catch((error) => say(state, `refresh failed (${error.message}); retrying`, 'warn'))
      .finally(() => {
        busy = false;
      });
  }
  setInterval(refresh, refreshSeconds * 1000);

  document.addEventListener('change', (event) => {
    const form = event.target?.form;
    if (form && form.id === 'filter') form.submit();
  });

  function postRetry(id, token) {
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    return fetch(`api/notifications/${encodeURIComponent(id)}/retry`, {
      method: 'POST',
      headers,
      body: '{}',
      credentials: 'same-origin',
    });
  }

  document.addEventListener('click', (event) => {
    const button = event.target?.closest ? event.target.closest('button.retry') : null;
    if (!button) return;
    const id = button.getAttribute('data-job') || '';
    const result = document.getElementById('action-result');
    button.disabled = true;
    const token = sessionStorage.getItem('dbswatch-token');
    postRetry(id, token)
      .then((res) => {
        if (res.status !== 401) return res;
        const entered = window.prompt('Token for actions (http.authToken):');
        if (!entered) return res;
        sessionStorage.setItem('dbswatch-token', entered);
        return postRetry(id, entered);
      })
      .then((res) =>
        res
          .json()
          .catch(() => ({}))
          .then((body) => {
            say(result, body?.message || `HTTP ${res.status}`, res.ok ? 'ok' : 'bad');
            return refresh();
          }),
      )
      .catch((error) => {
        say(result, `retry failed: ${error.message}`, 'bad');
        button.disabled = false;
      });
  });
})();
