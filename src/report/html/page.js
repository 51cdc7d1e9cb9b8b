/* The HTML report's script: it draws what the page's data (the JSON object in #vitals-data,
 * described in docs/HTML.md) holds. It computes no figure of its own beyond sums and shares of
 * the figures given, and it makes no request of any kind. */
'use strict';
(function () {
  var D;
  var $ = function (id) { return document.getElementById(id); };

  function showError(msg) {
    var e = $('error');
    e.textContent = 'This page could not be drawn: ' + msg;
    e.hidden = false;
  }
  window.addEventListener('error', function (ev) { showError(ev.message); });
  /* The page must never ask for anything: should its policy ever block a request, say so. */
  document.addEventListener('securitypolicyviolation', function (ev) {
    showError('the page tried to load ' + (ev.blockedURI || 'something') + ' (' + ev.violatedDirective + ')');
  });

  /* Formatting. Exact values stay in data-value attributes. */
  function fmtCount(n) { return n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US'); }
  function fmtBytes(n) {
    if (n === null || n === undefined) return '-';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0, v = n;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return i === 0 ? n + ' B' : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) + ' ' + u[i];
  }
  function fmtNs(ns) {
    if (ns === null || ns === undefined) return '-';
    if (ns < 1e3) return ns + ' ns';
    if (ns < 1e6) return (ns / 1e3).toFixed(ns < 1e4 ? 2 : 1) + ' \u00b5s';
    if (ns < 1e9) return (ns / 1e6).toFixed(ns < 1e7 ? 2 : 1) + ' ms';
    if (ns < 60e9) return (ns / 1e9).toFixed(2) + ' s';
    var s = Math.round(ns / 1e9);
    return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  }
  function fmtUnit(v, unit) { return unit === 'bytes' ? fmtBytes(v) : fmtCount(v) + ' ' + unit; }
  function pct(a, b) { return b ? (100 * a / b).toFixed(a * 1000 < b ? 2 : 1) + '%' : '-'; }

  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  /* Sites: the frame labels, and the innermost frame that is not the allocator's own. */
  function frames(site) { return site.stack.map(function (i) { return D.strings[i]; }); }
  var ALLOC_FN = /^(malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|reallocarray|operator new|operator delete|mmap|strdup|strndup)\b/;
  function siteName(site) {
    var f = frames(site);
    for (var i = 0; i < f.length; i++) if (!ALLOC_FN.test(f[i])) return f[i];
    return f.length ? f[0] : '(no frames)';
  }

  /* Summary cards. */
  function card(id, label, value, shown, sub, bad) {
    var c = el('div', {cls: 'card' + (bad ? ' bad' : ''), id: id},
      el('div', {cls: 'label', text: label}),
      el('div', {cls: 'value', 'data-value': value === null ? '' : String(value), text: shown}));
    var s = el('div', {cls: 'sub'});
    (sub || []).forEach(function (line) {
      s.appendChild(typeof line === 'string' ? el('div', {text: line}) : line);
    });
    c.appendChild(s);
    $('cards').appendChild(c);
  }
  function renderSummary() {
    var h = D.heap, p = D.process, lc = D.leak_check, mem = D.memory;
    $('exe').textContent = p.exe || '(unknown program)';
    $('argv').textContent = p.argv.slice(1).join(' ');
    card('card-peak', 'Peak heap', h.peak_bytes, fmtBytes(h.peak_bytes), [
      'at ' + fmtNs(h.peak_ns) + ' of ' + fmtNs(p.duration_ns),
      fmtCount(h.peak_blocks) + ' blocks live then',
      'RSS after the peak: ' + (mem.rss_at_peak === null ? 'no sample' : fmtBytes(mem.rss_at_peak))]);
    var leakSub = [];
    if (lc.classes) {
      lc.classes.forEach(function (c) {
        leakSub.push(el('div', {'data-class': c.key, 'data-value': c.bytes, 'data-blocks': c.blocks,
          text: c.name + ': ' + fmtBytes(c.bytes) + ' in ' + fmtCount(c.blocks) + ' blocks'}));
      });
    } else {
      leakSub.push('leak check: ' + lc.status + ' (no classes)');
    }
    card('card-leaked', 'Leaked at exit', h.leaked_bytes, fmtBytes(h.leaked_bytes),
      [fmtCount(h.leaked_blocks) + ' blocks still allocated'].concat(leakSub),
      lc.classes ? lc.classes[0].bytes > 0 : h.leaked_bytes > 0);
    card('card-allocs', 'Allocations', h.alloc_calls, fmtCount(h.alloc_calls), [
      fmtBytes(h.bytes_allocated) + ' requested in all',
      fmtCount(h.free_calls) + ' frees, ' + fmtCount(h.realloc_calls) + ' reallocs',
      fmtCount(h.temporary) + ' temporary (freed at once)']);
    card('card-runtime', 'Run time', p.duration_ns, fmtNs(p.duration_ns), [
      'ended by ' + p.end + (p.end_status === null ? '' : ' (' + p.end_status + ')'),
      fmtCount(p.threads) + ' thread' + (p.threads === 1 ? '' : 's'),
      D.cpu ? 'CPU time: ' + fmtNs(cpuTime()) : 'CPU time: not in this trace']);
    cpuCard();
    card('card-dropped', 'Dropped events', p.dropped_events, fmtCount(p.dropped_events), [
      fmtCount(D.trace.events) + ' events recorded',
      fmtBytes(D.trace.bytes) + ' of trace'].concat(p.stopped ? ['agent stopped: ' + p.stopped] : []),
      p.dropped_events > 0);
    card('card-health', 'Memory health', D.health.score, D.health.score + '/100',
      [D.health.rating].concat(D.health.deductions.length ? D.health.deductions.map(function (d) { return '-' + d.points + ': ' + d.reason; })
        : ['no deductions']), D.health.score < 60);
    if (D.trace.warnings) {
      $('warnings').textContent = 'The trace was read with warnings: ' + D.trace.warnings;
      $('warnings').hidden = false;
    }
    $('about').textContent = 'Trace ' + (D.trace.path || '') + ' (' + fmtBytes(D.trace.bytes) + ', ' +
      fmtCount(D.trace.events) + ' events), process ' + p.pid + '. Written by vitals report --format html; ' +
      'the figures are those of vitals report --format json for the same trace.';
  }

  /* A canvas sized to its box and the screen's pixel ratio; returns its 2D context. */
  function fitCanvas(cv, cssHeight) {
    var r = window.devicePixelRatio || 1, w = cv.clientWidth || cv.parentNode.clientWidth || 800;
    cv.width = Math.round(w * r);
    cv.height = Math.round(cssHeight * r);
    cv.style.height = cssHeight + 'px';
    var g = cv.getContext('2d');
    g.setTransform(r, 0, 0, r, 0, 0);
    return {g: g, w: w, h: cssHeight};
  }

  /* Timeline: the heap (least and most per bucket, and the peak) and RSS, on one zoomable time
   * axis. */
  var TL = {lo: 0, hi: 1, drag: null};
  function tlInit() {
    var t = D.timeline;
    TL.hi = Math.max(D.process.duration_ns, t.end_ns.length ? t.end_ns[t.end_ns.length - 1] : 0, 1);
    TL.full = TL.hi;
    ['tl-heap', 'tl-rss'].forEach(function (id) {
      var cv = $(id);
      cv.addEventListener('mousedown', function (e) { TL.drag = {id: id, x0: e.offsetX, x1: e.offsetX}; });
      cv.addEventListener('mousemove', function (e) {
        if (TL.drag && TL.drag.id === id) { TL.drag.x1 = e.offsetX; drawTimeline(); }
        tlTip(id, e);
      });
      cv.addEventListener('mouseleave', function () { $('tl-tip').hidden = true; });
      cv.addEventListener('mouseup', function (e) {
        var d = TL.drag; TL.drag = null;
        if (!d) return;
        var a = Math.min(d.x0, e.offsetX), b = Math.max(d.x0, e.offsetX);
        if (b - a > 4) tlZoom(xToNs(a, cv), xToNs(b, cv));
        drawTimeline();
      });
      cv.addEventListener('wheel', function (e) {
        e.preventDefault();
        var at = xToNs(e.offsetX, cv), f = e.deltaY > 0 ? 1.25 : 0.8;
        tlZoom(at - (at - TL.lo) * f, at + (TL.hi - at) * f);
      }, {passive: false});
    });
    $('tl-reset').addEventListener('click', function () { tlZoom(0, TL.full); });
  }
  var PAD = {l: 70, r: 12, t: 10, b: 24};
  function xToNs(x, cv) { return TL.lo + (x - PAD.l) / Math.max(1, cv.clientWidth - PAD.l - PAD.r) * (TL.hi - TL.lo); }
  function tlZoom(lo, hi) {
    lo = Math.max(0, lo); hi = Math.min(TL.full, hi);
    if (hi - lo < 1000) { var m = (lo + hi) / 2; lo = Math.max(0, m - 500); hi = lo + 1000; }
    TL.lo = lo; TL.hi = hi;
    drawTimeline();
  }
  function niceBytes(v) {
    var unit = 1;
    while (v >= 1024 * unit && unit < Math.pow(1024, 4)) unit *= 1024;
    return niceMax(v / unit) * unit;
  }
  function niceMax(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function axes(c, ymax, yfmt) {
    var g = c.g, W = c.w - PAD.l - PAD.r, H = c.h - PAD.t - PAD.b;
    g.clearRect(0, 0, c.w, c.h);
    g.strokeStyle = css('--grid'); g.fillStyle = css('--muted'); g.lineWidth = 1;
    g.font = '11px system-ui, sans-serif';
    g.textAlign = 'right'; g.textBaseline = 'middle';
    for (var i = 0; i <= 4; i++) {
      var y = PAD.t + H - H * i / 4;
      g.beginPath(); g.moveTo(PAD.l, y + 0.5); g.lineTo(PAD.l + W, y + 0.5); g.stroke();
      g.fillText(yfmt(ymax * i / 4), PAD.l - 6, y);
    }
    g.textAlign = 'center'; g.textBaseline = 'top';
    for (var j = 0; j <= 5; j++) {
      var x = PAD.l + W * j / 5;
      g.fillText(fmtNs(Math.round(TL.lo + (TL.hi - TL.lo) * j / 5)), Math.min(Math.max(x, PAD.l + 20), PAD.l + W - 20), PAD.t + H + 6);
    }
    return {W: W, H: H, x: function (ns) { return PAD.l + (ns - TL.lo) / (TL.hi - TL.lo) * W; },
      y: function (v) { return PAD.t + H - v / ymax * H; }};
  }
  function drawSelection(c, id) {
    if (!TL.drag || TL.drag.id !== id) return;
    c.g.fillStyle = css('--select');
    var a = Math.min(TL.drag.x0, TL.drag.x1), b = Math.max(TL.drag.x0, TL.drag.x1);
    c.g.fillRect(a, PAD.t, b - a, c.h - PAD.t - PAD.b);
  }
  function drawTimeline() {
    var t = D.timeline, n = t.end_ns.length;
    $('tl-range').textContent = 'showing ' + fmtNs(Math.round(TL.lo)) + ' to ' + fmtNs(Math.round(TL.hi));
    var c = fitCanvas($('tl-heap'), 220), ymax = 0, i, start;
    for (i = 0; i < n; i++) {
      start = i ? t.end_ns[i - 1] : 0;
      if (t.end_ns[i] >= TL.lo && start <= TL.hi) ymax = Math.max(ymax, t.max[i]);
    }
    ymax = niceBytes(Math.max(ymax, 1));
    var a = axes(c, ymax, fmtBytes), g = c.g;
    g.save(); g.beginPath(); g.rect(PAD.l, 0, a.W, c.h); g.clip();
    g.fillStyle = css('--heap-band');
    for (i = 0; i < n; i++) {
      start = i ? t.end_ns[i - 1] : 0;
      if (t.end_ns[i] < TL.lo || start > TL.hi) continue;
      var x0 = a.x(start), x1 = Math.max(a.x(t.end_ns[i]), x0 + 1);
      g.fillRect(x0, a.y(t.max[i]), x1 - x0, Math.max(1, a.y(t.min[i]) - a.y(t.max[i])));
    }
    g.strokeStyle = css('--heap'); g.lineWidth = 1.5; g.beginPath();
    g.moveTo(a.x(0), a.y(0));
    for (i = 0; i < n; i++) g.lineTo(a.x(t.end_ns[i]), a.y(t.end[i]));
    g.stroke();
    var pk = D.heap.peak_ns, px = a.x(pk);
    g.strokeStyle = css('--peak'); g.setLineDash([4, 3]); g.beginPath();
    g.moveTo(px, PAD.t); g.lineTo(px, c.h - PAD.b); g.stroke(); g.setLineDash([]);
    g.fillStyle = css('--peak'); g.beginPath(); g.arc(px, a.y(D.heap.peak_bytes), 4, 0, 7); g.fill();
    g.textAlign = px > PAD.l + a.W * 0.7 ? 'right' : 'left'; g.textBaseline = 'top'; g.font = '12px system-ui, sans-serif';
    g.fillText('peak ' + fmtBytes(D.heap.peak_bytes) + ' at ' + fmtNs(pk), px + (g.textAlign === 'left' ? 6 : -6), PAD.t + 2);
    g.restore();
    drawSelection(c, 'tl-heap');

    var m = D.memory, cr = $('tl-rss');
    $('tl-rss-none').hidden = m.ns.length > 0;
    cr.hidden = m.ns.length === 0;
    if (!m.ns.length) return;
    var c2 = fitCanvas(cr, 220), rmax = 0;
    for (i = 0; i < m.ns.length; i++) if (m.ns[i] >= TL.lo && m.ns[i] <= TL.hi) rmax = Math.max(rmax, m.rss_max[i]);
    rmax = niceBytes(Math.max(rmax, 1));
    var b = axes(c2, rmax, fmtBytes), g2 = c2.g;
    g2.save(); g2.beginPath(); g2.rect(PAD.l, 0, b.W, c2.h); g2.clip();
    g2.strokeStyle = css('--rss'); g2.lineWidth = 1.5; g2.beginPath();
    for (i = 0; i < m.ns.length; i++) {
      var x = b.x(m.ns[i]);
      if (i) g2.lineTo(x, b.y(m.rss_max[i])); else g2.moveTo(x, b.y(m.rss_max[i]));
    }
    g2.stroke();
    g2.fillStyle = css('--rss');
    for (i = 0; i < m.ns.length; i++) { g2.fillRect(b.x(m.ns[i]) - 1.5, b.y(m.rss_max[i]) - 1.5, 3, 3); }
    g2.strokeStyle = css('--peak'); g2.setLineDash([4, 3]); g2.beginPath();
    g2.moveTo(b.x(pk), PAD.t); g2.lineTo(b.x(pk), c2.h - PAD.b); g2.stroke(); g2.setLineDash([]);
    g2.restore();
    drawSelection(c2, 'tl-rss');
  }
  function tlTip(id, e) {
    var cv = $(id), ns = xToNs(e.offsetX, cv), tip = $('tl-tip'), t = D.timeline, m = D.memory, i, text = null;
    if (e.offsetX < PAD.l || ns < 0) { tip.hidden = true; return; }
    if (id === 'tl-heap') {
      for (i = 0; i < t.end_ns.length && t.end_ns[i] < ns; i++);
      if (i < t.end_ns.length) {
        text = fmtNs(i ? t.end_ns[i - 1] : 0) + ' to ' + fmtNs(t.end_ns[i]) + ': heap ' + fmtBytes(t.min[i]) +
          ' to ' + fmtBytes(t.max[i]) + ', ' + fmtCount(t.alloc_calls[i]) + ' allocations';
      }
    } else if (m.ns.length) {
      var best = 0;
      for (i = 1; i < m.ns.length; i++) if (Math.abs(m.ns[i] - ns) < Math.abs(m.ns[best] - ns)) best = i;
      text = 'sample at ' + fmtNs(m.ns[best]) + ': RSS ' + fmtBytes(m.rss_max[best]) +
        (m.rss_min[best] !== m.rss_max[best] ? ' (least ' + fmtBytes(m.rss_min[best]) + ')' : '');
    }
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.style.left = (e.clientX + 14) + 'px'; tip.style.top = (e.clientY + 14) + 'px';
    tip.hidden = false;
  }

  /* Flame graphs. Each kind's nodes come in preorder as (name, value, depth, merged) fours; a
   * name of -1 is an "other" node that merges `merged` nodes below the pruning threshold. */
  var FG = {kind: 0, zoom: null, icicle: false, search: null, rows: 0, trees: []};
  var ROW = 18;
  function fgBuild(kind) {
    var a = kind.nodes, nodes = [], stack = [];
    for (var i = 0; i < a.length; i += 4) {
      var d = a[i + 2], parent = d ? stack[d - 1] : null;
      var n = {name: a[i] < 0 ? 'other: ' + fmtCount(a[i + 3]) + ' smaller nodes' : D.strings[a[i]],
        other: a[i] < 0, v: a[i + 1], d: d, parent: parent, kids: [], x: parent ? parent.cursor : 0};
      n.cursor = n.x;
      if (parent) { parent.kids.push(n); parent.cursor += n.v; }
      stack[d] = n;
      stack.length = d + 1;
      nodes.push(n);
    }
    return nodes;
  }
  function fgInit() {
    var f = D.flame, box = $('fg-kinds');
    f.kinds.forEach(function (k, i) {
      FG.trees[i] = null;
      var b = el('button', {type: 'button', 'data-kind': k.key, 'aria-pressed': i === 0 ? 'true' : 'false', text: k.label});
      b.addEventListener('click', function () { fgKind(i); });
      box.appendChild(b);
    });
    $('fg-reset').addEventListener('click', function () { FG.zoom = null; drawFlame(); });
    $('fg-orient').addEventListener('click', function () {
      FG.icicle = !FG.icicle;
      this.setAttribute('aria-pressed', FG.icicle ? 'true' : 'false');
      drawFlame();
    });
    $('fg-search').addEventListener('input', function () {
      var q = this.value.trim();
      FG.search = null;
      if (q) {
        var m = /^\/(.*)\/$/.exec(q);
        try { FG.search = m ? new RegExp(m[1]) : {test: function (s) { return s.indexOf(q) >= 0; }}; }
        catch (err) { FG.search = null; }
      }
      drawFlame();
    });
    var cv = $('fg-canvas');
    cv.addEventListener('click', function (e) {
      var n = fgHit(e);
      FG.zoom = n && n.parent ? n : null;
      drawFlame();
    });
    cv.addEventListener('mousemove', function (e) {
      var n = fgHit(e), tip = $('fg-tip'), k = D.flame.kinds[FG.kind];
      if (!n) { tip.hidden = true; return; }
      tip.textContent = n.name + '\n' + fmtUnit(n.v, k.unit) + ' (' + pct(n.v, k.total) + ' of all' +
        (FG.zoom ? ', ' + pct(n.v, FG.zoom.v) + ' of the zoomed frame' : '') + ')';
      tip.style.whiteSpace = 'pre-wrap';
      tip.style.left = Math.min(e.clientX + 14, window.innerWidth - 420) + 'px';
      tip.style.top = (e.clientY + 14) + 'px';
      tip.hidden = false;
    });
    cv.addEventListener('mouseleave', function () { $('fg-tip').hidden = true; });
    /* Without allocations traced, the CPU samples are what there is to see. */
    var first = 0;
    if (!allocsTraced()) f.kinds.forEach(function (k, i) { if (k.key === 'cpu_samples') first = i; });
    fgKind(first);
  }
  function fgKind(i) {
    FG.kind = i; FG.zoom = null;
    if (!FG.trees[i]) FG.trees[i] = fgBuild(D.flame.kinds[i]);
    Array.prototype.forEach.call($('fg-kinds').children, function (b, j) { b.setAttribute('aria-pressed', j === i ? 'true' : 'false'); });
    var k = D.flame.kinds[i], note = $('fg-pruned');
    note.setAttribute('data-pruned-nodes', String(k.pruned_nodes));
    note.setAttribute('data-pruned-value', String(k.pruned_value));
    note.textContent = k.pruned_nodes ?
      fmtCount(k.pruned_nodes) + ' nodes below ' + (100 / D.flame.prune_divisor) + '% of the total (' +
      fmtUnit(k.threshold, k.unit) + ') were merged into "other" nodes: ' + fmtUnit(k.pruned_value, k.unit) +
      ' (' + pct(k.pruned_value, k.total) + ') in all; ' + fmtCount(k.emitted) + ' shown.'
      : 'Nothing pruned: every node holds at least ' + (100 / D.flame.prune_divisor) + '% of the total; ' +
      fmtCount(k.emitted) + ' shown.';
    drawFlame();
  }
  function fgLayout() {
    var nodes = FG.trees[FG.kind], z = FG.zoom, cv = $('fg-canvas');
    var W = cv.parentNode.clientWidth - 2, maxd = 0;
    for (var i = 0; i < nodes.length; i++) if (nodes[i].d > maxd) maxd = nodes[i].d;
    var lo = z ? z.x : 0, span = z ? z.v : (nodes.length ? nodes[0].v : 1) || 1;
    return {nodes: nodes, W: W, rows: maxd + 1, lo: lo, span: span, z: z};
  }
  function inZoom(n, z) {
    if (!z) return true;
    for (var p = z; p; p = p.parent) if (p === n) return true; /* an ancestor: drawn full width */
    for (var q = n; q; q = q.parent) if (q === z) return true;
    return false;
  }
  function fgRect(n, L) {
    var full = L.z && L.z.d > n.d;
    var x0 = full ? 0 : (n.x - L.lo) / L.span * L.W, w = full ? L.W : n.v / L.span * L.W;
    var row = FG.icicle ? n.d : L.rows - 1 - n.d;
    return {x: x0, y: row * ROW, w: w};
  }
  function hue(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
    return Math.abs(h);
  }
  function drawFlame() {
    if (!FG.trees[FG.kind]) return;
    var L = fgLayout(), cv = $('fg-canvas'), k = D.flame.kinds[FG.kind];
    var c = fitCanvas(cv, Math.max(L.rows * ROW, ROW)), g = c.g, light = css('--flame-light') === '1';
    cv.style.width = L.W + 'px';
    g.clearRect(0, 0, c.w, c.h);
    g.font = '12px system-ui, sans-serif'; g.textBaseline = 'middle';
    var matched = 0, other = css('--other'), match = css('--match');
    var matchedAncestor = [];
    for (var i = 0; i < L.nodes.length; i++) {
      var n = L.nodes[i];
      var isMatch = FG.search && !n.other && FG.search.test(n.name);
      matchedAncestor[n.d] = isMatch || (n.d > 0 && matchedAncestor[n.d - 1]);
      matchedAncestor.length = n.d + 1;
      /* What matches, counted once: nodes below a matching one are in its value already. */
      if (isMatch && !(n.d > 0 && matchedAncestor[n.d - 1]) && inZoom(n, L.z)) {
        matched += L.z && L.z.d > n.d ? L.z.v : n.v;
      }
      if (!inZoom(n, L.z)) continue;
      var r = fgRect(n, L);
      if (r.w < 0.4 || r.x > L.W || r.x + r.w < 0) continue;
      var hh = hue(n.name);
      g.fillStyle = n.other ? other : isMatch ? match :
        'hsl(' + (hh % 50 + 5) + ',' + (light ? 80 : 65) + '%,' + (light ? 58 + hh % 15 : 38 + hh % 12) + '%)';
      g.fillRect(r.x, r.y, Math.max(r.w - 0.5, 0.4), ROW - 1);
      if (r.w > 28) {
        g.fillStyle = light ? '#111' : '#eee';
        var text = n.name, maxc = Math.floor((r.w - 6) / 6.5);
        if (text.length > maxc) text = text.slice(0, Math.max(maxc - 1, 1)) + '\u2026';
        g.fillText(text, r.x + 3, r.y + ROW / 2);
      }
    }
    var tot = k.total;
    if (!tot) {
      $('fg-status').textContent = k.label + ': none in this trace, nothing to draw.';
      $('fg-status').setAttribute('data-matched', FG.search ? '0' : '');
      return;
    }
    $('fg-status').textContent = k.label + ': ' + fmtUnit(tot, k.unit) + ' in all' +
      (L.z ? '; zoomed on ' + L.z.name + ' (' + fmtUnit(L.z.v, k.unit) + ', ' + pct(L.z.v, tot) + ')' : '') +
      (FG.search ? '; search matches ' + fmtUnit(matched, k.unit) + ' (' + pct(matched, L.z ? L.z.v : tot) + ')' : '') +
      '. Click a frame to zoom in on it.';
    $('fg-status').setAttribute('data-matched', FG.search ? String(matched) : '');
  }
  function fgHit(e) {
    var L = fgLayout(), x = e.offsetX, y = e.offsetY;
    for (var i = L.nodes.length - 1; i >= 0; i--) {
      var n = L.nodes[i];
      if (!inZoom(n, L.z)) continue;
      var r = fgRect(n, L);
      if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + ROW) return n;
    }
    return null;
  }

  /* Tables: sortable (click a header), filterable (the text box matches any cell, stacks
   * included). Rows past LIMIT are left out of the document, and the table says so. */
  var LIMIT = 200;
  function makeTable(box, spec) {
    var state = {key: spec.sort, desc: true, filter: ''};
    var input = el('input', {type: 'search', placeholder: spec.placeholder || 'Filter', 'aria-label': 'Filter ' + spec.id});
    var count = el('span', {cls: 'muted'});
    var tbl = el('table', {id: spec.id});
    var thead = el('thead'), tr = el('tr');
    spec.columns.forEach(function (c) {
      var th = el('th', {cls: c.num ? 'num' : '', 'data-key': c.key, text: c.label, title: c.title || null});
      th.addEventListener('click', function () {
        if (state.key === c.key) state.desc = !state.desc; else { state.key = c.key; state.desc = !!c.num; }
        draw();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr); tbl.appendChild(thead);
    var tbody = el('tbody'); tbl.appendChild(tbody);
    box.appendChild(el('div', {cls: 'toolbar'}, input, count));
    box.appendChild(el('div', {cls: 'tablewrap'}, tbl));
    input.addEventListener('input', function () { state.filter = this.value.toLowerCase(); draw(); });
    function val(row, c) { return c.get ? c.get(row) : row[c.key]; }
    function text(row) {
      if (row.__text === undefined) row.__text = spec.columns.map(function (c) { return String(c.text ? c.text(row) : val(row, c)); }).join(' ').toLowerCase();
      return row.__text;
    }
    function draw() {
      var col = spec.columns.filter(function (c) { return c.key === state.key; })[0];
      var rows = spec.rows.filter(function (r) { return !state.filter || text(r).indexOf(state.filter) >= 0; });
      if (col) rows.sort(function (a, b) {
        var x = val(a, col), y = val(b, col), r = x < y ? -1 : x > y ? 1 : 0;
        return state.desc ? -r : r;
      });
      Array.prototype.forEach.call(thead.querySelectorAll('th'), function (th) {
        th.setAttribute('aria-sort', th.getAttribute('data-key') === state.key ? (state.desc ? 'descending' : 'ascending') : 'none');
      });
      tbody.textContent = '';
      var frag = document.createDocumentFragment();
      rows.slice(0, LIMIT).forEach(function (r) {
        var tr = el('tr', spec.rowAttrs ? spec.rowAttrs(r) : null);
        spec.columns.forEach(function (c) {
          var td = el('td', {cls: (c.num ? 'num ' : '') + (c.cls || ''), 'data-value': c.num ? String(val(r, c)) : null});
          var v = c.render ? c.render(r) : c.fmt ? c.fmt(val(r, c)) : String(val(r, c));
          if (typeof v === 'string') td.textContent = v; else td.appendChild(v);
          tr.appendChild(td);
        });
        frag.appendChild(tr);
      });
      tbody.appendChild(frag);
      count.textContent = rows.length + ' of ' + spec.rows.length + ' rows' + (spec.note ? '; ' + spec.note : '') +
        (rows.length > LIMIT ? '; the first ' + LIMIT + ' shown (filter to see others)' : '');
      tbl.setAttribute('data-rows', String(rows.length));
    }
    draw();
    return {draw: draw};
  }
  /* The whole stack is put in the document when the row is opened: big tables stay light. */
  function siteCell(s) {
    var d = el('details', null, el('summary', {text: siteName(s) + ' \u00b7 ' + s.stack.length + ' frames'}));
    d.addEventListener('toggle', function () {
      if (d.open && d.children.length === 1) d.appendChild(el('div', {cls: 'stack', text: frames(s).join('\n')}));
    });
    return d;
  }
  function siteText(s) { return frames(s).join(' '); }

  function renderTables() {
    var sites = D.sites.entries;
    var shownNote = D.sites.total > sites.length ? 'the table holds ' + sites.length + ' of ' + D.sites.total +
      ' sites (the first ' + D.sites.max + ' by each ranking)' : null;
    makeTable($('sites-table'), {
      id: 'sites-tbl', sort: 'bytes', rows: sites, note: shownNote, placeholder: 'Filter by function, file or figure',
      rowAttrs: function (s) { return {'data-site': s.i}; },
      columns: [
        {key: 'site', label: 'Site', get: siteName, text: siteText, render: siteCell, cls: 'site'},
        {key: 'calls', label: 'Calls', num: true, fmt: fmtCount},
        {key: 'bytes', label: 'Bytes', num: true, fmt: fmtBytes},
        {key: 'temporary', label: 'Temporary', num: true, fmt: fmtCount, title: 'allocations freed before the next one'},
        {key: 'peak', label: 'At peak', num: true, fmt: fmtBytes},
        {key: 'leaked', label: 'Leaked', num: true, fmt: fmtBytes},
        {key: 'leaked_blocks', label: 'Leaked blocks', num: true, fmt: fmtCount},
        {key: 'functions', label: 'Functions', get: function (s) { return s.functions.join(', ') + (s.growth ? ' (growing)' : ''); }}]
    });

    var lc = D.leak_check;
    $('leak-status').textContent = 'Leak check: ' + lc.status + '. ' + (lc.classes ?
      'Classes as memcheck gives them (docs/LEAKS.md).' : 'Without a leak check, blocks live at exit are listed without classes.');
    var leakCols = [
      {key: 'site', label: 'Site', get: siteName, text: siteText, render: siteCell, cls: 'site'},
      {key: 'leaked', label: 'Leaked', num: true, fmt: fmtBytes},
      {key: 'leaked_blocks', label: 'Blocks', num: true, fmt: fmtCount}];
    if (lc.classes) lc.classes.forEach(function (c, k) {
      leakCols.push({key: c.key, label: c.name, num: true, fmt: fmtBytes, get: function (s) { return s.class_bytes[k]; }});
    });
    makeTable($('leaks-table'), {
      id: 'leaks-tbl', sort: 'leaked', rows: sites.filter(function (s) { return s.leaked_blocks > 0; }),
      columns: leakCols, rowAttrs: function (s) { return {'data-site': s.i}; }
    });

    makeTable($('threads-table'), {
      id: 'threads-tbl', sort: 'alloc_bytes', rows: D.threads,
      columns: [
        {key: 'tid', label: 'Thread', num: true, fmt: String},
        {key: 'alloc_calls', label: 'Allocations', num: true, fmt: fmtCount},
        {key: 'alloc_bytes', label: 'Bytes', num: true, fmt: fmtBytes},
        {key: 'frees', label: 'Frees', num: true, fmt: fmtCount},
        {key: 'first_ns', label: 'First seen', num: true, fmt: fmtNs},
        {key: 'last_ns', label: 'Last seen', num: true, fmt: fmtNs},
        {key: 'stack_used', label: 'Stack used', num: true, get: function (t) { return t.stack_used === null ? -1 : t.stack_used; },
          render: function (t) {
            return t.stack_used === null ? 'not recorded' : fmtBytes(t.stack_used) + ' of ' +
              (t.stack_size ? fmtBytes(t.stack_size) : 'no limit') + (t.stack_near_limit ? ' (near the limit)' : '');
          }}]
    });
  }

  function renderAdvice() {
    var h = D.health;
    $('health').appendChild(el('div', {cls: 'health', id: 'health-score', 'data-value': h.score},
      'Memory health: ', el('b', {text: h.score + '/100 (' + h.rating + ')'}),
      h.deductions.length ? ' \u2014 ' + h.deductions.map(function (d) { return d.reason + ' (-' + d.points + ')'; }).join('; ') : ''));
    var list = $('advice-list');
    if (!D.advice.length) list.appendChild(el('li', {cls: 'info', text: 'No recommendation: no rule of docs/REPORT.md ("Advice") fired.'}));
    D.advice.forEach(function (a) {
      var li = el('li', {cls: a.severity, 'data-kind': a.kind},
        el('span', {cls: 'sev', text: a.severity}), el('b', {text: a.kind}), ' ', a.evidence,
        el('div', null, el('i', {text: a.action})),
        el('div', {cls: 'muted', text: 'Saving: ' + (a.saving_is_bound ? 'up to ' : '') +
          (a.saving_unit === 'bytes' ? fmtBytes(a.saving) : fmtCount(a.saving) + ' ' + a.saving_unit) +
          (a.thread_tid !== null ? '; thread ' + a.thread_tid : '')}));
      if (a.site !== null) {
        var s = D.sites.entries[a.site], link = el('a', {href: '#sites', text: 'site: ' + siteName(s)});
        link.addEventListener('click', function () {
          setTimeout(function () {
            var row = document.querySelector('#sites-tbl tr[data-site="' + s.i + '"]');
            Array.prototype.forEach.call(document.querySelectorAll('tr.hl'), function (r) { r.classList.remove('hl'); });
            if (row) { row.classList.add('hl'); row.scrollIntoView({block: 'center'}); }
          }, 0);
        });
        li.appendChild(el('div', null, link));
      }
      list.appendChild(li);
    });
  }

  /* Histograms as SVG bars over the non-empty range of buckets. */
  function bars(box, id, labels, values, fmtV, alt) {
    var lo = values.length, hi = -1;
    values.forEach(function (v, i) { if (v) { lo = Math.min(lo, i); hi = Math.max(hi, i); } });
    if (hi < 0) { box.appendChild(el('p', {cls: 'muted', text: 'Nothing to show.'})); return; }
    var NS = 'http://www.w3.org/2000/svg', n = hi - lo + 1, W = 560, H = 200, pl = 54, pr = 30, pb = 48, bw = (W - pl - pr) / n;
    var max = Math.max.apply(null, values.slice(lo, hi + 1));
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H); svg.setAttribute('class', 'bars'); svg.setAttribute('id', id);
    svg.setAttribute('width', '100%');
    function add(tag, at, text) {
      var e = document.createElementNS(NS, tag);
      for (var k in at) e.setAttribute(k, at[k]);
      if (text !== undefined) e.textContent = text;
      svg.appendChild(e); return e;
    }
    add('line', {x1: pl, y1: H - pb, x2: W - pr, y2: H - pb, 'class': 'axis'});
    add('text', {x: pl - 4, y: 12, 'text-anchor': 'end'}, fmtV(max));
    add('text', {x: pl - 4, y: H - pb, 'text-anchor': 'end'}, '0');
    for (var i = lo; i <= hi; i++) {
      var h = values[i] / max * (H - pb - 8), x = pl + (i - lo) * bw;
      var r = add('rect', {x: x + 1, y: H - pb - h, width: Math.max(bw - 2, 1), height: h, 'data-value': values[i], 'class': alt ? 'alt' : ''});
      var t = document.createElementNS(NS, 'title'); t.textContent = labels[i] + ': ' + fmtV(values[i]); r.appendChild(t);
      if (n <= 24 || (i - lo) % Math.ceil(n / 24) === 0) {
        add('text', {x: x + bw / 2, y: H - pb + 10, transform: 'rotate(40 ' + (x + bw / 2) + ' ' + (H - pb + 10) + ')'}, labels[i]);
      }
    }
    box.appendChild(svg);
  }
  function renderHistograms() {
    var L = D.lifetimes, lab = L.from_ns.map(function (v, i) { return i ? '\u2265' + fmtNs(v) : '<' + fmtNs(L.from_ns[1]); });
    bars($('hist-life'), 'hist-life-svg', lab, L.freed, fmtCount);
    $('life-pct').textContent = L.freed.every(function (v) { return !v; }) ? 'No block was released.' : 'Half the released blocks lived under ' + (L.p50_ns === null ? 'the last bucket' : fmtNs(L.p50_ns)) +
      ', 90% under ' + (L.p90_ns === null ? 'the last bucket' : fmtNs(L.p90_ns)) + ', 99% under ' +
      (L.p99_ns === null ? 'the last bucket' : fmtNs(L.p99_ns)) + ' (bucket ends).';
    bars($('hist-age'), 'hist-age-svg', lab, L.live_age, fmtCount, true);
    var S = D.sizes, slab = S.max_bytes.map(function (v, i) { return v === null ? '>' + fmtBytes(S.max_bytes[i - 1]) : '\u2264' + fmtBytes(v); });
    bars($('hist-size'), 'hist-size-svg', slab, S.calls, fmtCount, true);
  }

  /* The CPU profile, libvitals' records and the monitor series: D.cpu, D.zones and D.monitor
   * are the JSON report's objects of those names (docs/JSON.md). A section without data stays
   * hidden, and the summary says "not in this trace". */
  function fmtNum(v) {
    if (v === null || v === undefined) return '-';
    if (Number.isInteger(v)) return fmtCount(v);
    return Number(v.toPrecision(4)).toLocaleString('en-US', {maximumFractionDigits: 6});
  }
  function fmtPct(v) { return v === null || v === undefined ? '-' : v.toFixed(2) + '%'; }
  function showSection(id) {
    $(id).hidden = false;
    document.querySelector('nav a[href="#' + id + '"]').hidden = false;
  }
  function cpuTime() {
    return D.cpu.threads.reduce(function (a, t) { return a + t.cpu_ns; }, 0);
  }
  function cpuCard() {
    var c = D.cpu;
    if (!c) {
      card('card-cpu', 'CPU', null, 'not in this trace', ['the run sampled no CPU profile']);
      return;
    }
    card('card-cpu', 'CPU time', cpuTime(), fmtNs(cpuTime()), [
      el('div', {id: 'cpu-sampler', 'data-value': c.sampler, text: 'sampler: ' + c.sampler + (c.hz ? ' at ' + fmtCount(c.hz) + ' Hz' : '')}),
      el('div', {id: 'cpu-samples', 'data-value': c.samples, text: fmtCount(c.samples) + ' samples (' + fmtNs(c.sampled_ns) + ')'}),
      el('div', {id: 'cpu-lost', 'data-value': c.lost, text: fmtCount(c.lost) + ' samples lost'})]
      .concat(c.note ? [c.note] : []), c.lost > 0);
  }
  /* A small SVG line chart: xs and ys (null: not measured), marks {x, cls, title} as vertical
   * lines. */
  function lineChart(box, id, xs, ys, o) {
    var NS = 'http://www.w3.org/2000/svg', W = o.w || 560, H = o.h || 180, pl = o.small ? 4 : 62,
      pr = 8, pt = 8, pb = o.small ? 4 : 22;
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H); svg.setAttribute('class', 'line' + (o.small ? ' spark' : ''));
    svg.setAttribute('id', id); svg.setAttribute('width', o.small ? W : '100%');
    svg.setAttribute('data-points', String(ys.filter(function (v) { return v !== null; }).length));
    function add(tag, at, text) {
      var e = document.createElementNS(NS, tag);
      for (var k in at) e.setAttribute(k, at[k]);
      if (text !== undefined) e.textContent = text;
      svg.appendChild(e); return e;
    }
    var x0 = xs.length ? xs[0] : 0, x1 = xs.length ? xs[xs.length - 1] : 1, lo = Infinity, hi = -Infinity;
    (o.marks || []).forEach(function (m) { x0 = Math.min(x0, m.x); x1 = Math.max(x1, m.x); });
    ys.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (lo > 0) lo = 0;
    if (hi === lo) hi = lo + 1;
    if (x1 === x0) x1 = x0 + 1;
    var X = function (x) { return pl + (x - x0) / (x1 - x0) * (W - pl - pr); };
    var Y = function (v) { return pt + (hi - v) / (hi - lo) * (H - pt - pb); };
    if (!o.small) {
      add('line', {x1: pl, y1: H - pb, x2: W - pr, y2: H - pb, 'class': 'axis'});
      add('text', {x: pl - 4, y: pt + 8, 'text-anchor': 'end'}, o.fmt(hi));
      add('text', {x: pl - 4, y: H - pb, 'text-anchor': 'end'}, o.fmt(lo));
      add('text', {x: pl, y: H - 6}, fmtNs(x0));
      add('text', {x: W - pr, y: H - 6, 'text-anchor': 'end'}, fmtNs(x1));
    }
    var d = '', pen = false;
    for (var i = 0; i < ys.length; i++) {
      if (ys[i] === null) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + X(xs[i]).toFixed(1) + ' ' + Y(ys[i]).toFixed(1);
      pen = true;
    }
    if (d) add('path', {d: d, 'class': 'series'});
    /* Few points (or points between windows without a value) are drawn as dots too. */
    var shown = ys.filter(function (v) { return v !== null; }).length;
    if (shown <= 40) ys.forEach(function (v, i) {
      if (v !== null) add('circle', {cx: X(xs[i]).toFixed(1), cy: Y(v).toFixed(1), r: o.small ? 1.5 : 2.5, 'class': 'dot'});
    });
    (o.marks || []).forEach(function (m) {
      var l = add('line', {x1: X(m.x), x2: X(m.x), y1: pt, y2: H - pb, 'class': 'mark ' + (m.cls || ''), 'data-ns': m.x});
      var t = document.createElementNS(NS, 'title'); t.textContent = m.title; l.appendChild(t);
    });
    box.appendChild(svg);
    return svg;
  }

  function renderCpu() {
    var c = D.cpu;
    if (!c) return;
    showSection('cpu');
    $('cpu-about').textContent = 'Sampler: ' + c.sampler + (c.hz ? ' at ' + fmtCount(c.hz) + ' Hz' : '') + '; ' +
      fmtCount(c.samples) + ' samples standing for ' + fmtNs(c.sampled_ns) + ' of CPU time; ' + fmtCount(c.lost) +
      ' lost' + (c.wall ? '; off-CPU time ' + fmtNs(c.off_cpu_ns) : '') + (c.note ? '. ' + c.note : '') +
      '. The flame graph "CPU samples" shows the samples per call stack.';
    c.hot_spots.forEach(function (h) {
      $('cpu-hot').appendChild(el('li', {cls: 'warn', 'data-kind': h.kind},
        el('b', {text: (h.function || '(off-CPU)') + ' ' + h.pct.toFixed(2) + '%'}), ' ', h.advice || ''));
    });
    makeTable($('cpu-fns-table'), {
      id: 'cpu-fns-tbl', sort: 'self_ns', rows: c.functions.entries,
      note: c.functions.total > c.functions.entries.length ? 'the first ' + c.functions.entries.length + ' of ' + c.functions.total + ' functions by self time' : null,
      columns: [
        {key: 'function', label: 'Function', cls: 'site'},
        {key: 'where', label: 'Where', get: function (f) { return f.file ? f.file.replace(/.*\//, '') + ':' + f.line : (f.module || '').replace(/.*\//, ''); }},
        {key: 'self_ns', label: 'Self', num: true, fmt: fmtNs},
        {key: 'self_pct', label: 'Self %', num: true, fmt: fmtPct},
        {key: 'total_ns', label: 'Total', num: true, fmt: fmtNs},
        {key: 'total_pct', label: 'Total %', num: true, fmt: fmtPct}]
    });
    makeTable($('cpu-threads-table'), {
      id: 'cpu-threads-tbl', sort: 'cpu_ns', rows: c.threads,
      columns: [
        {key: 'tid', label: 'Thread', num: true, fmt: String},
        {key: 'name', label: 'Name', get: function (t) { return t.name || ''; }},
        {key: 'cpu_ns', label: 'CPU time', num: true, fmt: fmtNs},
        {key: 'wall_ns', label: 'Wall time', num: true, fmt: fmtNs},
        {key: 'utilization_pct', label: 'Utilization', num: true, fmt: fmtPct},
        {key: 'samples', label: 'Samples', num: true, fmt: fmtCount},
        {key: 'lost', label: 'Lost', num: true, fmt: fmtCount}]
    });
  }

  function renderZones() {
    var z = D.zones;
    if (!z || !z.present) return;
    var alloc = !z.zones_only;
    if (z.zones.length || z.frames.length) {
      showSection('zones');
      $('zones-about').textContent = fmtCount(z.zones.length) + ' zones' +
        (z.unmatched_ends || z.open_at_end ? '; ' + fmtCount(z.unmatched_ends) + ' ends without a start, ' +
          fmtCount(z.open_at_end) + ' zones open at the end' : '') +
        (alloc ? '' : '; allocations were not traced (zones only)') + '. Percentiles of each zone\'s durations.';
      var ns = function (k, label) { return {key: k, label: label, num: true, fmt: fmtNs, get: function (r) { return r[k] === null ? -1 : r[k]; }}; };
      /* --zone-counters: per-call counters and IPC beside each zone (D.zones.zone_counters). */
      var zc = z.zone_counters, zcOf = {}, zcSays = {};
      if (zc) {
        zc.zones.forEach(function (c) { zcOf[c.name] = c; });
        zc.events.forEach(function (e) { zcSays[e.name] = e.status; });
      }
      var zcCol = function (ev, label, fmt) {
        var v = function (r) { var c = zcOf[r.name]; return c && c.counters[ev] ? c.counters[ev].per_call : null; };
        return {key: 'zc_' + ev, label: label, num: true, title: ev + ' per call, read at the zone\'s begin and end',
          get: function (r) { var x = v(r); return x === null ? -1 : x; },
          render: function (r) { var x = v(r); return x !== null ? fmt(x) : zcSays[ev] && zcSays[ev] !== 'counted' ? zcSays[ev] : '-'; }};
      };
      var zcCols = !zc ? [] : [zcCol('task-clock', 'CPU/call', fmtNs), zcCol('minor-faults', 'Faults/call', fmtNum),
        zcCol('context-switches', 'Switches/call', fmtNum),
        {key: 'zc_ipc', label: 'IPC', num: true, title: 'instructions / cycles over the zone\'s calls',
          get: function (r) { var c = zcOf[r.name]; return c && c.ratios.IPC ? c.ratios.IPC.value : -1; },
          render: function (r) { var c = zcOf[r.name]; return c && c.ratios.IPC ? c.ratios.IPC.value.toFixed(2) : zcSays.cycles && zcSays.cycles !== 'counted' ? zcSays.cycles : '-'; }}];
      makeTable($('zones-table'), {
        id: 'zones-tbl', sort: 'total_ns', rows: z.zones, placeholder: 'Filter by zone, function or file',
        rowAttrs: function (r) { return {'data-zone': r.name}; },
        columns: [
          {key: 'name', label: 'Zone', cls: 'site'},
          {key: 'where', label: 'Where', get: function (r) { return (r.function || '') + (r.file ? ' ' + r.file.replace(/.*\//, '') + ':' + r.line : ''); }},
          {key: 'calls', label: 'Calls', num: true, fmt: fmtCount},
          {key: 'errors', label: 'Errors', num: true, fmt: fmtCount},
          ns('total_ns', 'Total'), ns('mean_ns', 'Mean'), ns('p50_ns', 'p50'), ns('p90_ns', 'p90'),
          ns('p95_ns', 'p95'), ns('p99_ns', 'p99'), ns('p999_ns', 'p99.9'), ns('max_ns', 'Max'),
          {key: 'alloc_calls', label: 'Allocations', num: true, get: function (r) { return r.alloc_calls === null ? -1 : r.alloc_calls; },
            render: function (r) { return r.alloc_calls === null ? 'not traced' : fmtCount(r.alloc_calls); }},
          {key: 'alloc_bytes', label: 'Alloc bytes', num: true, get: function (r) { return r.alloc_bytes === null ? -1 : r.alloc_bytes; },
            render: function (r) { return r.alloc_bytes === null ? 'not traced' : fmtBytes(r.alloc_bytes); }}].concat(zcCols)
      });
      if (z.frames.length) {
        $('frames-box').hidden = false;
        makeTable($('frames-table'), {
          id: 'frames-tbl', sort: 'marks', rows: z.frames,
          columns: [
            {key: 'name', label: 'Frame', get: function (f) { return f.name || '(main loop)'; }},
            {key: 'marks', label: 'Marks', num: true, fmt: fmtCount},
            {key: 'per_s', label: 'Per second', num: true, fmt: fmtNum},
            {key: 'interval_p50_ns', label: 'Interval p50', num: true, fmt: fmtNs},
            {key: 'interval_p99_ns', label: 'Interval p99', num: true, fmt: fmtNs},
            {key: 'interval_max_ns', label: 'Interval max', num: true, fmt: fmtNs}]
        });
      }
    }
    if (z.task_kinds.length) {
      showSection('tasks');
      makeTable($('task-kinds-table'), {
        id: 'task-kinds-tbl', sort: 'tasks', rows: z.task_kinds,
        rowAttrs: function (k) { return {'data-kind': k.kind}; },
        columns: [
          {key: 'kind', label: 'Kind', cls: 'site'},
          {key: 'class', label: 'Class', title: 'what bounds the kind: docs/REPORT.md'},
          {key: 'tasks', label: 'Tasks', num: true, fmt: fmtCount},
          {key: 'median_wall_ns', label: 'Median wall', num: true, fmt: fmtNs},
          {key: 'median_cpu_ns', label: 'Median CPU', num: true, fmt: fmtNs},
          {key: 'efficiency', label: 'Efficiency', num: true, get: function (k) { return k.efficiency === null ? -1 : k.efficiency; },
            render: function (k) { return k.efficiency === null ? '-' : (100 * k.efficiency).toFixed(1) + '%'; }},
          {key: 'median_alloc_bytes', label: 'Median alloc', num: true, fmt: fmtBytes},
          {key: 'evidence', label: 'Evidence', get: function (k) { return k.evidence || ''; }}]
      });
      makeTable($('tasks-table'), {
        id: 'tasks-tbl', sort: 'wall_ns', rows: z.tasks,
        note: z.tasks_not_kept ? fmtCount(z.tasks_not_kept) + ' more tasks counted in their kinds only' : null,
        columns: [
          {key: 'name', label: 'Task', cls: 'site'},
          {key: 'kind', label: 'Kind'},
          {key: 'thread', label: 'Thread', num: true, fmt: String},
          {key: 'start_ns', label: 'Start', num: true, fmt: fmtNs},
          {key: 'wall_ns', label: 'Wall', num: true, fmt: fmtNs},
          {key: 'user_ns', label: 'User CPU', num: true, fmt: fmtNs},
          {key: 'sys_ns', label: 'System CPU', num: true, fmt: fmtNs},
          {key: 'alloc_bytes', label: 'Alloc bytes', num: true, fmt: fmtBytes}]
      });
    }
    var counters = z.counters.map(function (c) { return {kind: 'counter', c: c, name: c.name, updates: c.updates, value: c.total}; })
      .concat(z.gauges.map(function (g) { return {kind: 'gauge', c: g, name: g.name, updates: g.updates, value: g.last}; }));
    if (counters.length) {
      showSection('counters');
      makeTable($('counters-table'), {
        id: 'counters-tbl', sort: 'updates', rows: counters,
        rowAttrs: function (r) { return {'data-name': r.name, 'data-kind': r.kind}; },
        columns: [
          {key: 'name', label: 'Name', cls: 'site'},
          {key: 'kind', label: 'Kind'},
          {key: 'updates', label: 'Updates', num: true, fmt: fmtCount},
          {key: 'value', label: 'Total or last', num: true, fmt: fmtNum},
          {key: 'min', label: 'Min', num: true, get: function (r) { return r.kind === 'gauge' ? r.c.min : null; }, fmt: fmtNum},
          {key: 'max', label: 'Max', num: true, get: function (r) { return r.kind === 'gauge' ? r.c.max : null; }, fmt: fmtNum},
          {key: 'series', label: 'Over time', get: function (r) { return r.c.series.length; }, render: function (r) {
            var box = el('span');
            lineChart(box, null, r.c.series.map(function (w) { return w.start_ns; }),
              r.c.series.map(function (w) { return w.value; }), {small: true, w: 160, h: 28});
            box.firstChild.removeAttribute('id');
            box.firstChild.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'title')).textContent =
              r.name + ': ' + r.c.series.length + ' windows, the value at the end of each';
            return box;
          }}]
      });
    }
    [['pools', z.pools], ['caches', z.caches]].forEach(function (p) {
      if (!p[1].length) return;
      showSection('pools');
      $(p[0] + '-box').hidden = false;
    });
    if (z.pools.length) makeTable($('pools-table'), {
      id: 'pools-tbl', sort: 'acquires', rows: z.pools,
      rowAttrs: function (r) { return {'data-name': r.name}; },
      columns: [
        {key: 'name', label: 'Pool', cls: 'site'},
        {key: 'object_size', label: 'Object', num: true, fmt: fmtBytes},
        {key: 'acquires', label: 'Acquires', num: true, fmt: fmtCount},
        {key: 'releases', label: 'Releases', num: true, fmt: fmtCount},
        {key: 'in_use', label: 'In use', num: true, fmt: fmtCount},
        {key: 'high_water', label: 'High water', num: true, fmt: fmtCount},
        {key: 'created', label: 'Created', num: true, fmt: fmtCount},
        {key: 'served_malloc', label: 'Served by malloc', num: true, fmt: fmtCount},
        {key: 'reuse_ratio', label: 'Reused', num: true, fmt: function (v) { return (100 * v).toFixed(1) + '%'; }},
        {key: 'final', label: 'Figures', get: function (r) { return r.final ? 'at its end' : 'last sample, ' + fmtNs(r.at_ns); }}]
    });
    if (z.caches.length) makeTable($('caches-table'), {
      id: 'caches-tbl', sort: 'gets', rows: z.caches,
      rowAttrs: function (r) { return {'data-name': r.name}; },
      columns: [
        {key: 'name', label: 'Cache', cls: 'site'},
        {key: 'gets', label: 'Gets', num: true, fmt: fmtCount},
        {key: 'hits', label: 'Hits', num: true, fmt: fmtCount},
        {key: 'misses', label: 'Misses', num: true, fmt: fmtCount},
        {key: 'hit_rate', label: 'Hit rate', num: true, fmt: function (v) { return (100 * v).toFixed(1) + '%'; }},
        {key: 'puts', label: 'Puts', num: true, fmt: fmtCount},
        {key: 'evictions', label: 'Evictions', num: true, fmt: fmtCount},
        {key: 'entries', label: 'Entries', num: true, fmt: fmtCount},
        {key: 'bytes', label: 'Bytes', num: true, fmt: fmtBytes},
        {key: 'final', label: 'Figures', get: function (r) { return r.final ? 'at its end' : 'last sample, ' + fmtNs(r.at_ns); }}]
    });
  }

  function renderMonitor() {
    var mo = D.monitor;
    if (!mo) return;
    showSection('monitor');
    var b = mo.bottleneck;
    $('monitor-about').textContent = fmtCount(mo.snapshots) + ' snapshots every ' + fmtNs(mo.interval_ns) + ' on ' +
      fmtCount(mo.cpus) + ' CPUs' + (mo.points_stride > 1 ? ' (one point per ' + mo.points_stride + ' snapshots)' : '') +
      '; bottleneck: ' + b['class'] + (b.reason ? ' (' + b.reason + ')' : '') + '; ' + fmtCount(mo.alerts.length) +
      ' alerts, marked on their metric\'s chart.';
    mo.metrics.forEach(function (m, i) {
      var unit = m.unit || '', f = unit === 'bytes' ? fmtBytes : function (v) { return fmtNum(v) + (unit ? ' ' + unit : ''); };
      var fig = el('figure', {'data-metric': m.name},
        el('figcaption', {text: m.name + ' (' + m.kind + (unit ? ', ' + unit : '') + '): min ' + f(m.min) + ', mean ' +
          f(m.mean) + ', max ' + f(m.max) + ', last ' + f(m.last)}));
      var marks = mo.alerts.filter(function (a) { return a.metric === m.name; }).map(function (a) {
        return {x: a.ns, cls: a.severity, title: a.severity + ': ' + a.message};
      });
      lineChart(fig, 'metric-' + i, mo.times_ns, m.points, {fmt: f, marks: marks});
      $('monitor-charts').appendChild(fig);
    });
    makeTable($('alerts-table'), {
      id: 'alerts-tbl', sort: 'ns', rows: mo.alerts,
      columns: [
        {key: 'ns', label: 'At', num: true, fmt: fmtNs},
        {key: 'severity', label: 'Severity'},
        {key: 'metric', label: 'Metric'},
        {key: 'value', label: 'Value', num: true, fmt: fmtNum},
        {key: 'threshold', label: 'Threshold', num: true, fmt: fmtNum},
        {key: 'message', label: 'Message', get: function (a) { return a.message || a.rule || ''; }}]
    });
  }

  /* Whether the trace holds allocations: not a vitals monitor trace, nor a CPU profile only. */
  function allocsTraced() {
    return !D.monitor && !(D.cpu && !D.cpu.allocations_traced);
  }
  function renderSections() {
    if (!allocsTraced()) {
      ['timeline', 'sites', 'leaks', 'threads', 'histograms'].concat(D.cpu ? [] : ['flame', 'advice'])
        .forEach(function (id) {
          $(id).hidden = true;
          document.querySelector('nav a[href="#' + id + '"]').hidden = true;
        });
    }
    renderCpu();
    renderZones();
    renderMonitor();
  }

  function themeInit() {
    var root = document.documentElement;
    $('theme').addEventListener('click', function () {
      var dark = root.getAttribute('data-theme') ? root.getAttribute('data-theme') === 'dark'
        : window.matchMedia('(prefers-color-scheme: dark)').matches;
      root.setAttribute('data-theme', dark ? 'light' : 'dark');
      redraw();
    });
    if (window.matchMedia) {
      var mq = window.matchMedia('(prefers-color-scheme: dark)');
      if (mq.addEventListener) mq.addEventListener('change', redraw);
    }
  }
  function redraw() { drawTimeline(); drawFlame(); }

  function main() {
    var t0 = performance.now();
    D = JSON.parse($('vitals-data').textContent);
    renderSummary();
    tlInit();
    drawTimeline();
    fgInit();
    renderAdvice();
    renderTables();
    renderHistograms();
    renderSections();
    themeInit();
    var pending = null;
    window.addEventListener('resize', function () {
      if (pending) clearTimeout(pending);
      pending = setTimeout(redraw, 100);
    });
    /* For bench/html_load.py: the script's own time, and when the page was drawn (ms since
     * navigation started). */
    window.vitalsRenderMs = performance.now() - t0;
    window.vitalsReadyMs = performance.now();
    document.documentElement.setAttribute('data-ready', '1');
  }
  try { main(); } catch (err) { showError(err && err.message ? err.message : String(err)); throw err; }
})();
