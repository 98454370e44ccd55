// The status page's Silences and Ack actions (loaded only when actions are enabled).
(() => {
  function send(method, url, body, token) {
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  }
  function act(method, url, body) {
    var result = document.getElementById('action-result');
    return send(method, url, body, sessionStorage.getItem('dbswatch-token'))
      .then((res) => {
        if (res.status !== 401) return res;
        var entered = window.prompt('Token for actions (http.authToken):');
        if (!entered) return res;
        sessionStorage.setItem('dbswatch-token', entered);
        return send(method, url, body, entered);
      })
      .then((res) =>
        res
          .json()
          .catch(() => ({}))
          .then((b) => {
            if (result) {
              result.textContent = (b && (b.message || b.status)) || 'HTTP ' + res.status;
              result.className = res.ok ? 'ok' : 'bad';
            }
          }),
      );
  }
  var list = (v) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  document.addEventListener('submit', (event) => {
    var form = event.target;
    if (form?.id !== 'silence-form') return;
    event.preventDefault();
    var body = { for: form.elements['for'].value, reason: form.elements.reason.value };
    var plans = list(form.elements.plans.value);
    if (plans) body.plans = plans;
    var events = list(form.elements.events.value);
    if (events) body.events = events;
    act('POST', 'api/silences', body).then(() => {
      form.reset();
    });
  });
  document.addEventListener('click', (event) => {
    var el = event.target?.closest ? event.target.closest('button.unsilence, button.ack') : null;
    if (!el) return;
    el.disabled = true;
    if (el.classList.contains('ack')) act('POST', 'api/acks/' + encodeURIComponent(el.getAttribute('data-task') || ''), {});
    else act('DELETE', 'api/silences/' + encodeURIComponent(el.getAttribute('data-silence') || ''));
  });
})();
