/**
 * The script of a --report page (plain browser JavaScript, kept as text: it runs in the page, not in Node).
 * Draws the lanes from the JSON block: per lane, one SVG path per status holding all its bars; ids on the bars
 * that are wide enough; a tooltip found by searching the lane's attempts (sorted by start) for the mouse's time.
 * Text from jobs reaches the page through textContent only. `window.poolrunReport.barBox(i)` gives an
 * attempt's bar in page coordinates (for tests and for anyone scripting the page).
 */
export const TIMELINE_SCRIPT = String.raw`
(function () {
  'use strict';
  var t0 = performance.now();
  var D = JSON.parse(document.getElementById('poolrun-data').textContent);
  var A = D.a, N = A.job.length, L = D.lanes.length;
  var LANE_H = 22, PAD = 3, AXIS_H = 24, MAX_LABELS = 4000, MAX_WIDTH = 400000;
  var chart = document.getElementById('chart');
  var scroller = document.getElementById('scroller');
  var laneLabels = document.getElementById('lane-labels');
  var tip = document.getElementById('tip');
  var NS = chart.namespaceURI;
  var STATUS_TEXT = { succeeded: 'succeeded', failed: 'failed', 'timed-out': 'timed out',
    cancelled: 'cancelled', retried: 'retried' };

  var byLane = [], laneBusy = [], attemptsOf = [];
  for (var l = 0; l < L; l++) { byLane.push([]); laneBusy.push(0); }
  for (var i = 0; i < N; i++) {
    byLane[A.lane[i]].push(i);
    laneBusy[A.lane[i]] += A.dur[i];
    attemptsOf[A.job[i]] = Math.max(attemptsOf[A.job[i]] || 0, A.n[i]);
  }
  byLane.forEach(function (list) { list.sort(function (x, y) { return A.start[x] - A.start[y]; }); });

  var zoom = 1, scale = 1, width = 0, highlight = null;
  var measure = document.createElement('canvas').getContext('2d');
  measure.font = '11px system-ui, -apple-system, "Segoe UI", sans-serif';

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(ms) {
    if (ms < 1000) return Math.round(ms) + 'ms';
    if (ms < 60000) return (ms / 1000).toFixed(2) + 's';
    var m = Math.floor(ms / 60000), s = Math.round((ms % 60000) / 1000);
    return m + 'm' + (s < 10 ? '0' : '') + s + 's';
  }
  // Milliseconds for a short run; seconds with as many decimals as the step needs; minutes past ten of them.
  function tickLabel(ms, step) {
    if (ms === 0) return '0';
    if (D.axisMs < 2000) return ms + 'ms';
    if (D.axisMs < 600000) return (ms / 1000).toFixed(step < 100 ? 2 : step < 1000 ? 1 : 0) + 's';
    var m = Math.floor(ms / 60000), s = Math.round((ms % 60000) / 1000);
    return m + 'm' + (s < 10 ? '0' : '') + s + 's';
  }
  function r1(x) { return Math.round(x * 10) / 10; }
  function laneTop(l) { return AXIS_H + l * LANE_H; }
  function barSpan(i) {
    var x = A.start[i] * scale, w = A.dur[i] * scale;
    // A gap of 1 px between neighbours; a job of a few ms still gets 2 px, enough to see and to hover.
    return [x, w > 3 ? w - 1 : Math.max(w, 2)];
  }

  function drawLabels() {
    laneLabels.replaceChildren();
    var spacer = document.createElement('div');
    spacer.style.height = AXIS_H + 'px';
    spacer.style.background = 'none';
    laneLabels.append(spacer);
    for (var l = 0; l < L; l++) {
      var row = document.createElement('div');
      row.dataset.lane = D.laneWorkers[l];
      row.textContent = D.lanes[l];
      row.title = D.lanes[l];
      var u = document.createElement('span');
      u.className = 'u';
      u.textContent = D.wallMs > 0 ? Math.round((100 * laneBusy[l]) / D.wallMs) + '%' : '';
      u.title = 'busy ' + fmt(laneBusy[l]) + ' of ' + fmt(D.wallMs);
      row.append(u);
      laneLabels.append(row);
    }
  }

  function render() {
    width = Math.min(MAX_WIDTH, Math.max(200, (scroller.clientWidth - 2) * zoom));
    scale = width / D.axisMs;
    var height = laneTop(L) + 1;
    chart.setAttribute('width', width);
    chart.setAttribute('height', height);
    chart.replaceChildren();

    var lanes = el('g', { class: 'lanes' });
    for (var l = 0; l < L; l++) {
      lanes.append(el('rect', { class: l % 2 ? 'lane' : 'lane shade', x: 0, y: laneTop(l), width: width,
        height: LANE_H, 'data-lane': D.laneWorkers[l], 'data-lane-index': l }));
    }
    chart.append(lanes);

    var raw = 90 / scale, pow = Math.pow(10, Math.floor(Math.log10(raw))), step = pow;
    [1, 2, 5, 10].some(function (m) { step = m * pow; return step >= raw; });
    step = Math.max(1, step);
    var axis = el('g', { class: 'axis' });
    for (var t = 0; t <= D.axisMs; t += step) {
      var x = r1(t * scale);
      axis.append(el('line', { class: 'grid', x1: x, x2: x, y1: AXIS_H - 6, y2: height }));
      var tick = tickLabel(t, step);
      if (x + 3 + measure.measureText(tick).width <= width)
        axis.append(el('text', { class: 'tick', x: x + 3, y: AXIS_H - 9 }, tick));
    }
    chart.append(axis);

    var bars = el('g', { class: 'bars' });
    var labels = el('g', { class: 'labels' });
    var nLabels = 0;
    for (l = 0; l < L; l++) {
      var d = D.statuses.map(function () { return []; });
      var which = D.statuses.map(function () { return []; });
      var y = laneTop(l) + PAD, h = LANE_H - 2 * PAD;
      byLane[l].forEach(function (i) {
        var span = barSpan(i);
        d[A.st[i]].push('M' + r1(span[0]) + ' ' + y + 'h' + r1(span[1]) + 'v' + h + 'h' + r1(-span[1]) + 'z');
        which[A.st[i]].push(i);
        if (span[1] >= 24 && nLabels < MAX_LABELS) {
          var label = fit(D.jobs.id[A.job[i]], span[1] - 6);
          if (label) {
            labels.append(el('text', { class: 'label', x: r1(span[0] + 3), y: y + h / 2 + 4 }, label));
            nLabels++;
          }
        }
      });
      D.statuses.forEach(function (s, k) {
        if (!d[k].length) return;
        bars.append(el('path', { class: 'bar st-' + s, d: d[k].join(''), 'data-lane': D.laneWorkers[l],
          'data-lane-index': l, 'data-status': s, 'data-attempts': which[k].join(',') }));
      });
    }
    highlight = el('rect', { class: 'hl', visibility: 'hidden' });
    chart.append(bars, labels, highlight);
  }

  // The id, or as much of it as fits with an ellipsis; nothing if not even two characters fit.
  function fit(text, room) {
    if (measure.measureText(text).width <= room) return text;
    var lo = 0, hi = text.length;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (measure.measureText(text.slice(0, mid) + '…').width <= room) lo = mid; else hi = mid - 1;
    }
    return lo >= 2 ? text.slice(0, lo) + '…' : '';
  }

  function hit(x, y) {
    var l = Math.floor((y - AXIS_H) / LANE_H);
    if (l < 0 || l >= L || y - laneTop(l) < PAD - 1 || y - laneTop(l) > LANE_H - PAD + 1) return -1;
    var list = byLane[l], lo = 0, hi = list.length - 1, k = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (A.start[list[mid]] * scale <= x + 2) { k = mid; lo = mid + 1; } else hi = mid - 1;
    }
    var best = -1, bestGap = 3;
    for (var j = Math.min(k + 1, list.length - 1); j >= 0 && j >= k - 3; j--) {
      var span = barSpan(list[j]);
      var gap = x < span[0] ? span[0] - x : x > span[0] + span[1] ? x - span[0] - span[1] : 0;
      if (gap < bestGap) { best = list[j]; bestGap = gap; }
    }
    return best;
  }

  function line(cls, text) {
    var e = document.createElement(cls === 'stderr' ? 'pre' : cls === 'id' ? 'strong' : 'div');
    if (cls !== 'id' && cls !== 'stderr') e.className = cls;
    e.textContent = text;
    tip.append(e);
  }

  function showTip(i, cx, cy) {
    var j = A.job[i], s = D.statuses[A.st[i]];
    tip.replaceChildren();
    line('id', D.jobs.id[j]);
    var what = [STATUS_TEXT[s] || s];
    if (A.sig[i]) what.push('signal ' + A.sig[i]);
    else if (A.exit[i] !== null) what.push('exit ' + A.exit[i]);
    if (A.note[i] >= 0) what.push(D.texts[A.note[i]]);
    line('status', what.join(' · '));
    line('muted', 'attempt ' + A.n[i] + ' of ' + attemptsOf[j] + ' · ' + D.lanes[A.lane[i]] + ' · job #' +
      (D.jobs.index[j] + 1));
    line('muted', 'ran ' + fmt(A.dur[i]) + ', from +' + fmt(A.start[i]) + ' to +' + fmt(A.start[i] + A.dur[i]));
    if (A.tail[i] >= 0) line('stderr', D.texts[A.tail[i]]);
    else if (A.tail[i] === -2) line('muted', 'stderr not kept (the report keeps a bounded amount)');
    var span = barSpan(i);
    highlight.setAttribute('x', r1(span[0]) - 1);
    highlight.setAttribute('y', laneTop(A.lane[i]) + PAD - 1);
    highlight.setAttribute('width', r1(span[1]) + 2);
    highlight.setAttribute('height', LANE_H - 2 * PAD + 2);
    highlight.setAttribute('visibility', 'visible');
    tip.dataset.attempt = i;
    tip.hidden = false;
    var r = tip.getBoundingClientRect();
    var left = cx + 14, top = cy + 14;
    if (left + r.width > innerWidth - 4) left = Math.max(4, cx - r.width - 14);
    if (top + r.height > innerHeight - 4) top = Math.max(4, cy - r.height - 14);
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }

  chart.addEventListener('mousemove', function (ev) {
    var r = chart.getBoundingClientRect();
    var i = hit(ev.clientX - r.left, ev.clientY - r.top);
    if (i < 0) hideTip();
    else showTip(i, ev.clientX, ev.clientY);
  });
  chart.addEventListener('mouseleave', hideTip);
  function hideTip() {
    tip.hidden = true;
    highlight.setAttribute('visibility', 'hidden');
  }

  function setZoom(z) {
    var centre = (scroller.scrollLeft + scroller.clientWidth / 2) / width;
    zoom = Math.max(1, Math.min(z, MAX_WIDTH / Math.max(200, scroller.clientWidth)));
    render();
    scroller.scrollLeft = centre * width - scroller.clientWidth / 2;
  }
  document.getElementById('zoom-in').addEventListener('click', function () { setZoom(zoom * 2); });
  document.getElementById('zoom-out').addEventListener('click', function () { setZoom(zoom / 2); });
  document.getElementById('zoom-fit').addEventListener('click', function () { setZoom(1); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === '+' || ev.key === '=') setZoom(zoom * 2);
    else if (ev.key === '-') setZoom(zoom / 2);
    else if (ev.key === '0') setZoom(1);
  });
  var resizing = 0;
  addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { setZoom(zoom); }, 100);
  });

  window.poolrunReport = {
    attempts: N,
    barBox: function (i) {
      var r = chart.getBoundingClientRect(), span = barSpan(i);
      return { x: r.left + span[0], y: r.top + laneTop(A.lane[i]) + PAD, width: span[1], height: LANE_H - 2 * PAD };
    },
  };

  drawLabels();
  render();
  document.documentElement.dataset.renderMs = String(Math.round(performance.now() - t0));
  document.documentElement.dataset.ready = '1';
})();
`;
