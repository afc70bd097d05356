// 1. Progress of a background run (a plan, a what-if): poll its JSON and move the bar; reload
// when it ends. The page marks the box with data-status-url; the bar is #progress-bar and the
// message #progress-message. Without JavaScript the page offers a refresh link instead.
(function () {
  var box = document.querySelector('[data-status-url]');
  if (!box) { return; }
  var bar = document.getElementById('progress-bar');
  var message = document.getElementById('progress-message');
  function poll() {
    fetch(box.getAttribute('data-status-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        var pct = Math.round((run.progress || 0) * 100);
        bar.value = pct; bar.textContent = pct + '%';
        message.textContent = run.progress_message || '';
        if (run.status === 'queued' || run.status === 'running') { setTimeout(poll, 1000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();

// 2. A spreadsheet upload is checked and saved in one request (all rows or none): while it is
// sent and checked, show a working bar and stop a second submission.
(function () {
  var box = document.getElementById('import-progress');
  if (!box) { return; }
  var form = box.closest('form');
  form.addEventListener('submit', function () {
    box.hidden = false;
    var button = form.querySelector('button[type=submit]');
    if (button) { button.disabled = true; }
  });
})();
