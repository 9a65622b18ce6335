/* viz.explore: the page's script (inlined into the page when it is written).
 *
 * Reads the JSON in #tgl-data (written by viz/explore.py): nodes and edges of the drawing
 * (SVG ids n<i> and e<k>), module clusters (c<k>), and per statistic one array over the
 * recorded steps. Recolours the SVG for the current step, draws the loss chart, the legend
 * and the panel of the selected node, edge or module. No request leaves the page.
 */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("tgl-data").textContent);
  const svg = document.querySelector("#graph > svg");
  const NS = svg.namespaceURI;
  const graphRoot = svg.querySelector("g.graph") || svg;
  const nSteps = D.steps.length;
  const state = { j: 0, mode: "abs", sel: null, playing: null, collapsed: new Set() };

  // -- numbers ------------------------------------------------------------------------------
  const num = (x) => (x === null || x === undefined ? null : typeof x === "string" ? Number(x) : x);
  const at = (col, j) => (col ? num(col[j]) : null);
  const S = (name, i) => (D.S[name] ? D.S[name][i] : null);
  function fmt(x, digits) {
    x = num(x);
    if (x === null) return "–";
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(digits || 4)));
    return x.toExponential((digits || 4) - 1).replace("e+", "e");
  }
  const pct = (x) => (x === null ? "–" : (100 * x).toFixed(x > 0 && x < 0.01 ? 1 : 0) + "%");
  const sizeOf = (n) => n.shape.reduce((a, b) => a * b, 1);
  const shapeText = (s) => "(" + s.join(", ") + (s.length === 1 ? ",)" : ")");
  function rms(i, j) {
    const gn = at(S("gn", i), j);
    return gn === null ? null : gn / Math.sqrt(Math.max(sizeOf(D.nodes[i]), 1));
  }

  // -- colours --------------------------------------------------------------------------------
  const RAMP = [[-6, [242, 242, 242]], [-3, [198, 219, 239]], [-1, [107, 174, 214]],
    [0, [49, 130, 189]], [2, [8, 69, 148]], [3, [197, 27, 125]]];
  const DEAD = "#d73027", SATURATED = "#f28e2b", EXPLODING = "#c51b7d", HEALTHY = "#a6d96a";
  const BORDER = "#555555", DATA_BORDER = "#aaaaaa", PARAM = "#fff3c4", DATA = "#ececec";
  const NO_GRAD = "#bbbbbb", TINY = "#cccccc", UNMEASURED = "#777777", NOT_RECORDED = "#dddddd";
  const CURRENT = "#d62728", SELECTED = "#ffbf00";
  const hex = (c) => "#" + c.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  function rampAt(x) {
    if (x <= RAMP[0][0]) return hex(RAMP[0][1]);
    for (let k = 1; k < RAMP.length; k++) {
      const [x0, c0] = RAMP[k - 1], [x1, c1] = RAMP[k];
      if (x <= x1) {
        const t = (x - x0) / (x1 - x0);
        return hex(c0.map((v, q) => v + (c1[q] - v) * t));
      }
    }
    return hex(RAMP[RAMP.length - 1][1]);
  }
  function mix(a, b, t) {
    const p = (s) => [1, 3, 5].map((q) => parseInt(s.slice(q, q + 2), 16));
    const ca = p(a), cb = p(b);
    return hex(ca.map((v, q) => v + (cb[q] - v) * Math.min(Math.max(t, 0), 1)));
  }
  function textColour(bg) {
    const [r, g, b] = [1, 3, 5].map((q) => parseInt(bg.slice(q, q + 2), 16));
    return 0.299 * r + 0.587 * g + 0.114 * b < 140 ? "#ffffff" : "#000000";
  }
  // one scale for every step: log10 of the gradient RMS range the page was given (by default
  // the 2nd to 98th percentile of the ops' gradients), widened to two decades at least
  const ABS = (function () {
    if (!D.domain) return [-6, 0];
    let [lo, hi] = D.domain;
    if (hi - lo < 2) { const m = (hi + lo) / 2; lo = m - 1; hi = m + 1; }
    return [Math.floor(lo * 2) / 2, Math.ceil(hi * 2) / 2];
  })();
  // position on the ramp (log10 relative units) of an RMS r of group g at step j
  function rampPos(r, g, j) {
    if (state.mode === "rel") {
      const ref = at(D.ref[g], j);
      if (!ref) return null;
      return r > 0 ? Math.log10(r / ref) : -Infinity;
    }
    if (r <= 0) return -Infinity;
    const t = (Math.log10(r) - ABS[0]) / (ABS[1] - ABS[0]);
    return -6 + 8 * Math.min(Math.max(t, 0), 1);
  }
  function gradColour(r, g, j) {
    if (r === null) return null;
    if (!Number.isFinite(r)) return EXPLODING;
    const x = rampPos(r, g, j);
    return x === null ? "#ffffff" : rampAt(x);
  }

  // -- the drawing's elements -----------------------------------------------------------------
  const nodeEls = [];
  for (let i = 0; i < D.ndraw; i++) {
    const g = document.getElementById("n" + i);
    if (!g) { nodeEls.push(null); continue; }
    const shape = g.querySelector("path, polygon, ellipse");
    const texts = [...g.querySelectorAll("text")];
    g.dataset.key = D.nodes[i].k;
    const title = document.createElementNS(NS, "title");
    title.textContent = D.nodes[i].name;
    g.insertBefore(title, g.firstChild);
    const el = { g, shape, texts, strip: null, baseStroke: shape ? shape.getAttribute("stroke") : null };
    if (D.strip[i] && texts.length >= 5 && shape) el.strip = makeStrip(shape, texts[4], i);
    nodeEls.push(el);
    g.addEventListener("click", (ev) => { if (!dragged) { select({ t: "node", i }); ev.stopPropagation(); } });
  }
  function makeStrip(shape, line, i) {
    const box = shape.getBBox();
    const y = Number(line.getAttribute("y"));
    const cells = D.strip[i].find((s) => s !== null).length;
    const w = Math.min(box.width - 16, 180);
    const x0 = box.x + (box.width - w) / 2;
    const grp = document.createElementNS(NS, "g");
    grp.setAttribute("class", "tgl-strip");
    const rects = [];
    for (let c = 0; c < cells; c++) {
      const r = document.createElementNS(NS, "rect");
      r.setAttribute("x", (x0 + (c * w) / cells).toFixed(2));
      r.setAttribute("y", (y - 8).toFixed(2));
      r.setAttribute("width", Math.max(w / cells - 0.8, 0.6).toFixed(2));
      r.setAttribute("height", "7");
      grp.appendChild(r);
      rects.push(r);
    }
    line.parentNode.appendChild(grp);
    return rects;
  }
  const edgeEls = D.edges.map((e, k) => {
    const g = document.getElementById("e" + k);
    if (!g) return null;
    const path = g.querySelector("path");
    const heads = [...g.querySelectorAll("polygon")];
    if (path) {  // a wide invisible copy of the path: edges are easy to click
      const hit = path.cloneNode(false);
      hit.setAttribute("stroke", "transparent");
      hit.setAttribute("stroke-width", "12");
      hit.setAttribute("fill", "none");
      hit.classList.add("tgl-hit");
      g.appendChild(hit);
    }
    const title = document.createElementNS(NS, "title");
    title.textContent = D.nodes[e.s].name + " → " + D.nodes[e.d].name;
    g.insertBefore(title, g.firstChild);
    g.addEventListener("click", (ev) => { if (!dragged) { select({ t: "edge", k }); ev.stopPropagation(); } });
    return { g, path, heads };
  });
  const clusterEls = D.clusters.map((c, k) => {
    const g = document.getElementById(c.id);
    if (!g) return null;
    const frame = g.querySelector("polygon, path");
    const label = g.querySelector("text");
    if (label) {
      label.textContent = "▾ " + label.textContent;
      label.addEventListener("click", (ev) => { if (!dragged) { toggle(k); ev.stopPropagation(); } });
    }
    const title = document.createElementNS(NS, "title");
    title.textContent = "module " + c.m + (c.cls ? " (" + c.cls + ")" : "") + ": click the title to collapse";
    g.insertBefore(title, g.firstChild);
    return { g, frame, label, overlay: null };
  });

  // -- collapsing modules -------------------------------------------------------------------
  function toggle(k) {
    if (state.collapsed.has(k)) expand(k); else collapse(k);
  }
  function collapse(k) {
    const ce = clusterEls[k];
    if (!ce || !ce.frame || state.collapsed.has(k)) return;
    const c = D.clusters[k];
    const box = ce.frame.getBBox();
    const g = document.createElementNS(NS, "g");
    g.setAttribute("class", "tgl-overlay");
    g.setAttribute("id", c.id + "-collapsed");
    const rect = document.createElementNS(NS, "rect");
    for (const [a, v] of [["x", box.x], ["y", box.y], ["width", box.width], ["height", box.height],
      ["rx", 8], ["stroke", BORDER], ["stroke-width", 1.5]]) rect.setAttribute(a, v);
    g.appendChild(rect);
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    const lines = [];
    for (let q = 0; q < 3; q++) {
      const t = document.createElementNS(NS, "text");
      t.setAttribute("x", cx);
      t.setAttribute("y", cy + (q - 1) * 14 + 4);
      t.setAttribute("text-anchor", "middle");
      t.setAttribute("font-family", "Helvetica,sans-Serif");
      t.setAttribute("font-size", q === 0 ? "12" : "10");
      if (q === 0) t.setAttribute("font-weight", "bold");
      g.appendChild(t);
      lines.push(t);
    }
    lines[0].textContent = "▸ " + c.m + (c.cls ? " (" + c.cls + ")" : "");
    lines[0].addEventListener("click", (ev) => { if (!dragged) { expand(k); ev.stopPropagation(); } });
    const title = document.createElementNS(NS, "title");
    title.textContent = "module " + c.m + ": click the title to expand it, elsewhere for its numbers";
    g.insertBefore(title, g.firstChild);
    g.addEventListener("click", (ev) => { if (!dragged) { select({ t: "cluster", k }); ev.stopPropagation(); } });
    graphRoot.appendChild(g);
    ce.overlay = { g, rect, lines };
    state.collapsed.add(k);
    // overlays of modules inside this one sit under it; an outer one stays on top
    for (const o of state.collapsed) {
      const other = D.clusters[o];
      if (o !== k && c.m.startsWith(other.m + ".") && clusterEls[o].overlay) {
        graphRoot.appendChild(clusterEls[o].overlay.g);
      }
    }
    paintCluster(k);
  }
  function expand(k) {
    const ce = clusterEls[k];
    if (!ce || !ce.overlay) return;
    ce.overlay.g.remove();
    ce.overlay = null;
    state.collapsed.delete(k);
  }
  function paintCluster(k) {
    const ov = clusterEls[k].overlay;
    if (!ov) return;
    const c = D.clusters[k], j = state.j, i = c.out, n = D.nodes[i];
    const col = gradColour(rms(i, j), n.g, j) || "#ffffff";
    ov.rect.setAttribute("fill", col);
    const tc = textColour(col);
    for (const t of ov.lines) t.setAttribute("fill", tc);
    const gn = at(S("gn", i), j);
    ov.lines[1].textContent = gn === null ? "grad None" : "|grad| " + fmt(gn, 3) + " (output)";
    const u = unitText(unitNode(c), j);
    ov.lines[2].textContent = u ? u.text : c.nodes.length + " nodes";
    const bad = u && u.marked;
    ov.rect.setAttribute("stroke", bad ? (u.dead ? DEAD : SATURATED) : BORDER);
    ov.rect.setAttribute("stroke-width", bad ? 3 : 1.5);
  }
  function unitNode(c) {  // the last node of a module with units (its activation)
    for (let q = c.nodes.length - 1; q >= 0; q--) if (D.nodes[c.nodes[q]].u !== null) return c.nodes[q];
    return null;
  }
  function unitText(i, j) {
    if (i === null || i === undefined || D.nodes[i].u === null) return null;
    const n = D.nodes[i], dead = at(S("dead", i), j), sat = at(S("sat", i), j), sata = at(S("sata", i), j);
    if (dead !== null) {
      const k = Math.round(dead * n.u);
      return { text: k + " of " + n.u + " units dead (" + pct(dead) + ")", dead: true,
        marked: dead > 0 && dead >= D.mark };
    }
    if (sata !== null) {
      return { text: pct(sata) + " of outputs saturated", dead: false, marked: sata > 0 && sata >= D.mark };
    }
    return null;
  }

  // -- painting a step ----------------------------------------------------------------------
  function paintNode(i) {
    const el = nodeEls[i];
    if (!el || !el.shape) return;
    const j = state.j, n = D.nodes[i];
    const r = rms(i, j), absent = at(S("mean", i), j) === null && at(S("gn", i), j) === null;
    let fill = i === D.root ? "#ffffff" : gradColour(r, n.g, j);
    if (fill === null) fill = n.kind === "input" ? DATA : n.kind === "param" ? PARAM : "#ffffff";
    el.shape.setAttribute("fill", fill);
    el.g.style.opacity = absent ? "0.35" : "";
    const tc = textColour(fill);
    for (const t of el.texts) t.setAttribute("fill", tc);
    if (el.texts[2]) {
      const gn = at(S("gn", i), j);
      let txt;
      if (absent) txt = "not in this step";
      else if (gn === null) txt = n.kind === "input" ? "no grad" : "grad None";
      else if (sizeOf(n) === 1) txt = "grad " + fmt(at(S("gm", i), j), 4);
      else txt = "|grad| " + fmt(gn, 3);
      el.texts[2].textContent = txt;
    }
    const u = unitText(i, j);
    if (el.texts[3] && n.u !== null) el.texts[3].textContent = u ? u.text : "";
    let stroke = el.baseStroke, width = n.kind === "module" ? 1.5 : 1;
    if (u && u.marked) { stroke = u.dead ? DEAD : SATURATED; width = 3; }
    if (!Number.isFinite(r === null ? 0 : r)) { stroke = EXPLODING; width = 3; }
    el.shape.setAttribute("stroke", stroke);
    el.shape.setAttribute("stroke-width", width);
    if (el.strip) {
      const s = D.strip[i][j], bad = at(S("dead", i), j) !== null ? DEAD : SATURATED;
      el.strip.forEach((rect, c) => {
        rect.setAttribute("fill", s ? mix(HEALTHY, bad, Number(s[c] || 0) / 9) : NOT_RECORDED);
      });
    }
  }
  function paintEdge(k) {
    const el = edgeEls[k];
    if (!el || !el.path) return;
    const j = state.j, e = D.edges[k], src = D.nodes[e.s];
    const dn = at(D.ES.dn[k], j), up = at(D.ES.up[k], j);
    let colour = NO_GRAD, width = 1, dash = "";
    if (dn !== null) {
      const r = dn / Math.sqrt(Math.max(sizeOf(src), 1));
      if (dn === 0 && up !== 0) { colour = DEAD; width = 1.5; dash = "5,3"; }
      else if (!Number.isFinite(r)) { colour = EXPLODING; width = 3; }
      else {
        const x = rampPos(r, src.g, j);
        if (x === null) colour = UNMEASURED;
        else {
          colour = rampAt(x);
          if (x <= -5.5) colour = TINY;
          width = 0.7 + 2.8 * Math.min(Math.max((x + 6) / 8, 0), 1);
        }
      }
    } else if (up !== null) colour = UNMEASURED;
    el.path.setAttribute("stroke", colour);
    el.path.setAttribute("stroke-width", width.toFixed(2));
    if (dash) el.path.setAttribute("stroke-dasharray", dash); else el.path.removeAttribute("stroke-dasharray");
    for (const h of el.heads) { h.setAttribute("fill", colour); h.setAttribute("stroke", colour); }
  }
  // the layout measured text in Helvetica; a browser with other fonts (DejaVu is wider) would
  // let it run out of its box: a line that does not fit is narrowed to the box's width
  function fitLines(texts) {
    for (const t of texts) t.removeAttribute("textLength");
    const wide = texts.map((t) => [t, t.getComputedTextLength(), t.__room]);  // one layout
    for (const [t, len, room] of wide) {
      if (room && len > room) {
        t.setAttribute("textLength", room.toFixed(1));
        t.setAttribute("lengthAdjust", "spacingAndGlyphs");
      }
    }
  }
  const dynamicTexts = [];
  function fitStatic() {
    const all = [];
    for (const el of nodeEls) {
      if (!el || !el.shape) continue;
      const room = el.shape.getBBox().width - 8;
      el.texts.forEach((t, q) => { t.__room = room; (q < 2 ? all : dynamicTexts).push(t); });
    }
    fitLines(all);
    fitLines(dynamicTexts);
  }
  function show(j) {
    state.j = Math.max(0, Math.min(nSteps - 1, j | 0));
    for (let i = 0; i < D.ndraw; i++) paintNode(i);
    fitLines(dynamicTexts);
    D.edges.forEach((_, k) => paintEdge(k));
    for (const k of state.collapsed) paintCluster(k);
    slider.value = String(state.j);
    const loss = at(D.loss, state.j);
    counter.textContent = "step " + D.steps[state.j] + "  (" + (state.j + 1) + " of " + nSteps +
      " recorded)" + (loss === null ? "" : "  loss " + fmt(loss, 4));
    document.body.dataset.step = String(state.j);
    drawLoss();
    moveHeat();
    renderPanel();
  }

  // -- controls -------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const slider = $("slider"), counter = $("counter"), playBtn = $("play");
  slider.max = String(nSteps - 1);
  slider.addEventListener("input", () => { stop(); show(parseInt(slider.value, 10)); });
  $("first").onclick = () => { stop(); show(0); };
  $("prev").onclick = () => { stop(); show(state.j - 1); };
  $("next").onclick = () => { stop(); show(state.j + 1); };
  $("last").onclick = () => { stop(); show(nSteps - 1); };
  playBtn.onclick = () => (state.playing ? stop() : play());
  $("mode").onchange = (ev) => { state.mode = ev.target.value; drawLegend(); drawHeat(); show(state.j); };
  $("collapse-all").onclick = () => {  // outer modules last, so they cover the inner ones
    D.clusters.map((c, k) => [c.m.split(".").length, k]).sort((a, b) => b[0] - a[0])
      .forEach(([, k]) => collapse(k));
  };
  $("expand-all").onclick = () => { for (const k of [...state.collapsed]) expand(k); };
  function play() {
    if (nSteps < 2) return;
    if (state.j >= nSteps - 1) show(0);
    playBtn.textContent = "❚❚ pause";
    playBtn.classList.add("on");
    state.playing = setInterval(() => {
      show(state.j + 1);
      if (state.j >= nSteps - 1) stop();
    }, Math.max(120, Math.min(600, 12000 / nSteps)));
  }
  function stop() {
    if (state.playing) clearInterval(state.playing);
    state.playing = null;
    playBtn.textContent = "▶ play";
    playBtn.classList.remove("on");
  }
  if (nSteps < 2) {
    for (const id of ["first", "prev", "play", "next", "last", "slider"]) $(id).disabled = true;
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "SELECT" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const onSlider = ev.target === slider;
    let handled = true;
    if (ev.key === "ArrowRight" || ev.key === "ArrowUp") { if (!onSlider) { stop(); show(state.j + 1); } else handled = false; }
    else if (ev.key === "ArrowLeft" || ev.key === "ArrowDown") { if (!onSlider) { stop(); show(state.j - 1); } else handled = false; }
    else if (ev.key === "Home") { stop(); show(0); }
    else if (ev.key === "End") { stop(); show(nSteps - 1); }
    else if (ev.key === " ") { state.playing ? stop() : play(); }
    else if (ev.key === "+" || ev.key === "=") zoomBy(1 / 1.25);
    else if (ev.key === "-") zoomBy(1.25);
    else if (ev.key === "0") fit();
    else if (ev.key === "Escape") select(null);
    else handled = false;
    if (handled) ev.preventDefault();
  });

  // -- pan and zoom -----------------------------------------------------------------------------
  const pane = $("graph");
  const vb0 = svg.viewBox.baseVal;
  const home = { x: vb0.x, y: vb0.y, w: vb0.width, h: vb0.height };
  let vb = { ...home };
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  function setView(v) {
    vb = v;
    svg.setAttribute("viewBox", [v.x, v.y, v.w, v.h].map((x) => x.toFixed(2)).join(" "));
  }
  function fit() {  // the whole graph, never blown up past 1.25x
    const cw = pane.clientWidth, ch = pane.clientHeight;
    const s = cw && ch ? Math.min(cw / home.w, ch / home.h) : 1;
    if (s <= 1.25) { setView({ ...home }); return; }
    const w = cw / 1.25, h = ch / 1.25;
    setView({ x: home.x + (home.w - w) / 2, y: home.y + (home.h - h) / 2, w, h });
  }
  // node text is drawn at FONT units: at READABLE pixels per unit or more it reads as 11 px+
  const READABLE = 0.95;
  function start() {  // the whole graph, or its top at a readable size when that is too small
    const cw = pane.clientWidth, ch = pane.clientHeight;
    if (!cw || !ch || Math.min(cw / home.w, ch / home.h) >= READABLE) { fit(); return false; }
    const w = cw / READABLE, h = ch / READABLE;
    setView({ x: home.x + (home.w - w) / 2, y: home.y, w, h });
    return true;
  }
  function unitsPerPixel() {
    return Math.max(vb.w / (pane.clientWidth || 1), vb.h / (pane.clientHeight || 1));
  }
  function zoomBy(f, cx, cy) {
    const p = unitsPerPixel();
    const rect = pane.getBoundingClientRect();
    if (cx === undefined) { cx = rect.width / 2; cy = rect.height / 2; }
    // the svg point under (cx, cy): the view is centred in the pane (xMidYMid meet)
    const ox = vb.x + vb.w / 2 + (cx - rect.width / 2) * p;
    const oy = vb.y + vb.h / 2 + (cy - rect.height / 2) * p;
    const w = Math.min(Math.max(vb.w * f, home.w / 50), home.w * 20);
    const k = w / vb.w;
    setView({ x: ox - (ox - vb.x) * k, y: oy - (oy - vb.y) * k, w, h: vb.h * k });
  }
  $("zoom-in").onclick = () => zoomBy(1 / 1.25);
  $("zoom-out").onclick = () => zoomBy(1.25);
  $("fit").onclick = fit;
  pane.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const rect = pane.getBoundingClientRect();
    zoomBy(Math.exp(Math.max(-1, Math.min(1, ev.deltaY / 300))), ev.clientX - rect.left, ev.clientY - rect.top);
  }, { passive: false });
  let drag = null, dragged = false;
  pane.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    drag = { x: ev.clientX, y: ev.clientY, vb: { ...vb }, id: ev.pointerId };
    dragged = false;
  });
  window.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!dragged) { dragged = true; pane.classList.add("dragging"); }
    const p = unitsPerPixel();
    setView({ ...drag.vb, x: drag.vb.x - dx * p, y: drag.vb.y - dy * p });
  });
  window.addEventListener("pointerup", () => {
    drag = null;
    pane.classList.remove("dragging");
    setTimeout(() => { dragged = false; }, 0);
  });
  pane.addEventListener("click", () => { if (!dragged) select(null); });

  // -- small charts -----------------------------------------------------------------------------
  function el(tag, attrs, parent, text) {
    const e = document.createElementNS(NS, tag);
    for (const a in attrs) e.setAttribute(a, attrs[a]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function lineChart(target, ys, opts) {
    // ys: one number (or null) per recorded step; opts: {width, height, log, marker, onPick}
    const W = opts.width || 300, Hh = opts.height || 80, L = 44, R = 8, T = 6, B = 16;
    const box = el("svg", { width: W, height: Hh, class: "chart" }, target);
    const xs = D.steps;
    const pts = [];
    ys.forEach((y, q) => {
      y = num(y);
      if (y === null || !Number.isFinite(y) || (opts.log && y <= 0)) return;
      pts.push([xs[q], opts.log ? Math.log10(y) : y, q]);
    });
    const x0 = xs[0], x1 = Math.max(xs[xs.length - 1], x0 + 1);
    let y0 = Math.min(...pts.map((p) => p[1])), y1 = Math.max(...pts.map((p) => p[1]));
    if (opts.lo !== undefined) y0 = Math.min(y0, opts.lo);
    if (opts.hi !== undefined) y1 = Math.max(y1, opts.hi);
    if (!pts.length) { y0 = 0; y1 = 1; }
    if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
    const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const sy = (y) => T + (1 - (y - y0) / (y1 - y0)) * (Hh - T - B);
    el("rect", { x: L, y: T, width: W - L - R, height: Hh - T - B, fill: "#ffffff", stroke: "#dddddd" }, box);
    const lab = (y) => (opts.log ? fmt(Math.pow(10, y), 2) : opts.pct ? pct(y) : fmt(y, 3));
    el("text", { x: L - 3, y: T + 8, "text-anchor": "end", "font-size": 9, fill: "#555" }, box, lab(y1));
    el("text", { x: L - 3, y: Hh - B, "text-anchor": "end", "font-size": 9, fill: "#555" }, box, lab(y0));
    el("text", { x: L, y: Hh - 4, "font-size": 9, fill: "#555" }, box, "step " + x0);
    el("text", { x: W - R, y: Hh - 4, "text-anchor": "end", "font-size": 9, fill: "#555" }, box, String(xs[xs.length - 1]));
    if (pts.length) {
      el("polyline", { points: pts.map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" "),
        fill: "none", stroke: opts.colour || "#3182bd", "stroke-width": 1.5 }, box);
    }
    const xm = sx(xs[state.j]);
    el("line", { x1: xm, x2: xm, y1: T, y2: Hh - B, stroke: CURRENT, "stroke-width": 1 }, box);
    const cur = pts.find((p) => p[2] === state.j);
    if (cur) el("circle", { cx: sx(cur[0]), cy: sy(cur[1]), r: 3, fill: CURRENT }, box);
    if (opts.onPick) {
      box.style.cursor = "pointer";
      box.addEventListener("click", (ev) => {
        const x = ev.clientX - box.getBoundingClientRect().left;
        const s = x0 + ((x - L) / (W - L - R)) * (x1 - x0);
        let best = 0;
        xs.forEach((v, q) => { if (Math.abs(v - s) < Math.abs(xs[best] - s)) best = q; });
        opts.onPick(best);
      });
    }
    return box;
  }
  function drawLoss() {
    const box = $("loss");
    const holder = box.parentNode;
    const has = nSteps > 1 && D.loss.some((x) => x !== null);
    holder.hidden = !has;
    if (!has) return;
    const fresh = document.createElement("div");
    const vals = D.loss.map(num).filter((x) => x !== null && Number.isFinite(x));
    const log = vals.length > 1 && Math.min(...vals) > 0 && Math.max(...vals) / Math.min(...vals) > 30;
    const chart = lineChart(fresh, D.loss, { width: 300, height: 110, log, colour: "#333333",
      onPick: (q) => { stop(); show(q); } });
    chart.id = "loss";
    holder.replaceChild(chart, box);
  }
  // every op's gradient over every step: one row per op, the input's end at the top
  const heatRows = [];
  for (let i = 0; i < D.ndraw; i++) {
    const k = D.nodes[i].kind;
    if (i !== D.root && (k === "op" || k === "module") && D.S.gn[i] !== null) heatRows.push(i);
  }
  heatRows.sort((a, b) => D.nodes[b].d - D.nodes[a].d || a - b);
  let heatMarker = null;
  function drawHeat() {
    const holder = $("heat");
    holder.textContent = "";
    holder.parentNode.hidden = !heatRows.length || nSteps < 2;
    if (holder.parentNode.hidden) return;
    // a label column on the left: every row is named when rows are 11 px or taller, else
    // every few rows (the others say their name on hover)
    const W = 320, L = 120, rh = heatRows.length <= 40 ? 12 : Math.max(3, 480 / heatRows.length);
    const every = Math.ceil(11 / rh);
    const cw = (W - L) / nSteps, Hh = rh * heatRows.length;
    const box = el("svg", { width: W, height: Hh + 16, id: "heat-map" }, holder);
    heatRows.forEach((i, r) => {
      const n = D.nodes[i];
      if (r % every === 0) {
        const name = n.name.length > 20 ? n.name.slice(0, 19) + "…" : n.name;
        const t = el("text", { x: L - 4, y: (r * rh + Math.min(rh, 12) - 2).toFixed(2), "font-size": 10,
          fill: "#333", "text-anchor": "end", class: "heat-label" }, box, name);
        el("title", {}, t, n.name);
      }
      for (let j = 0; j < nSteps; j++) {
        const col = gradColour(rms(i, j), n.g, j);
        const c = el("rect", { x: (L + j * cw).toFixed(2), y: (r * rh).toFixed(2),
          width: (cw + 0.3).toFixed(2), height: (rh + 0.3).toFixed(2), fill: col || "#ffffff" }, box);
        c.dataset.i = i;
        c.dataset.j = j;
      }
    });
    box.addEventListener("mousemove", (ev) => {
      const t = ev.target;
      if (t.dataset && t.dataset.i !== undefined) {
        box.setAttribute("title", "");
        holder.title = D.nodes[t.dataset.i].name + ", step " + D.steps[t.dataset.j];
      }
    });
    box.addEventListener("click", (ev) => {
      const t = ev.target;
      if (t.dataset && t.dataset.i !== undefined) {
        stop();
        select({ t: "node", i: Number(t.dataset.i) });
        show(Number(t.dataset.j));
      }
    });
    el("text", { x: L, y: Hh + 12, "font-size": 9, fill: "#555" }, box, "step " + D.steps[0]);
    el("text", { x: W, y: Hh + 12, "font-size": 9, fill: "#555", "text-anchor": "end" }, box,
      "step " + D.steps[nSteps - 1]);
    heatMarker = el("rect", { y: 0, height: Hh, width: Math.max(cw, 2), fill: "none",
      stroke: CURRENT, "stroke-width": 1.5 }, box);
    heatGeom = { L, cw };
    moveHeat();
  }
  let heatGeom = null;
  function moveHeat() {
    if (heatMarker) heatMarker.setAttribute("x", (heatGeom.L + heatGeom.cw * state.j).toFixed(2));
  }
  function histChart(target, h, colour, label) {
    const W = 300, Hh = 64, L = 6, R = 6, T = 4, B = 14;
    const box = el("svg", { width: W, height: Hh + 2, class: "hist" }, target);
    if (!h) { el("text", { x: L, y: 20, "font-size": 10, fill: "#777" }, box, label + ": none"); return box; }
    const lo = num(h[0]), hi = num(h[1]), counts = h.slice(2);
    const total = counts.reduce((a, b) => a + b, 0) || 1, top = Math.max(...counts, 1);
    const bw = (W - L - R) / counts.length;
    counts.forEach((c, q) => {
      const hgt = (c / top) * (Hh - T - B);
      const r = el("rect", { x: L + q * bw + 0.5, y: Hh - B - hgt, width: Math.max(bw - 1, 0.5), height: hgt, fill: colour }, box);
      el("title", {}, r, fmt(lo + ((hi - lo) * q) / counts.length, 3) + " … " +
        fmt(lo + ((hi - lo) * (q + 1)) / counts.length, 3) + ": " + (100 * c / total).toFixed(1) + "%");
    });
    el("line", { x1: L, x2: W - R, y1: Hh - B, y2: Hh - B, stroke: "#999" }, box);
    el("text", { x: L, y: Hh, "font-size": 9, fill: "#555" }, box, fmt(lo, 3));
    el("text", { x: W - R, y: Hh, "font-size": 9, fill: "#555", "text-anchor": "end" }, box, fmt(hi, 3));
    el("text", { x: W / 2, y: Hh, "font-size": 9, fill: "#333", "text-anchor": "middle" }, box, label);
    return box;
  }

  // -- the legend -------------------------------------------------------------------------------
  function drawLegend() {
    // every colour the page paints is here (tglExplorer.legendColours() lists them)
    const holder = $("legend");
    holder.textContent = "";
    const W = 300, box = el("svg", { width: W, height: 44, class: "ramp" }, holder);
    const n = 60, L = 4, w = (W - 2 * L) / n;
    for (let q = 0; q < n; q++) {
      const x = state.mode === "rel" ? -6 + (9 * q) / (n - 1) : -6 + (8 * q) / (n - 1);
      el("rect", { x: L + q * w, y: 4, width: w + 0.5, height: 12, fill: rampAt(x) }, box);
    }
    const ticks = state.mode === "rel"
      ? [[-6, "1e-6"], [-3, "1e-3"], [-1, "0.1"], [0, "1"], [2, "100"], [3, ">1e3"]].map(([x, t]) => [(x + 6) / 9, t])
      : [0, 0.25, 0.5, 0.75, 1].map((t) => [t, fmt(Math.pow(10, ABS[0] + t * (ABS[1] - ABS[0])), 1)]);
    for (const [t, txt] of ticks) {
      el("text", { x: L + t * (W - 2 * L), y: 27, "font-size": 10, fill: "#333",
        "text-anchor": t <= 0 ? "start" : t >= 1 ? "end" : "middle" }, box, txt);
    }
    el("text", { x: L, y: 41, "font-size": 10, fill: "#333" }, box, state.mode === "rel"
      ? "fill: gradient RMS / RMS nearest the output, this step"
      : "fill: gradient RMS per element, one scale for all steps");
    const list = h("div", { class: "legend-list" });
    holder.append(list);
    function item(text, draw) {
      const sw = el("svg", { width: 34, height: 14, class: "swatch" });
      draw(sw);
      list.append(h("div", { class: "legend-item" }, sw, h("span", null, text)));
    }
    const nodeBox = (fill, stroke, width, extra) => (sw) => el("rect", Object.assign({ x: 2, y: 1.5,
      width: 30, height: 11, rx: 3, fill, stroke, "stroke-width": width }, extra || {}), sw);
    const line = (colour, width, dash) => (sw) => el("line", Object.assign({ x1: 1, x2: 33, y1: 7,
      y2: 7, stroke: colour, "stroke-width": width }, dash ? { "stroke-dasharray": dash } : {}), sw);
    const cells = (a, b) => (sw) => { for (let q = 0; q < 10; q++) {
      el("rect", { x: 2 + q * 3, y: 3, width: 2.4, height: 8, fill: b ? mix(a, b, q / 9) : a }, sw); } };
    list.append(h("div", { class: "legend-head" }, "nodes"));
    item("the output (the loss), or no gradient to colour by", nodeBox("#ffffff", BORDER, 1));
    item("parameter that has no gradient yet", nodeBox(PARAM, BORDER, 1));
    item("data: takes no gradient (requires_grad=False)", nodeBox(DATA, DATA_BORDER, 1));
    const mark = pct(D.mark);
    item("ReLU with " + mark + " or more dead units (no example passes a gradient back)",
      nodeBox("#ffffff", DEAD, 3));
    item("sigmoid, tanh or ELU with " + mark + " or more of its outputs saturated (|f'| < " +
      D.saturation + ")", nodeBox("#ffffff", SATURATED, 3));
    item("nan or inf in the gradient", nodeBox(EXPLODING, EXPLODING, 3));
    item("not computed at this step", nodeBox(BORDER, BORDER, 1, { opacity: 0.35 }));
    item("selected (its numbers are below)", nodeBox("#ffffff", SELECTED, 3));
    list.append(h("div", { class: "legend-head" }, "edges (the gradient sent down them)"));
    item("coloured and thicker as the gradient grows (the scale above)", line(rampAt(0), 2.5));
    item("below the bottom of the scale", line(TINY, 1));
    item("zero sent down although a gradient arrived: the unit stops it", line(DEAD, 1.5, "5,3"));
    item("a gradient flows; its size is not measured on this edge (not elementwise), or " +
      "there is nothing to compare it with", line(UNMEASURED, 1));
    item("no gradient crosses it", line(NO_GRAD, 1));
    item("nan or inf", line(EXPLODING, 3));
    if (D.strip.some((s) => s !== null)) {
      list.append(h("div", { class: "legend-head" }, "unit strip (the last line of a node: one cell per group of units)"));
      if (D.S.dead.some((c) => c !== null)) item("share of the group's units that are dead: none … all", cells(HEALTHY, DEAD));
      if (D.S.sata.some((c) => c !== null)) item("share of the group's outputs that are saturated: none … all", cells(HEALTHY, SATURATED));
      item("not recorded at this step", cells(NOT_RECORDED));
    }
    list.append(h("div", { class: "legend-head" }, "charts"));
    item("the current step (loss chart, heat map and the panel's charts)", line(CURRENT, 2));
  }

  // -- the panel --------------------------------------------------------------------------------
  function select(sel) {
    for (const e of document.querySelectorAll(".tgl-selected")) e.classList.remove("tgl-selected");
    state.sel = sel;
    if (sel) {
      const target = sel.t === "node" ? nodeEls[sel.i] : sel.t === "edge" ? edgeEls[sel.k]
        : clusterEls[sel.k] && clusterEls[sel.k].overlay;
      if (target) target.g.classList.add("tgl-selected");
    }
    renderPanel();
  }
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const a in attrs || {}) e.setAttribute(a, attrs[a]);
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  function row(label, value, stat, raw, cls) {
    const v = h("td", { class: "v" + (cls ? " " + cls : "") }, value);
    if (stat) { v.dataset.stat = stat; if (raw !== null && raw !== undefined) v.dataset.value = String(raw); }
    return h("tr", null, h("td", null, label), v);
  }
  const head = (text) => h("tr", null, h("td", { class: "h", colspan: "2" }, text));
  function nodeRows(tb, i, j) {
    const n = D.nodes[i], hv = D.H.v[i] && D.H.v[i][j], hg = D.H.g[i] && D.H.g[i][j];
    tb.append(head("value"));
    if (sizeOf(n) === 1) tb.append(row("value", fmt(at(S("mean", i), j), 6), "mean", at(S("mean", i), j)));
    else {
      tb.append(row("mean", fmt(at(S("mean", i), j)), "mean", at(S("mean", i), j)));
      tb.append(row("std", fmt(at(S("std", i), j)), "std", at(S("std", i), j)));
      if (hv) tb.append(row("min … max", fmt(hv[0]) + " … " + fmt(hv[1]), "range"));
    }
    tb.append(head("gradient"));
    const gn = at(S("gn", i), j);
    if (gn === null) tb.append(row("grad", n.kind === "input" ? "none (no grad)" : "None (not reached)", "gn"));
    else if (sizeOf(n) === 1) tb.append(row("grad", fmt(at(S("gm", i), j), 6), "gm", at(S("gm", i), j)));
    else {
      tb.append(row("norm |grad|", fmt(gn), "gn", gn));
      tb.append(row("RMS", fmt(rms(i, j)), "rms", rms(i, j)));
      tb.append(row("mean", fmt(at(S("gm", i), j)), "gm", at(S("gm", i), j)));
      tb.append(row("std", fmt(at(S("gs", i), j)), "gs", at(S("gs", i), j)));
      if (hg) tb.append(row("min … max", fmt(hg[0]) + " … " + fmt(hg[1]), "grange"));
    }
    const ref = at(D.ref[n.g], j), r = rms(i, j);
    if (ref && r !== null && i !== D.root) tb.append(row("RMS / nearest the output", fmt(r / ref, 3), "rel", r / ref));
    if (n.u !== null) {
      tb.append(head(n.u + " units, each judged over every example of the batch"));
      const dead = at(S("dead", i), j), sat = at(S("sat", i), j), sata = at(S("sata", i), j);
      if (dead !== null) {
        const k = Math.round(dead * n.u);
        tb.append(row("dead units", k + " / " + n.u + " (" + pct(dead) + ")", "dead", dead,
          dead > 0 && dead >= D.mark ? "bad" : ""));
      }
      if (sata !== null) {
        tb.append(row("outputs saturated (|f'| < " + D.saturation + ")", pct(sata), "sata", sata,
          sata >= D.mark && sata > 0 ? "warn" : ""));
        const k = Math.round(sat * n.u);
        tb.append(row("units saturated on every example", k + " / " + n.u + " (" + pct(sat) + ")", "sat", sat));
      }
    }
    return [hv, hg];
  }
  function renderPanel() {
    const panel = $("panel");
    panel.textContent = "";
    const sel = state.sel, j = state.j;
    if (!sel) {
      panel.append(h("p", { class: "hint" }, "Click a node, an edge or a module to see its numbers. " +
        "Drag to pan, wheel to zoom; click a module's title to collapse it."));
      return;
    }
    const step = "at step " + D.steps[j];
    if (sel.t === "node" || sel.t === "cluster") {
      const c = sel.t === "cluster" ? D.clusters[sel.k] : null;
      const i = c ? c.out : sel.i, n = D.nodes[i];
      let title, sub;
      if (c) {
        title = "module " + c.m + (c.cls ? " (" + c.cls + ")" : "");
        sub = c.nodes.length + " nodes drawn; the numbers are those of its output, " + n.name;
      } else if (n.kind === "module") {
        title = n.name + " (" + n.cls + ")";
        sub = n.members + " nodes, drawn as one; the numbers are those of its output, " + n.out;
      } else {
        title = n.name;
        const parts = [n.kind === "op" ? "op " + n.op : n.kind === "param" ? "parameter" : "input",
          "shape " + shapeText(n.shape)];
        if (n.m) parts.push("module " + n.m);
        if (n.dt && n.dt !== "float64") parts.push(n.dt);
        parts.push("rec.series key " + JSON.stringify(n.k));
        sub = parts.join(" · ");
      }
      panel.append(h("h2", { "data-key": c ? c.m : n.k }, title), h("div", { class: "sub" }, sub),
        h("div", { class: "sub" }, step));
      const tb = h("tbody");
      const [hv, hg] = nodeRows(tb, i, j);
      const params = c ? c.nodes.filter((q) => D.nodes[q].kind === "param") : n.p || [];
      if (params.length) {
        tb.append(head("parameters: |grad|"));
        for (const q of params) tb.append(row(D.nodes[q].name + " " + shapeText(D.nodes[q].shape),
          fmt(at(S("gn", q), j), 3), "p-gn", at(S("gn", q), j)));
      }
      panel.append(h("table", { id: "stats" }, tb));
      histChart(panel, hv, "#9ecae1", "values");
      histChart(panel, hg, "#3182bd", "gradients");
      if (nSteps < 2) return;
      panel.append(h("div", { class: "chart-title" }, "gradient RMS over the steps"));
      lineChart(panel, D.steps.map((_, q) => rms(i, q)), { log: true, onPick: (q) => { stop(); show(q); } });
      const unit = c ? unitNode(c) : n.u !== null ? i : null;
      if (unit !== null) {
        const dead = D.S.dead[unit] !== null && D.S.dead[unit] !== undefined;
        panel.append(h("div", { class: "chart-title" }, (dead ? "dead units" : "outputs saturated") +
          " over the steps" + (unit !== i ? " (" + D.nodes[unit].name + ")" : "")));
        lineChart(panel, dead ? D.S.dead[unit] : D.S.sata[unit], { lo: 0, hi: 1, pct: true,
          colour: dead ? DEAD : SATURATED, onPick: (q) => { stop(); show(q); } });
      }
      return;
    }
    const k = sel.k, e = D.edges[k], src = D.nodes[e.s], dst = D.nodes[e.d];
    panel.append(h("h2", { "data-key": e.k.join(" → ") }, src.name + " → " + dst.name),
      h("div", { class: "sub" }, "input " + e.i + " of " + (dst.op || dst.name) +
        (e.c > 1 ? " (" + e.c + " edges drawn as one)" : "")), h("div", { class: "sub" }, step));
    const tb = h("tbody");
    const up = at(D.ES.up[k], j), lo = at(D.ES.lo[k], j), dn = at(D.ES.dn[k], j);
    tb.append(row("upstream |grad| (reaching " + dst.name + ")", fmt(up), "up", up));
    tb.append(row("local |d out / d in|", lo !== null ? fmt(lo) : e.r || "–", "lo", lo));
    tb.append(row("downstream |grad| (sent to " + src.name + ")", fmt(dn), "dn", dn));
    if (dn !== null) tb.append(row("downstream RMS", fmt(dn / Math.sqrt(Math.max(sizeOf(src), 1))), "drms"));
    panel.append(h("table", { id: "stats" }, tb));
    panel.append(h("p", { class: "hint" }, "downstream = upstream × local: elementwise for " +
      "elementwise ops, " + (e.r ? "here " + e.r : "a product") + " otherwise; norms do not multiply."));
    if (nSteps < 2) return;
    panel.append(h("div", { class: "chart-title" }, "downstream |grad| over the steps"));
    lineChart(panel, D.ES.dn[k] || D.steps.map(() => null), { log: true, onPick: (q) => { stop(); show(q); } });
  }

  // -- start ----------------------------------------------------------------------------------
  // the first view last, once the bar (its counter) and the note have taken their room
  drawLegend();
  drawHeat();
  show(0);
  const notes = D.note ? [D.note] : [];
  if (start()) notes.push("The graph is larger than the window: drag to move along it, wheel to zoom, " +
    "fit (or 0) to see all of it.");
  if (notes.length) { $("note").textContent = notes.join(" "); $("note").hidden = false; start(); }
  fitStatic();
  // a frame may run this before it has its final size: the first view again once it has,
  // unless the reader has moved the view already
  let moved = false;
  pane.addEventListener("wheel", () => { moved = true; });
  pane.addEventListener("pointerdown", () => { moved = true; });
  for (const id of ["zoom-in", "zoom-out", "fit"]) $(id).addEventListener("click", () => { moved = true; });
  const again = () => { if (!moved) start(); };
  window.addEventListener("resize", again);
  window.addEventListener("load", again);
  requestAnimationFrame(again);
  window.tglExplorer = { data: D, state, show, select, collapse, expand, fit, domain: ABS,
    fill: (i) => (nodeEls[i] && nodeEls[i].shape ? nodeEls[i].shape.getAttribute("fill") : null),
    edgeColour: (k) => (edgeEls[k] && edgeEls[k].path ? edgeEls[k].path.getAttribute("stroke") : null),
    index: (key) => D.nodes.findIndex((n, q) => q < D.ndraw && n.k === key),
    legendColours: () => [...new Set([...$("legend").querySelectorAll("rect, line")]
      .flatMap((e) => [e.getAttribute("fill"), e.getAttribute("stroke")]).filter((c) => c && c !== "none"))] };
})();
