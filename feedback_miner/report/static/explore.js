/* Filters, drill-down and CSV export of report.html; vanilla JS, no network.
   The page embeds a count cube (#report-data, see feedback_miner/report/explore.py): one cell per
   leaf (sub-theme) x week x filter value, with its statement count n, sentiment sum s (x100) and
   negative count neg. Every control [data-filter] selects cube cells; volumes, shares, sentiment
   and the weekly charts are sums over the selected cells. Quotes [data-quote] carry the same
   values as data-* attributes and are shown or hidden by the same selection. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var cube = D.cube, dims = D.dims, weeks = D.weeks, nCells = cube.n.length;
  function expand(pairs) {  // [value, count, ...] -> one value per cell
    var out = new Int32Array(nCells), at = 0;
    for (var i = 0; i < pairs.length; i += 2) { out.fill(pairs[i], at, at + pairs[i + 1]); at += pairs[i + 1]; }
    return out;
  }
  cube.leaf = expand(cube.leaf);
  var runTotal = cube.n.reduce(function (a, b) { return a + b; }, 0);
  cube.week = expand(cube.week);
  var leafTheme = D.leaves.map(function (l) { return l[1]; });
  var QUOTES_PER_BLOCK = 10;
  var headlineLimit = parseInt(document.body.getAttribute("data-max-quotes") || "5", 10);
  var $ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var control = function (name) { return document.querySelector('[data-filter="' + name + '"]'); };

  function fmtInt(v) { return Math.round(v).toLocaleString("en-US"); }
  function fmtPct(v, d) { return v === null ? "—" : (v * 100).toFixed(d || 0) + "%"; }
  function fmtSigned(v) {
    if (v === null) return "—";
    return (v > 0 ? "+" : v < 0 ? "−" : "±") + Math.abs(v).toFixed(2);
  }
  function fold(s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  // A quote's own words: its text without the language tag and the typographic quotes around it.
  function quoteText(li) {
    return Array.prototype.filter.call(li.childNodes, function (n) { return !(n.classList && n.classList.contains("lang")); })
      .map(function (n) { return n.textContent; }).join("").trim().replace(/^“|”$/g, "");
  }

  /* ------------------------------------------------------------ the selection */
  function readState() {
    var st = { codes: {}, values: {}, from: 0, to: weeks.length - 1, search: "" };
    dims.forEach(function (d) {
      var el = control(d.name), v = el ? el.value : "";
      st.values[d.name] = v;
      st.codes[d.name] = v === "" ? -1 : d.values.indexOf(v);
    });
    var f = control("from"), t = control("to");
    if (f && t) {
      st.from = Math.max(0, weeks.indexOf(f.value));
      st.to = Math.max(0, weeks.indexOf(t.value));
      if (st.from > st.to) { var x = st.from; st.from = st.to; st.to = x; }
    }
    var q = control("search");
    st.search = q ? fold(q.value.trim()) : "";
    return st;
  }

  function aggregate(st) {
    var byTheme = {}, byLeaf = {}, total = 0;
    var active = dims.filter(function (d) { return st.codes[d.name] >= 0; });
    for (var i = 0; i < nCells; i++) {
      var w = cube.week[i];
      if (w < st.from || w > st.to) continue;
      var ok = true;
      for (var k = 0; k < active.length; k++) {
        if (cube[active[k].name][i] !== st.codes[active[k].name]) { ok = false; break; }
      }
      if (!ok) continue;
      var leaf = cube.leaf[i], theme = leafTheme[leaf], n = cube.n[i];
      total += n;
      var t = byTheme[theme] || (byTheme[theme] = { n: 0, s: 0, neg: 0, weeks: {} });
      t.n += n; t.s += cube.s[i]; t.neg += cube.neg[i];
      var tw = t.weeks[w] || (t.weeks[w] = { n: 0, s: 0 });
      tw.n += n; tw.s += cube.s[i];
      var l = byLeaf[D.leaves[leaf][0]] || (byLeaf[D.leaves[leaf][0]] = { n: 0, s: 0 });
      l.n += n; l.s += cube.s[i];
    }
    return { byTheme: byTheme, byLeaf: byLeaf, total: total };
  }

  function quoteMatches(li, st) {
    for (var k = 0; k < dims.length; k++) {
      var d = dims[k], v = st.values[d.name];
      if (v !== "" && li.getAttribute("data-" + d.attr) !== v) return false;
    }
    var w = li.getAttribute("data-week");
    if (w && weeks.length > 1 && (w < weeks[st.from] || w > weeks[st.to])) return false;
    if (st.search) {
      var txt = li.__folded || (li.__folded = fold(quoteText(li)));
      if (txt.indexOf(st.search) < 0) return false;
    }
    return true;
  }

  /* ------------------------------------------------------------ what the page shows */
  function setCell(td, value, html) {
    td.setAttribute("data-value", value === null ? "" : value);
    td.innerHTML = html;
  }
  // The report's diverging sentiment scale (charts.sentiment_colour): RdBu, saturating at +-0.6.
  var RDBU = [[178, 24, 43], [214, 96, 77], [244, 165, 130], [236, 236, 236], [146, 197, 222], [67, 147, 195], [33, 102, 172]];
  function sentPill(v) {
    if (v === null) return '<span class="muted">—</span>';
    var pos = (Math.max(-0.6, Math.min(0.6, v)) + 0.6) / 1.2 * 6, i = Math.min(Math.floor(pos), 5), f = pos - i;
    var rgb = [0, 1, 2].map(function (k) { return Math.round(RDBU[i][k] + (RDBU[i + 1][k] - RDBU[i][k]) * f); });
    var lum = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
    return '<span class="sent" style="background:rgb(' + rgb.join(",") + ");color:" + (lum > 0.45 ? "#111827" : "#ffffff") +
      '">' + fmtSigned(v) + "</span>";
  }
  function figures(a, total) {
    var mean = a && a.n ? a.s / 100 / a.n : null;
    return { n: a ? a.n : 0, share: total && a ? a.n / total : null, sent: mean, neg: a && a.n ? a.neg / a.n : null };
  }

  function updateTable(agg) {
    $("#theme-table tbody tr").forEach(function (tr) {
      var f = figures(agg.byTheme[tr.getAttribute("data-theme-id")], agg.total);
      tr.hidden = f.n === 0;
      setCell(tr.querySelector('[data-col="n"]'), f.n, fmtInt(f.n));
      setCell(tr.querySelector('[data-col="share"]'), f.share, fmtPct(f.share, 1));
      setCell(tr.querySelector('[data-col="sent"]'), f.sent, sentPill(f.sent));
      setCell(tr.querySelector('[data-col="neg"]'), f.neg, fmtPct(f.neg));
    });
  }

  // Bars per week, or per group of weeks when the window is long (at most ~52 bars), and the mean
  // sentiment as a line (-1 at the bottom, +1 at the top, dashed 0).
  function weeklyChart(box, t, st) {
    var W = 260, H = 64, pad = 3, plot = H - 2 * pad - 14;
    var span = Math.max(1, Math.ceil((st.to - st.from + 1) / 52)), bins = [];
    for (var w = st.from; w <= st.to; w += span) {
      var bin = { first: w, last: Math.min(w + span - 1, st.to), n: 0, s: 0 };
      for (var k = bin.first; k <= bin.last; k++) { var c = t && t.weeks[k]; if (c) { bin.n += c.n; bin.s += c.s; } }
      bins.push(bin);
    }
    var max = Math.max.apply(null, bins.map(function (b) { return b.n; }).concat([1]));
    var bw = (W - 2 * pad) / bins.length, bars = [], line = [];
    bins.forEach(function (b, i) {
      var x = pad + i * bw, h = b.n / max * plot, mean = b.n ? b.s / 100 / b.n : null;
      var when = span > 1 ? "weeks of " + weeks[b.first] + " to " + weeks[b.last] : "week of " + weeks[b.first];
      var tip = when + ": " + fmtInt(b.n) + " statements" + (mean === null ? "" : ", sentiment " + fmtSigned(mean));
      bars.push('<rect x="' + (x + bw * 0.12).toFixed(1) + '" y="' + (H - pad - h).toFixed(1) + '" width="' +
        Math.max(bw * 0.76, 1).toFixed(1) + '" height="' + Math.max(h, b.n ? 1 : 0).toFixed(1) + '" fill="#9ca3af"><title>' + tip + "</title></rect>");
      if (mean !== null) line.push((x + bw / 2).toFixed(1) + "," + (pad + 6 + (1 - (mean + 1) / 2) * plot).toFixed(1));
    });
    var zero = (pad + 6 + 0.5 * plot).toFixed(1), per = span > 1 ? " per " + span + " weeks" : " per week";
    box.innerHTML = '<svg class="weekly-svg" width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + " " + H + '">' +
      bars.join("") + '<line x1="' + pad + '" x2="' + (W - pad) + '" y1="' + zero + '" y2="' + zero + '" stroke="#d1d5db" stroke-dasharray="2 2"/>' +
      (line.length > 1 ? '<polyline points="' + line.join(" ") + '" fill="none" stroke="#2166ac" stroke-width="1.6"/>' : "") + "</svg>" +
      '<div class="weekly-key"><span><i class="bar"></i>statements' + per + " (max " + fmtInt(max) + ')</span><span><i class="ln"></i>mean sentiment (−1 to +1)</span></div>';
  }

  function updateQuotes(article, st) {
    var blocks = $("details[data-subtheme-id]", article), lists = [], matched = 0;
    blocks.forEach(function (b) {
      var shown = 0, mine = [];
      $("[data-quote]", b).forEach(function (li) {
        var ok = quoteMatches(li, st);
        if (ok) mine.push(li);
        li.hidden = !ok || shown >= QUOTES_PER_BLOCK;
        if (ok) shown++;
      });
      var none = b.querySelector(".no-quotes");
      if (none) none.hidden = mine.length > 0;
      lists.push(mine); matched += mine.length;
    });
    var head = article.querySelector("[data-headline]");
    if (!head || !blocks.length) return matched;
    head.innerHTML = "";
    // As the server does (sections.headline_quotes): round-robin over the blocks, largest first,
    // each text once, one quote per language before a second in any.
    var order = [], seen = {}, langs = {}, first = [], rest = [];
    for (var round = 0; lists.some(function (l) { return l.length > round; }); round++) {
      lists.forEach(function (l) { if (l.length > round) order.push(l[round]); });
    }
    order.forEach(function (li) {
      var t = quoteText(li), lang = li.getAttribute("data-lang");
      if (seen[t]) return;
      seen[t] = true;
      if (langs[lang]) { rest.push(li); } else { langs[lang] = true; first.push(li); }
    });
    var picked = first.concat(rest).slice(0, headlineLimit);
    picked.forEach(function (li) { var c = li.cloneNode(true); c.hidden = false; head.appendChild(c); });
    picked = picked.length;
    article.querySelector(".no-quotes").hidden = picked > 0;
    return matched;
  }

  function updateThemes(agg, st) {
    var themesShown = 0, quotesShown = 0;
    $("article.theme[data-theme-id]").forEach(function (art) {
      var id = art.getAttribute("data-theme-id"), f = figures(agg.byTheme[id], agg.total);
      var set = function (k, html) { var el = art.querySelector('.stats [data-metric="' + k + '"]'); if (el) el.innerHTML = html; };
      set("n", fmtInt(f.n)); set("share", fmtPct(f.share, 1)); set("sent", sentPill(f.sent)); set("neg", fmtPct(f.neg));
      $("details[data-subtheme-id]", art).forEach(function (b) {
        var l = agg.byLeaf[b.getAttribute("data-subtheme-id")], n = l ? l.n : 0;
        b.querySelector('[data-metric="n"]').textContent = fmtInt(n);
        b.querySelector('[data-metric="sent"]').innerHTML = sentPill(n ? l.s / 100 / n : null);
      });
      var box = art.querySelector("[data-weekly]");
      if (box) weeklyChart(box, agg.byTheme[id], st);
      var q = updateQuotes(art, st);
      art.hidden = f.n === 0 || (st.search !== "" && q === 0);
      if (!art.hidden) { themesShown++; quotesShown += q; }
    });
    return { themes: themesShown, quotes: quotesShown };
  }

  function refresh() {
    var st = readState(), agg = aggregate(st);
    updateTable(agg);
    var shown = updateThemes(agg, st);
    var kpi = document.querySelector('[data-kpi="statements"]');
    var filtered = dims.some(function (d) { return st.codes[d.name] >= 0; }) || st.from > 0 || st.to < weeks.length - 1;
    var note = document.querySelector("[data-kpi-note]");
    if (kpi) {  // unfiltered: the run's count as printed (it includes non-answers, which no theme holds)
      if (kpi.__run === undefined) kpi.__run = kpi.textContent;
      kpi.textContent = filtered ? fmtInt(agg.total) : kpi.__run;
    }
    if (note) {
      if (note.__run === undefined) note.__run = note.textContent;
      note.textContent = filtered ? "in view (filters on); " + fmtInt(runTotal) + " themed in the run" : note.__run;
    }
    var status = document.querySelector("[data-status]");
    if (status) {
      status.textContent = (filtered ? "Filtered: " : "All feedback: ") + fmtInt(agg.total) + " statements" +
        (weeks.length ? ", weeks of " + weeks[st.from] + " to " + weeks[st.to] : "") +
        (st.search ? "; " + fmtInt(shown.quotes) + " sampled quotes in " + shown.themes + " themes match the search (the search reads quotes, not the figures)" : "") + ".";
    }
  }

  /* ------------------------------------------------------------ CSV export, made in the page */
  function csvCell(v) {
    var s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s) && isNaN(Number(s))) s = "'" + s;  // no formula in a spreadsheet
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function toCsv(rows) { return "\ufeff" + rows.map(function (r) { return r.map(csvCell).join(","); }).join("\r\n") + "\r\n"; }

  function themeRows() {
    var out = [["theme_id", "theme", "statements", "share", "sentiment_mean", "negative_share", "customers_whole_run", "churn_rr_whole_run"]];
    $("#theme-table tbody tr").forEach(function (tr) {
      if (tr.hidden) return;
      var v = function (k) { return tr.querySelector('[data-col="' + k + '"]').getAttribute("data-value"); };
      out.push([tr.getAttribute("data-theme-id"), tr.cells[0].textContent.trim(), v("n"), v("share"), v("sent"), v("neg"), v("customers"), v("churn_rr")]);
    });
    return out;
  }
  function quoteRows() {
    var st = readState(), attrs = dims.filter(function (d) { return ["lang", "source", "score"].indexOf(d.attr) < 0; });
    var out = [["theme_id", "subtheme_id", "language", "source", "score", "week", "sentiment"].concat(attrs.map(function (d) { return d.name; }), ["text"])];
    $("details[data-subtheme-id] [data-quote]").forEach(function (li) {
      var art = li.closest("article");
      if (art.hidden || !quoteMatches(li, st)) return;
      var g = function (a) { return li.getAttribute("data-" + a); };
      out.push([art.getAttribute("data-theme-id"), li.closest("details").getAttribute("data-subtheme-id"), g("lang"), g("source"), g("score"), g("week"),
        li.classList.contains("negative") ? "negative" : li.classList.contains("positive") ? "positive" : "neutral"]
        .concat(attrs.map(function (d) { return g(d.attr); }), [quoteText(li)]));
    });
    return out;
  }
  function download(kind) {
    var csv = toCsv(kind === "quotes" ? quoteRows() : themeRows());
    var a = document.createElement("a");
    a.href = "data:text/csv;charset=utf-8," + encodeURIComponent(csv);
    a.download = (kind === "quotes" ? "quotes" : "themes") + "-filtered.csv";
    document.body.appendChild(a); a.click(); a.remove();
    window.feedbackReport.lastExport = csv;
  }

  /* ------------------------------------------------------------ wiring */
  $("[data-filter]").forEach(function (el) {
    el.addEventListener(el.tagName === "INPUT" ? "input" : "change", refresh);
  });
  var reset = document.querySelector("[data-reset]");
  if (reset) reset.addEventListener("click", function () {
    $("select[data-filter]").forEach(function (s) {
      var n = s.getAttribute("data-filter");
      s.selectedIndex = n === "to" ? s.options.length - 1 : 0;
    });
    var q = control("search"); if (q) q.value = "";
    refresh();
  });
  $("[data-export]").forEach(function (b) {
    b.addEventListener("click", function () { download(b.getAttribute("data-export")); });
  });
  // A link to a sub-theme (treemap, tables) opens it.
  function openTarget() {
    var el = location.hash && document.getElementById(location.hash.slice(1));
    if (el && el.tagName === "DETAILS") el.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  // Printing shows every sub-theme's quotes.
  var wasOpen = [];
  window.addEventListener("beforeprint", function () {
    wasOpen = $("details").map(function (d) { return d.open; });
    $("details").forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () { $("details").forEach(function (d, i) { d.open = wasOpen[i]; }); });
  window.feedbackReport = { refresh: refresh, themeRows: themeRows, quoteRows: quoteRows, lastExport: null };
  openTarget();
  refresh();
})();
