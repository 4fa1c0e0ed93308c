// The review page's keyboard: move between segments, edit in place, approve or reject.
// Plain forms do the work (they post and come back to the same segment); this only drives them.
(function () {
  'use strict';
  const rows = () => Array.from(document.querySelectorAll('tr.segment'));
  let current = null;

  function select(row) {
    if (!row) return;
    if (current) current.classList.remove('current');
    current = row;
    row.classList.add('current');
    row.scrollIntoView({ block: 'nearest' });
  }

  function move(step) {
    const all = rows();
    const at = all.indexOf(current);
    select(all[Math.min(all.length - 1, Math.max(0, at + step))]);
  }

  function editing() {
    const el = document.activeElement;
    return el && (el.tagName === 'TEXTAREA' || el.tagName === 'INPUT' || el.tagName === 'SELECT');
  }

  function openEditor(row) {
    const form = row.querySelector('form.edit');
    row.querySelector('.text').hidden = true;
    form.hidden = false;
    const area = form.querySelector('textarea');
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  function closeEditor(row) {
    row.querySelector('form.edit').hidden = true;
    row.querySelector('.text').hidden = false;
  }

  function setStatus(row, status) {
    row.querySelector('form.status button[value="' + status + '"]').click();
  }

  document.addEventListener('keydown', function (e) {
    if (!current) return;
    if (editing()) {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        current.querySelector('form.edit').submit();
      } else if (e.key === 'Escape') {
        closeEditor(current);
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = {
      ArrowDown: () => move(1), j: () => move(1),
      ArrowUp: () => move(-1), k: () => move(-1),
      e: () => openEditor(current),
      a: () => setStatus(current, 'approved'),
      r: () => setStatus(current, 'rejected'),
    };
    if (keys[e.key]) {
      e.preventDefault();
      keys[e.key]();
    }
  });

  document.addEventListener('DOMContentLoaded', function () {
    const all = rows();
    all.forEach(function (row) {
      row.addEventListener('click', function () { select(row); });
      row.querySelector('td.target').addEventListener('dblclick', function () { openEditor(row); });
    });
    const fromHash = location.hash && document.getElementById(location.hash.slice(1));
    select(fromHash && fromHash.classList.contains('segment') ? fromHash : all[0]);
    const toggle = document.querySelector('input.all');
    if (toggle) {
      toggle.addEventListener('change', function () {
        document.querySelectorAll('table.units input[name="id"]').forEach(function (b) {
          b.checked = toggle.checked;
        });
      });
    }
  });
})();
