/**
 * The review page's script, inlined into the HTML. It reads the embedded rows
 * (JSON), fills the filters, and renders only the current page. Every piece
 * of dataset text goes through textContent, never innerHTML.
 * Plain ES2020 in a string: no backticks and no template placeholders inside.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var PAGE_SIZE = 50;
  var data = JSON.parse(document.getElementById('review-data').textContent);
  var rows = data.rows;
  var state = { field: '', lang: '', flag: '', search: '', page: 0 };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function segmentText(segment) { return typeof segment === 'string' ? segment : segment[0]; }
  function cellText(segments) { return segments ? segments.map(segmentText).join('') : ''; }

  // Lower-cased search text per cell, computed once.
  rows.forEach(function (row) {
    row.cells.forEach(function (cell) {
      cell.haystack = (cellText(cell.source) + '\n' + cellText(cell.translation) + '\n' + (cell.reason || '') + ' ' + (cell.detail || '')).toLowerCase();
    });
  });

  function addOptions(select, values, labelOf) {
    values.forEach(function (value) {
      var option = el('option', null, labelOf ? labelOf(value) : value);
      option.value = value;
      select.appendChild(option);
    });
  }
  function distinct(list) { return Array.from(new Set(list)).sort(); }

  addOptions($('filter-field'), distinct([].concat.apply([], rows.map(function (row) { return row.cells.map(function (cell) { return cell.field; }); }))));
  addOptions($('filter-lang'), data.summary.languages);
  var flagOptions = ['flagged', 'rejected', 'retried', 'pending', 'differences', 'sample'];
  var reasons = distinct([].concat.apply([], rows.map(function (row) { return row.reasons.concat(row.cells.map(function (cell) { return cell.reason || ''; })); }))).filter(Boolean);
  addOptions($('filter-flag'), flagOptions.concat(reasons), function (value) {
    return flagOptions.indexOf(value) >= 0 ? value : 'reason: ' + value;
  });

  function cellMatches(cell) {
    if (state.field && cell.field !== state.field) return false;
    if (state.lang && cell.lang !== state.lang) return false;
    return true;
  }

  function rowMatchesFlag(row) {
    var flag = state.flag;
    if (!flag) return true;
    if (flag === 'flagged') return row.flags.length > 0;
    if (flag === 'sample') return row.flags.length === 0;
    if (flagOptions.indexOf(flag) >= 0) return row.flags.indexOf(flag) >= 0;
    return row.reasons.indexOf(flag) >= 0 || row.cells.some(function (cell) { return cell.reason === flag; });
  }

  function visibleCells(row) {
    var cells = row.cells.filter(cellMatches);
    if (state.search) {
      var needle = state.search.toLowerCase();
      if (!cells.some(function (cell) { return cell.haystack.indexOf(needle) >= 0; })) return [];
    }
    return cells;
  }

  function filtered() {
    var out = [];
    rows.forEach(function (row) {
      if (!rowMatchesFlag(row)) return;
      var cells = visibleCells(row);
      if (cells.length > 0 || (row.cells.length === 0 && !state.field && !state.lang && !state.search)) out.push({ row: row, cells: cells });
    });
    return out;
  }

  function renderSegments(container, segments, side) {
    segments.forEach(function (segment) {
      if (typeof segment === 'string') { container.appendChild(document.createTextNode(segment)); return; }
      var span = el('span', 'span kind-' + segment[1] + (segment[2] ? ' diff' : ''), segment[0]);
      span.title = segment[1] + (segment[2] ? (side === 'source' ? ': missing or altered in the translation' : ': not in the source') : ': protected');
      container.appendChild(span);
    });
  }

  function renderRow(item) {
    var row = item.row;
    var box = el('section', 'row' + (row.flags.length ? ' flagged' : ''));
    box.setAttribute('data-row', String(row.row));
    if (row.id !== null) box.setAttribute('data-id', row.id);
    var head = el('header', 'row-head');
    head.appendChild(el('span', 'row-index', 'row ' + row.row));
    if (row.id !== null) head.appendChild(el('span', 'row-id', row.id));
    row.flags.forEach(function (flag) { head.appendChild(el('span', 'badge flag-' + flag, flag)); });
    row.reasons.forEach(function (reason) { head.appendChild(el('span', 'badge reason', reason)); });
    if (row.attempts > 1) head.appendChild(el('span', 'attempts', row.attempts + ' attempts'));
    box.appendChild(head);
    if (item.cells.length === 0) { box.appendChild(el('p', 'empty', 'nothing to translate in this row')); return box; }
    var table = el('table', 'cells');
    var header = el('tr');
    ['field', 'lang', 'source', 'translation'].forEach(function (name) { header.appendChild(el('th', null, name)); });
    table.appendChild(header);
    item.cells.forEach(function (cell) {
      var tr = el('tr', 'cell status-' + cell.status);
      tr.appendChild(el('td', 'path', cell.path));
      tr.appendChild(el('td', 'lang', cell.lang));
      var source = el('td', 'text source');
      renderSegments(source, cell.source, 'source');
      tr.appendChild(source);
      var translation = el('td', 'text translation');
      if (cell.translation) renderSegments(translation, cell.translation, 'translation');
      if (cell.status !== 'done') {
        var note = el('div', 'failure');
        note.appendChild(el('strong', null, cell.status + (cell.reason ? ' (' + cell.reason + ')' : '')));
        if (cell.detail) note.appendChild(el('span', 'detail', ' ' + cell.detail));
        translation.appendChild(note);
      }
      if (cell.differences > 0) translation.appendChild(el('div', 'diff-note', cell.differences + ' protected span difference(s)'));
      tr.appendChild(translation);
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  function render() {
    var items = filtered();
    var pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
    if (state.page >= pages) state.page = pages - 1;
    var start = state.page * PAGE_SIZE;
    var list = $('rows');
    list.replaceChildren();
    items.slice(start, start + PAGE_SIZE).forEach(function (item) { list.appendChild(renderRow(item)); });
    if (items.length === 0) list.appendChild(el('p', 'empty', 'no row matches the filters'));
    $('page-info').textContent = items.length === 0 ? '0 rows' :
      'rows ' + (start + 1) + '\u2013' + Math.min(start + PAGE_SIZE, items.length) + ' of ' + items.length + ' (page ' + (state.page + 1) + '/' + pages + ')';
    $('prev').disabled = state.page === 0;
    $('next').disabled = state.page >= pages - 1;
    $('match-count').textContent = String(items.length);
  }

  function bind(id, key, event) {
    $(id).addEventListener(event, function (e) { state[key] = e.target.value; state.page = 0; render(); });
  }
  bind('filter-field', 'field', 'change');
  bind('filter-lang', 'lang', 'change');
  bind('filter-flag', 'flag', 'change');
  bind('search', 'search', 'input');
  $('prev').addEventListener('click', function () { state.page = Math.max(0, state.page - 1); render(); window.scrollTo(0, 0); });
  $('next').addEventListener('click', function () { state.page += 1; render(); window.scrollTo(0, 0); });
  render();
  document.body.setAttribute('data-ready', 'true');
})();
`;
