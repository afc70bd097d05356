// Progress of a running plan: poll the API and move the bar; reload when the solve ends.
(function () {
  var box = document.getElementById('plan-progress');
  if (!box) { return; }
  var bar = document.getElementById('progress-bar');
  var message = document.getElementById('progress-message');
  function poll() {
    fetch(box.getAttribute('data-status-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (plan) {
        var pct = Math.round((plan.progress || 0) * 100);
        bar.value = pct; bar.textContent = pct + '%';
        message.textContent = plan.progress_message || '';
        if (plan.status === 'queued' || plan.status === 'running') { setTimeout(poll, 1000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
