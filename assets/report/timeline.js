// loopguard's interactive timeline. Inline in the page, no network: every
// figure.lg-timeline holding a script.lg-data block (JSON) gets
// a zoomable view (drag to zoom, wheel to zoom, shift+drag or the arrows
// to pan, double-click to reset) with a tooltip listing every trace row at
// the instant under the pointer and the world's state there. Text goes in
// through textContent only: names in the data are never markup.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4,
    3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 6048e5];
  var L = 150, R = 18, TOP = 6, FAULT_ROW = 14, LANE = 48, AXIS = 28, MIN_SPAN = 20;
  var SNAP_PX = 4;

  function pad(n, w) { n = String(n); while (n.length < w) { n = "0" + n; } return n; }
  // Same format as the report's instants: h:mm:ss.mmm.
  function instant(ms) {
    var s = Math.floor(ms / 1000);
    return Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60, 2) + ":" + pad(s % 60, 2) +
      "." + pad(ms % 1000, 3);
  }
  // Axis labels: m:ss (h:mm:ss past an hour), with decimals below a second.
  function tickLabel(t, step, long) {
    var s = Math.floor(t / 1000);
    var out = long ? Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60, 2) +
      (step < 6e4 ? ":" + pad(s % 60, 2) : "")
      : Math.floor(s / 60) + ":" + pad(s % 60, 2);
    if (step < 1000) {
      var digits = step % 100 === 0 ? 1 : step % 10 === 0 ? 2 : 3;
      out += "." + pad(t % 1000, 3).slice(0, digits);
    }
    return out;
  }
  function ticks(a, b, long) {
    var span = b - a, step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) { if (span / STEPS[i] <= 10) { step = STEPS[i]; break; } }
    var out = [];
    for (var t = Math.ceil(a / step) * step; t <= b; t += step) { out.push([t, tickLabel(t, step, long)]); }
    return out;
  }
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function html(name, cls, text, parent) {
    var e = document.createElement(name);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  // Index of the last step at or before t (-1 when none).
  function stepAt(steps, t) {
    var lo = 0, hi = steps.length - 1, ans = -1;
    while (lo <= hi) { var m = (lo + hi) >> 1; if (steps[m][0] <= t) { ans = m; lo = m + 1; } else { hi = m - 1; } }
    return ans;
  }

  function View(fig, data, index) {
    this.fig = fig; this.d = data; this.clipId = "lg-clip-" + index;
    this.a = 0; this.b = Math.max(data.len, 1);
    this.long = data.len >= 36e5;
    this.faultKinds = [];
    for (var i = 0; i < data.faults.length; i++) {
      if (this.faultKinds.indexOf(data.faults[i][0]) < 0) { this.faultKinds.push(data.faults[i][0]); }
    }
    this.invColor = {};
    for (i = 0; i < data.inv_colors.length; i++) { this.invColor[data.inv_colors[i][0]] = data.inv_colors[i][1]; }
    this.eventSteps = data.events.map(function (e) { return [e[0]]; });
    this.instants = [];
    for (i = 0; i < data.events.length; i++) {
      if (i === 0 || data.events[i][0] !== data.events[i - 1][0]) { this.instants.push(data.events[i][0]); }
    }
    for (i = 0; i < data.viol.length; i++) { this.instants.push(data.viol[i][0]); }
    this.instants.sort(function (x, y) { return x - y; });
    this.instantSteps = this.instants.map(function (v) { return [v]; });
    this.build();
  }

  View.prototype.build = function () {
    var self = this, d = this.d;
    var box = html("div", "lg-iv");
    var tools = html("div", "lg-tools", null, box);
    function button(label, title, f) {
      var b = html("button", null, label, tools); b.type = "button"; b.title = title;
      b.addEventListener("click", f); return b;
    }
    button("−", "zoom out", function () { self.zoomAt((self.a + self.b) / 2, 2); });
    button("+", "zoom in", function () { self.zoomAt((self.a + self.b) / 2, 0.5); });
    button("◀", "pan left", function () { self.pan(-(self.b - self.a) / 4); });
    button("▶", "pan right", function () { self.pan((self.b - self.a) / 4); });
    button("reset", "whole run", function () { self.setView(0, d.len); });
    this.rangeText = html("span", "lg-range", "", tools);
    html("span", "lg-help", "drag to zoom · wheel to zoom · shift+drag to pan · double-click resets · hover for the instant", tools);
    this.height = TOP + FAULT_ROW * this.faultKinds.length + (this.faultKinds.length ? 6 : 0) +
      LANE * d.lanes.length + AXIS;
    this.svg = el("svg", { "class": "lg-plot", height: this.height, role: "img",
      "aria-label": "interactive timeline of " + d.title }, null);
    box.appendChild(this.svg);
    this.tip = html("div", "lg-tip", null, box); this.tip.hidden = true;
    this.fig.insertBefore(box, this.fig.firstChild);
    this.box = box;
    var st = this.fig.querySelector(".lg-static");
    if (st) {
      var link = html("a", null, "static SVG", tools); link.href = st.getAttribute("href");
      st.style.display = "none";
    }
    this.bind();
    this.render();
  };

  View.prototype.width = function () { return Math.max(this.svg.getBoundingClientRect().width, L + R + 100); };
  View.prototype.x = function (t) { return L + (t - this.a) * (this.width() - L - R) / (this.b - this.a); };
  View.prototype.t = function (x) { return this.a + (x - L) * (this.b - this.a) / (this.width() - L - R); };
  // The pointer's x inside the plot, for a client x.
  View.prototype.localX = function (clientX) { return clientX - this.svg.getBoundingClientRect().left; };
  // For tests and people: the client x of a virtual time at the current zoom.
  View.prototype.clientX = function (t) { return this.svg.getBoundingClientRect().left + this.x(t); };
  View.prototype.view = function () { return [this.a, this.b]; };

  View.prototype.setView = function (a, b) {
    var len = this.d.len, span = Math.max(b - a, MIN_SPAN);
    span = Math.min(span, len);
    a = Math.max(0, Math.min(a, len - span));
    this.a = Math.round(a); this.b = Math.round(a + span);
    this.render();
  };
  View.prototype.zoomAt = function (t, factor) {
    var a = t - (t - this.a) * factor, b = t + (this.b - t) * factor;
    this.setView(a, b);
  };
  View.prototype.pan = function (dt) { this.setView(this.a + dt, this.b + dt); };

  View.prototype.lanesTop = function () {
    return TOP + FAULT_ROW * this.faultKinds.length + (this.faultKinds.length ? 6 : 0);
  };

  View.prototype.render = function () {
    var d = this.d, svg = this.svg, self = this;
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var W = this.width(), PW = Math.max(1, Math.floor(W - L - R));
    svg.setAttribute("viewBox", "0 0 " + W + " " + this.height);
    var a = this.a, b = this.b, k = PW / (b - a);
    var lanesTop = this.lanesTop(), axisY = lanesTop + LANE * d.lanes.length;
    el("rect", { x: L, y: 0, width: PW, height: axisY, fill: "#fff" }, svg);
    var clip = el("clipPath", { id: this.clipId }, el("defs", {}, svg));
    el("rect", { x: L, y: 0, width: PW, height: axisY }, clip);
    var plot = el("g", { "clip-path": "url(#" + this.clipId + ")" }, svg);
    function px(t) { return L + (t - a) * k; }
    function text(s, x, y, attrs, parent) {
      var e = el("text", attrs, parent || svg); e.setAttribute("x", x); e.setAttribute("y", y);
      e.textContent = s; return e;
    }
    // Per pixel column, the category holding most of it, merged into runs.
    function columns(spans, catOf) {
      var best = new Float64Array(PW), cat = new Array(PW);
      for (var i = 0; i < spans.length; i++) {
        var s = spans[i], s0 = s[0], s1 = s[1];
        if (s1 <= a || s0 >= b) { continue; }
        var x0 = Math.max(0, (s0 - a) * k), x1 = Math.min(PW, (s1 - a) * k);
        for (var c = Math.floor(x0); c < Math.ceil(x1) && c < PW; c++) {
          var ov = Math.min(x1, c + 1) - Math.max(x0, c);
          if (ov > best[c]) { best[c] = ov; cat[c] = catOf(s); }
        }
      }
      var runs = [], c0 = 0;
      for (var c2 = 1; c2 <= PW; c2++) {
        if (c2 === PW || cat[c2] !== cat[c0]) {
          if (cat[c0] !== undefined) { runs.push([L + c0, L + c2, cat[c0]]); }
          c0 = c2;
        }
      }
      return runs;
    }
    // Steps (t, n) as spans (start, end, n) for columns(); max per column.
    function stepSpans(steps) {
      var out = [];
      for (var i = 0; i < steps.length; i++) {
        var end = i + 1 < steps.length ? steps[i + 1][0] : d.len;
        out.push([steps[i][0], Math.max(end, steps[i][0] + (steps[i][1] > 1 ? Math.max(1, 2 / k) : 0)), steps[i][1]]);
      }
      return out;
    }

    // Faults.
    for (var f = 0; f < this.faultKinds.length; f++) {
      var fy = TOP + FAULT_ROW * f;
      text(this.faultKinds[f], L - 8, fy + 10, { "text-anchor": "end", "font-size": 11, fill: "#5f6773" });
    }
    for (var i = 0; i < d.faults.length; i++) {
      var fl = d.faults[i];
      if (fl[4] <= a || fl[3] >= b) { continue; }
      var row = this.faultKinds.indexOf(fl[0]);
      var fx0 = Math.max(L, px(fl[3])), fx1 = Math.min(L + PW, Math.max(px(fl[4]), fx0 + 2));
      el("rect", { x: fx0, y: TOP + FAULT_ROW * row + 2, width: fx1 - fx0, height: FAULT_ROW - 4, fill: fl[1], "fill-opacity": 0.85 }, svg);
      el("rect", { x: fx0, y: lanesTop, width: fx1 - fx0, height: axisY - lanesTop, fill: fl[1], "fill-opacity": 0.12 }, plot);
    }
    // Grid and axis.
    var tk = ticks(a, b, this.long);
    var axis = el("g", { "class": "lg-axis" }, svg);
    el("line", { x1: L, x2: L + PW, y1: axisY, y2: axisY, stroke: "#5f6773" }, axis);
    for (i = 0; i < tk.length; i++) {
      var tx = px(tk[i][0]);
      el("line", { x1: tx, x2: tx, y1: lanesTop, y2: axisY, stroke: "#e3e6ea" }, plot);
      el("line", { x1: tx, x2: tx, y1: axisY, y2: axisY + 4, stroke: "#5f6773" }, axis);
      text(tk[i][1], tx, axisY + 16, { "class": "lg-tick", "text-anchor": "middle", "font-size": 11, fill: "#5f6773" }, axis);
    }
    // Lanes.
    var multi = false;
    for (i = 1; i < d.lanes.length; i++) { if (d.lanes[i].inst !== d.lanes[0].inst) { multi = true; } }
    for (var li = 0; li < d.lanes.length; li++) {
      var lane = d.lanes[li], top = lanesTop + LANE * li;
      if (li > 0) { el("line", { x1: 8, x2: L + PW, y1: top, y2: top, stroke: "#e3e6ea" }, svg); }
      text(multi ? lane.user + " · " + lane.inst : lane.user, L - 8, top + 28,
        { "text-anchor": "end", "font-size": 13, fill: "#1f2328" });
      text("supervisor's view", L - 8, top + 40, { "text-anchor": "end", "font-size": 9, fill: "#5f6773" });
      // State bar: the supervisor's own view.
      var runs = columns(lane.spans, function (s) { return s[2]; });
      for (var r = 0; r < runs.length; r++) {
        var ru = runs[r];
        if (ru[2] < 0) {
          el("rect", { x: ru[0], y: top + 25, width: ru[1] - ru[0], height: 2, fill: "#5b6270" }, plot);
        } else {
          el("rect", { x: ru[0], y: top + 18, width: ru[1] - ru[0], height: 14, fill: d.states[ru[2]][1] }, plot);
        }
      }
      // Ground truth beneath: sockets this instance held for the user.
      var sr = columns(stepSpans(lane.sock), function (s) { return s[2]; });
      for (r = 0; r < sr.length; r++) {
        if (sr[r][2] >= 1) {
          el("rect", { x: sr[r][0], y: top + 35, width: sr[r][1] - sr[r][0], height: 7,
            fill: sr[r][2] > 1 ? "#d61f26" : "#4e79a7", "fill-opacity": sr[r][2] > 1 ? 1 : 0.7 }, plot);
        }
      }
      // Up, as uptime counts it, under the user's last lane.
      if (li + 1 === d.lanes.length || d.lanes[li + 1].user !== lane.user) {
        for (var ui = 0; ui < d.users.length; ui++) {
          if (d.users[ui].user !== lane.user) { continue; }
          var up = d.users[ui].up;
          for (r = 0; r < up.length; r++) {
            if (up[r][1] <= a || up[r][0] >= b) { continue; }
            var u0 = Math.max(L, px(up[r][0])), u1 = Math.min(L + PW, px(up[r][1]));
            el("rect", { x: u0, y: top + 43, width: Math.max(1, u1 - u0), height: 2, fill: "#2e7d32" }, plot);
          }
        }
      }
      // Attempts, one triangle per cause and 2-pixel column.
      var seen = {};
      for (r = 0; r < lane.att.length; r++) {
        var at = lane.att[r];
        if (at[0] < a || at[0] > b) { continue; }
        var ax = px(at[0]), key = Math.floor(ax / 2) + ":" + at[1];
        if (seen[key]) { continue; }
        seen[key] = true;
        el("path", { d: "M" + (ax - 4) + " " + (top + 10) + "h8l-4 7z", fill: d.causes[at[1]][1] }, plot);
      }
      // Closes: a tick below the bar; codes where there is room, 440 in yellow with its count.
      var buckets = [], bucketOf = {};
      for (r = 0; r < lane.closes.length; r++) {
        var cl = lane.closes[r];
        if (cl[0] < a || cl[0] > b) { continue; }
        var cx = px(cl[0]), bk = Math.floor(cx / 3) + ":" + cl[1];
        if (bucketOf[bk] === undefined) { bucketOf[bk] = buckets.length; buckets.push([cx, cl[1], 0]); }
        buckets[bucketOf[bk]][2] += 1;
      }
      var usedTo = -1e9;
      for (r = 0; r < buckets.length; r++) {
        var bu = buckets[r];
        el("line", { x1: bu[0], x2: bu[0], y1: top + 32, y2: top + 35, stroke: bu[1] === 440 ? "#111" : "#2b2f36",
          "stroke-width": bu[1] === 440 ? 2 : 1 }, plot);
        if (bu[1] === null) { continue; }
        var label = bu[2] > 1 ? bu[1] + "×" + bu[2] : String(bu[1]);
        var w = label.length * 6 + 4;
        if (bu[0] - w / 2 <= usedTo) { continue; }
        usedTo = bu[0] + w / 2;
        if (bu[1] === 440) {
          el("rect", { x: bu[0] - w / 2, y: top + 1, width: w, height: 9, fill: "#ffd23f", stroke: "#111", "stroke-width": 0.5 }, plot);
        }
        text(label, bu[0], top + 8.5, { "text-anchor": "middle", "font-size": 8, fill: "#111" }, plot);
      }
    }
    // Violations: a dot in the invariant's colour on the user's first lane.
    var vseen = {}, named = {};
    for (i = 0; i < d.viol.length; i++) {
      var v = d.viol[i];
      if (v[0] < a || v[0] > b) { continue; }
      var vl = 0;
      for (var q = 0; q < d.lanes.length; q++) { if (d.lanes[q].user === v[2]) { vl = q; break; } }
      var vx = px(v[0]), vk = vl + ":" + Math.floor(vx / 3) + ":" + v[1];
      if (vseen[vk]) { continue; }
      vseen[vk] = true;
      var vy = lanesTop + LANE * vl + 21;
      el("circle", { cx: vx, cy: vy - 16, r: 4, fill: this.invColor[v[1]] || "#d61f26", stroke: "#fff" }, plot);
      // Each invariant named once per lane, where no other label is.
      var nk = vl + ":" + v[1], lw = v[1].length * 5.6 + 6, free = named["@" + vl] || -1e9;
      if (!named[nk] && vx + 6 >= free) {
        named[nk] = true;
        named["@" + vl] = vx + 6 + lw;
        text(v[1], vx + 6, vy - 13, { "font-size": 10, fill: this.invColor[v[1]] || "#d61f26", "class": "lg-inv" }, plot);
      }
    }
    this.cursor = el("line", { x1: -10, x2: -10, y1: lanesTop, y2: axisY, stroke: "#1f2328", "stroke-dasharray": "3 2", visibility: "hidden" }, svg);
    this.brush = el("rect", { x: 0, y: lanesTop, width: 0, height: axisY - lanesTop, fill: "#2f6db5", "fill-opacity": 0.15, visibility: "hidden" }, svg);
    this.rangeText.textContent = instant(a) + " – " + instant(b);
    this.fig.setAttribute("data-view", a + "," + b);
  };

  // The instant under the pointer: the nearest trace row's time when one is
  // within a few pixels, else the time under the pointer itself.
  View.prototype.instantAt = function (x) {
    var t = Math.round(this.t(x)), ins = this.instants;
    var i = stepAt(this.instantSteps, t), best = null;
    [i, i + 1].forEach(function (j) {
      if (j >= 0 && j < ins.length && (best === null || Math.abs(ins[j] - t) < Math.abs(best - t))) { best = ins[j]; }
    });
    if (best !== null && Math.abs(this.x(best) - x) <= SNAP_PX) { return { t: best, exact: true }; }
    return { t: Math.max(0, Math.min(this.d.len, t)), exact: false };
  };

  View.prototype.hover = function (x, y) {
    var d = this.d, ins = this.instantAt(x), t = ins.t, tip = this.tip;
    this.cursor.setAttribute("x1", this.x(t)); this.cursor.setAttribute("x2", this.x(t));
    this.cursor.setAttribute("visibility", "visible");
    while (tip.firstChild) { tip.removeChild(tip.firstChild); }
    html("h4", null, instant(t) + (ins.exact ? "" : " (no trace row here)"), tip);
    // Every trace row at that instant.
    var rows = [];
    var lo = stepAt(this.eventSteps, t - 1) + 1;
    for (var i = lo; i < d.events.length && d.events[i][0] === t; i++) { rows.push(d.events[i]); }
    var viol = d.viol.filter(function (v) { return v[0] === t; });
    if (rows.length || viol.length) {
      html("h5", null, rows.length + " trace row" + (rows.length === 1 ? "" : "s") + " at this instant", tip);
      var ul = html("ul", null, null, tip);
      rows.forEach(function (e) {
        var li = html("li", null, null, ul);
        html("span", "lg-k", d.kinds[e[3]], li);
        li.appendChild(document.createTextNode(" " + d.hosts[e[1]] + (e[2] ? " · " + e[2] : "") + (e[4] ? " · " + e[4] : "")));
      });
      viol.forEach(function (v) {
        var li = html("li", null, null, ul);
        var s = html("span", "lg-k", "violation " + v[1], li);
        s.style.color = d.inv_colors.filter(function (c) { return c[0] === v[1]; }).map(function (c) { return c[1]; })[0] || "#d61f26";
        if (v[2]) { li.appendChild(document.createTextNode(" · " + v[2])); }
      });
      if (d.events.length < d.events_total && t >= d.events[d.events.length - 1][0]) {
        html("li", "lg-more", "this page keeps the first " + d.events.length + " of " + d.events_total + " rows; the run's page has them all", ul);
      }
    }
    // The world's state there, after the rows of the instant.
    html("h5", null, "state at " + instant(t), tip);
    var ws = html("ul", null, null, tip);
    d.lanes.forEach(function (lane) {
      var s = null;
      for (var j = 0; j < lane.spans.length; j++) {
        var sp = lane.spans[j];
        if (sp[0] <= t && (t < sp[1] || (j + 1 === lane.spans.length && t <= sp[1]))) { s = sp[2]; }
      }
      var k = stepAt(lane.sock, t), socks = k < 0 ? 0 : lane.sock[k][1];
      var att = 0;
      for (j = 0; j < lane.att.length && lane.att[j][0] <= t; j++) { att++; }
      var user = null;
      d.users.forEach(function (u) { if (u.user === lane.user) { user = u; } });
      var up = user && user.up.some(function (p) { return p[0] <= t && t < p[1]; });
      html("li", null, lane.user + " @ " + lane.inst + ": " +
        (s === null ? "—" : s < 0 ? "instance not running" : d.states[s][0]) +
        " (supervisor) · sockets " + socks + " (truth)" + (up ? ", up" : ", down") +
        " · attempts " + att, ws);
    });
    var active = d.faults.filter(function (fl) { return fl[3] <= t && t < fl[4]; });
    html("li", null, "faults: " + (active.length ? active.map(function (fl) { return fl[0] + " on " + fl[2]; }).join(", ") : "none"), ws);
    tip.hidden = false;
    var bw = this.box.getBoundingClientRect().width, left = x + 14;
    var tw = Math.min(460, tip.getBoundingClientRect().width || 300);
    if (left + tw > bw) { left = Math.max(0, x - 14 - tw); }
    tip.style.left = left + "px";
    tip.style.top = (y + 24) + "px";
    this.fig.setAttribute("data-hover", String(t));
  };

  View.prototype.bind = function () {
    var self = this, svg = this.svg, drag = null;
    function inPlot(x) { return x >= L && x <= self.width() - R; }
    svg.addEventListener("mousedown", function (ev) {
      var x = self.localX(ev.clientX);
      if (ev.button !== 0 || !inPlot(x)) { return; }
      ev.preventDefault();
      drag = { x0: x, a: self.a, b: self.b, pan: ev.shiftKey };
    });
    window.addEventListener("mousemove", function (ev) {
      var x = self.localX(ev.clientX);
      if (drag) {
        if (drag.pan) {
          var dt = (drag.x0 - x) * (drag.b - drag.a) / (self.width() - L - R);
          self.setView(drag.a + dt, drag.b + dt);
        } else {
          var xa = Math.max(L, Math.min(drag.x0, x)), xb = Math.min(self.width() - R, Math.max(drag.x0, x));
          self.brush.setAttribute("x", xa); self.brush.setAttribute("width", xb - xa);
          self.brush.setAttribute("visibility", "visible");
        }
        return;
      }
      var r = svg.getBoundingClientRect();
      if (ev.clientY >= r.top && ev.clientY <= r.bottom && inPlot(x)) {
        self.hover(x, ev.clientY - self.box.getBoundingClientRect().top);
      } else {
        self.tip.hidden = true;
        if (self.cursor) { self.cursor.setAttribute("visibility", "hidden"); }
      }
    });
    window.addEventListener("mouseup", function (ev) {
      if (!drag) { return; }
      var x = self.localX(ev.clientX), d0 = drag;
      drag = null;
      if (!d0.pan && Math.abs(x - d0.x0) > 4) {
        self.setView(self.t(Math.min(x, d0.x0)), self.t(Math.max(x, d0.x0)));
      } else {
        self.brush.setAttribute("visibility", "hidden");
      }
    });
    svg.addEventListener("wheel", function (ev) {
      var x = self.localX(ev.clientX);
      if (!inPlot(x)) { return; }
      ev.preventDefault();
      if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        self.pan((ev.deltaX || ev.deltaY) * (self.b - self.a) / 800);
      } else {
        self.zoomAt(self.t(x), ev.deltaY > 0 ? 1.25 : 0.8);
      }
    }, { passive: false });
    svg.addEventListener("dblclick", function () { self.setView(0, self.d.len); });
    window.addEventListener("resize", function () { self.render(); });
  };

  var views = [];
  var figs = document.querySelectorAll("figure.lg-timeline");
  for (var i = 0; i < figs.length; i++) {
    var script = figs[i].querySelector("script.lg-data");
    if (!script) { continue; }
    var data;
    try { data = JSON.parse(script.textContent); } catch (e) { continue; }
    if (!data || data.v !== 1) { continue; }
    var view = new View(figs[i], data, i);
    views.push(view);
  }
  window.loopguardTimelines = views;
})();
