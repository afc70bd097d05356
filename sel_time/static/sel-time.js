// sel-time's own behaviour on top of the NHS.UK frontend, on every page (base.html). Each part
// finds its elements and does nothing when they are absent; without JavaScript every page still
// works (tables unsorted, progress by the refresh link, the grid by Tab).
(function () {
  'use strict';
  var live = document.getElementById('sel-live');

  function announce(text) {
    if (!live) { return; }
    live.textContent = '';
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  // 1. Tables (macros.html `table`): header buttons sort the rows; aria-sort says how.
  function sortKey(cell) {
    if (!cell) { return ''; }
    var raw = cell.getAttribute('data-sort');
    var text = (raw !== null ? raw : cell.textContent).trim();
    var number = text.replace(/[£,%\s]/g, '').replace(/^[−–]/, '-');
    if (number !== '' && !isNaN(Number(number))) { return Number(number); }
    return text.toLowerCase();
  }

  function sortable(table) {
    var head = table.tHead;
    var body = table.tBodies[0];
    if (!head || !body || head.rows.length !== 1) { return; }
    Array.prototype.forEach.call(head.rows[0].cells, function (th, index) {
      if (!th.textContent.trim() || th.querySelector('.nhsuk-u-visually-hidden:only-child')) { return; }
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sel-sort';
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      th.setAttribute('aria-sort', 'none');
      button.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(head.rows[0].cells, function (other) {
          if (other.hasAttribute('aria-sort')) { other.setAttribute('aria-sort', 'none'); }
        });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortKey(a.cells[index]);
          var y = sortKey(b.cells[index]);
          var order = (typeof x === 'number' && typeof y === 'number') ? x - y
            : String(x).localeCompare(String(y), 'en-GB', { numeric: true });
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        announce('Sorted by ' + button.textContent.trim() + ', ' + (ascending ? 'ascending' : 'descending'));
      });
    });
  }

  // 2. The plan grid: one Tab stop (roving tabindex); the arrow keys move between sessions,
  // Home and End to the first and last in the row.
  function grid(table) {
    var links = Array.prototype.slice.call(table.querySelectorAll('tbody a'));
    if (!links.length) { return; }
    links.forEach(function (a, i) { a.tabIndex = i === 0 ? 0 : -1; });
    function cellIndex(a) { return a.closest('td').cellIndex; }
    function go(from, to) {
      if (!to) { return; }
      from.tabIndex = -1; to.tabIndex = 0; to.focus();
    }
    table.addEventListener('keydown', function (event) {
      var a = event.target.closest('a');
      if (!a) { return; }
      var row = a.closest('tr');
      var inRow = Array.prototype.slice.call(row.querySelectorAll('a'));
      var at = inRow.indexOf(a);
      var target = null;
      if (event.key === 'ArrowRight') { target = inRow[at + 1]; }
      else if (event.key === 'ArrowLeft') { target = inRow[at - 1]; }
      else if (event.key === 'Home') { target = inRow[0]; }
      else if (event.key === 'End') { target = inRow[inRow.length - 1]; }
      else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        var step = event.key === 'ArrowDown' ? 1 : -1;
        var col = cellIndex(a);
        for (var r = row; (r = step > 0 ? r.nextElementSibling : r.previousElementSibling);) {
          var candidates = Array.prototype.slice.call(r.querySelectorAll('a'));
          if (!candidates.length) { continue; }
          target = candidates.reduce(function (best, c) {
            return Math.abs(cellIndex(c) - col) < Math.abs(cellIndex(best) - col) ? c : best;
          });
          break;
        }
      } else { return; }
      event.preventDefault();
      go(a, target);
    });
  }

  // 3. Copy buttons: data-copy names the field whose value is copied.
  function copy(button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var field = document.getElementById(button.getAttribute('data-copy'));
      var done = function () { announce('Link copied'); button.textContent = 'Copied'; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          field.select(); document.execCommand('copy'); done();
        });
      } else { field.select(); document.execCommand('copy'); done(); }
    });
  }

  function enhance(root) {
    Array.prototype.forEach.call(root.querySelectorAll('table[data-sortable]'), sortable);
    Array.prototype.forEach.call(root.querySelectorAll('#plan-grid'), grid);
    Array.prototype.forEach.call(root.querySelectorAll('button[data-copy]'), copy);
  }

  // 4. Progress of a background run (a plan, a what-if): poll its JSON, move the bar and say
  // what it is doing in the live region; when it ends, put the finished page's content in place
  // without reloading, say so, and move the focus to its heading.
  function progress(box) {
    var bar = document.getElementById('progress-bar');
    var message = document.getElementById('progress-message');
    var said = '';
    function finish(run) {
      fetch(window.location.href, { credentials: 'same-origin' })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, 'text/html');
          var main = document.getElementById('maincontent');
          main.innerHTML = next.getElementById('maincontent').innerHTML;
          enhance(main);
          var heading = main.querySelector('h1');
          if (heading) { heading.tabIndex = -1; heading.focus(); }
          announce(box.getAttribute('data-done-text') + ': ' + (run.status || 'finished'));
        })
        .catch(function () { window.location.reload(); });
    }
    function poll() {
      fetch(box.getAttribute('data-status-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.json(); })
        .then(function (run) {
          var pct = Math.round((run.progress || 0) * 100);
          bar.value = pct; bar.textContent = pct + '%';
          message.textContent = run.progress_message || '';
          if (run.status === 'queued' || run.status === 'running') {
            var words = (run.progress_message || 'Working') + ', ' + pct + '%';
            if (run.progress_message !== said) { said = run.progress_message; announce(words); }
            window.setTimeout(poll, 1000);
          } else { finish(run); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 500);
  }

  // 5. A spreadsheet upload is checked and saved in one request (all rows or none): while it is
  // sent and checked, show a working bar and stop a second submission.
  function upload(box) {
    var form = box.closest('form');
    form.addEventListener('submit', function () {
      box.hidden = false;
      var button = form.querySelector('button[type=submit]');
      if (button) { button.disabled = true; }
    });
  }

  enhance(document);
  var box = document.querySelector('[data-status-url]');
  if (box) { progress(box); }
  var importing = document.getElementById('import-progress');
  if (importing) { upload(importing); }
})();
