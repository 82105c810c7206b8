/* The query plan pane: draws Apollo's JSON query plan (`extensions.apolloQueryPlan.object`) as
 * nested boxes (Sequence top to bottom, Parallel side by side, one box per Fetch coloured by its
 * subgraph) and, after a run, each fetch's time and status from `extensions.fedgateTrace`.
 * Plain DOM, no framework: it must stay readable with 30 fetches and cost nothing when hidden. */
(function () {
  "use strict";

  // Distinct on white and readable as text; assigned to subgraphs in order of first appearance.
  var PALETTE = ["#1f6feb", "#c2410c", "#15803d", "#9333ea", "#b91c1c", "#0e7490", "#a16207",
                 "#be185d", "#4d7c0f", "#4338ca", "#0f766e", "#7c2d12"];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* Fetch nodes depth-first, in the order the gateway numbers them (gateway/execution/trace.py). */
  function collectFetches(node, out) {
    if (!node) return out;
    switch (node.kind) {
      case "Fetch": out.push(node); break;
      case "Flatten": collectFetches(node.node, out); break;
      case "Sequence": case "Parallel": (node.nodes || []).forEach(function (n) { collectFetches(n, out); }); break;
      case "Condition": collectFetches(node.ifClause, out); collectFetches(node.elseClause, out); break;
      case "Subscription": collectFetches(node.primary, out); collectFetches(node.rest, out); break;
      default: break;
    }
    return out;
  }

  /* Pretty-print the compact operation text of a fetch (`{a{b c}}`) one field per line. */
  function formatOperation(text) {
    var out = "", indent = 0, parens = 0, inString = false, pad = function () { return new Array(indent + 1).join("  "); };
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (inString) {
        out += ch;
        if (ch === "\\") { out += text[++i] || ""; } else if (ch === '"') { inString = false; }
        continue;
      }
      if (ch === '"') { inString = true; out += ch; continue; }
      if (ch === "(") parens++;
      if (ch === ")") parens--;
      if (parens > 0) { out += ch; continue; }
      if (ch === "{") {
        indent++;
        out = out.replace(/ +$/, "") + (out && !/\n$/.test(out) ? " " : "") + "{\n" + pad();
      } else if (ch === "}") {
        indent = Math.max(0, indent - 1);
        out = out.replace(/\s+$/, "") + "\n" + pad() + "}";
      } else if (ch === " " || ch === "\n" || ch === "\t") {
        if (indent > 0 && !/[\s{]$/.test(out)) {
          var next = text.slice(i + 1).match(/^\s*(\S)/);
          if (next && (next[1] === "{" || next[1] === "(" || next[1] === ":" || next[1] === "@")) out += " ";
          else if (/(\bon|\.\.\.)$/.test(out)) out += " ";
          else out += "\n" + pad();
        } else if (indent === 0 && !/ $/.test(out)) {
          out += " ";
        }
      } else {
        if (/\}$/.test(out) && indent > 0) out += "\n" + pad();
        out += ch;
      }
    }
    return out.replace(/\n\s*\n/g, "\n").trim();
  }

  function printSelections(sels, indent) {
    var pad = new Array(indent + 1).join("  "), lines = [];
    (sels || []).forEach(function (s) {
      if (s.kind === "InlineFragment") {
        lines.push(pad + "... on " + s.typeCondition + " {");
        lines.push(printSelections(s.selections, indent + 1));
        lines.push(pad + "}");
      } else {
        var name = (s.alias ? s.alias + ": " : "") + s.name;
        if (s.selections && s.selections.length) {
          lines.push(pad + name + " {");
          lines.push(printSelections(s.selections, indent + 1));
          lines.push(pad + "}");
        } else {
          lines.push(pad + name);
        }
      }
    });
    return lines.join("\n");
  }

  function flattenPath(path) {
    return (path || []).map(function (p) { return String(p); }).join(".");
  }

  function ms(value) {
    if (value === undefined || value === null) return "";
    return value < 10 ? value.toFixed(1) + " ms" : Math.round(value) + " ms";
  }

  var STATUS_TEXT = {
    ok: "ok", error: "errors", failed: "failed", skipped: "not run", cached: "from cache", "no-request": "nothing to fetch"
  };

  function PlanPane(root) {
    this.root = root;
    this.colors = {};
    this.nextColor = 0;
    this.plan = null;
    this.text = "";
    this.trace = null;
    this.fetches = [];
    this.paths = [];
    this.selected = null;
    this.view = "graph";
    this.stale = false;
    this.build();
  }

  PlanPane.prototype.colorOf = function (service) {
    if (!(service in this.colors)) {
      this.colors[service] = PALETTE[this.nextColor % PALETTE.length];
      this.nextColor++;
    }
    return this.colors[service];
  };

  PlanPane.prototype.build = function () {
    var root = this.root, self = this;
    root.innerHTML = "";
    var head = el("div", "fg-plan-head");
    var title = el("h2", "fg-plan-title", "Query plan");
    this.summary = el("div", "fg-plan-summary");
    var tabs = el("div", "fg-plan-tabs");
    tabs.setAttribute("role", "tablist");
    this.tabGraph = el("button", "fg-tab fg-tab-on", "Graph");
    this.tabText = el("button", "fg-tab", "Text");
    [this.tabGraph, this.tabText].forEach(function (b) { b.type = "button"; b.setAttribute("role", "tab"); tabs.appendChild(b); });
    this.tabGraph.addEventListener("click", function () { self.setView("graph"); });
    this.tabText.addEventListener("click", function () { self.setView("text"); });
    head.appendChild(title);
    head.appendChild(tabs);
    root.appendChild(head);
    root.appendChild(this.summary);
    this.legend = el("div", "fg-legend");
    root.appendChild(this.legend);
    this.notice = el("div", "fg-notice");
    this.notice.setAttribute("role", "status");
    root.appendChild(this.notice);
    this.canvas = el("div", "fg-canvas");
    root.appendChild(this.canvas);
    this.textView = el("pre", "fg-plan-text");
    this.textView.hidden = true;
    root.appendChild(this.textView);
    this.details = el("div", "fg-details");
    this.details.setAttribute("aria-live", "polite");
    root.appendChild(this.details);
    this.setNotice("Write an operation: its plan appears here as you type.", "info");
  };

  PlanPane.prototype.setView = function (view) {
    this.view = view;
    this.tabGraph.classList.toggle("fg-tab-on", view === "graph");
    this.tabText.classList.toggle("fg-tab-on", view === "text");
    this.canvas.hidden = view !== "graph";
    this.textView.hidden = view !== "text";
  };

  PlanPane.prototype.setNotice = function (text, kind) {
    this.notice.textContent = text || "";
    this.notice.className = "fg-notice" + (kind ? " fg-notice-" + kind : "");
    this.notice.hidden = !text;
  };

  /* A new plan (from the preview endpoint or a run); `trace` is the run's, or null. */
  PlanPane.prototype.setPlan = function (plan, text, trace) {
    var sameShape = this.plan && plan && JSON.stringify(this.plan) === JSON.stringify(plan);
    if (sameShape && !trace && !this.stale && this.canvas.childNodes.length) return;  // nothing new: keep the DOM (and scroll)
    this.plan = plan;
    this.text = text || "";
    this.trace = trace || (sameShape ? this.trace : null);
    this.stale = false;
    this.root.classList.remove("fg-stale");
    this.fetches = collectFetches(plan && plan.node, []);
    if (this.selected !== null && this.selected >= this.fetches.length) this.selected = null;
    this.render();
  };

  /* The current text does not plan (a syntax or validation error): keep the last plan, dimmed. */
  PlanPane.prototype.setInvalid = function (message) {
    this.stale = true;
    this.root.classList.add("fg-stale");
    this.setNotice(message, "error");
  };

  PlanPane.prototype.render = function () {
    var self = this, plan = this.plan;
    this.canvas.innerHTML = "";
    this.legend.innerHTML = "";
    this.summary.innerHTML = "";
    this.textView.textContent = this.text || "(no plan)";
    if (!plan || !plan.node) {
      this.setNotice(plan ? "This operation needs no subgraph fetch (introspection or __typename only)." :
        "Write an operation: its plan appears here as you type.", "info");
      this.renderDetails();
      return;
    }
    this.setNotice("", null);
    var services = [];
    this.fetches.forEach(function (f) { if (services.indexOf(f.serviceName) < 0) services.push(f.serviceName); });
    services.forEach(function (s) {
      var chip = el("span", "fg-chip");
      var dot = el("span", "fg-dot");
      dot.style.background = self.colorOf(s);
      chip.appendChild(dot);
      chip.appendChild(document.createTextNode(s));
      self.legend.appendChild(chip);
    });
    var parts = [this.fetches.length + (this.fetches.length === 1 ? " fetch" : " fetches"),
                 services.length + (services.length === 1 ? " subgraph" : " subgraphs")];
    if (this.trace) {
      parts.push("ran in " + ms(this.trace.totalMs));
      var bad = this.trace.fetches.filter(function (f) { return f.status === "failed" || f.status === "error"; }).length;
      if (bad) parts.push(bad + " with errors");
    } else {
      parts.push("run it to see times");
    }
    this.summary.textContent = parts.join(" · ");
    this.canvas.classList.toggle("fg-dense", this.fetches.length > 12);
    var counter = { i: 0 };
    this.paths = [];
    this.canvas.appendChild(this.renderNode(plan.node, counter, null));
    this.renderDetails();
  };

  PlanPane.prototype.renderNode = function (node, counter, flattenPathText) {
    var self = this, box, label;
    switch (node.kind) {
      case "Sequence":
        box = el("div", "fg-group fg-seq");
        box.dataset.kind = "Sequence";
        box.appendChild(el("div", "fg-group-label", "Sequence"));
        var list = el("ol", "fg-seq-list");
        node.nodes.forEach(function (child, i) {
          var item = el("li", "fg-seq-item");
          if (i > 0) item.appendChild(el("div", "fg-arrow", "then"));
          item.appendChild(self.renderNode(child, counter, null));
          list.appendChild(item);
        });
        box.appendChild(list);
        return box;
      case "Parallel":
        box = el("div", "fg-group fg-par");
        box.dataset.kind = "Parallel";
        box.appendChild(el("div", "fg-group-label", "Parallel"));
        var row = el("div", "fg-par-row");
        node.nodes.forEach(function (child) { row.appendChild(self.renderNode(child, counter, null)); });
        box.appendChild(row);
        return box;
      case "Flatten":
        return this.renderNode(node.node, counter, flattenPath(node.path));
      case "Condition":
        box = el("div", "fg-group fg-cond");
        box.dataset.kind = "Condition";
        box.appendChild(el("div", "fg-group-label", "if $" + node.condition));
        var branches = el("div", "fg-par-row");
        [["then", node.ifClause], ["else", node.elseClause]].forEach(function (pair) {
          var branch = el("div", "fg-branch");
          branch.appendChild(el("div", "fg-branch-label", pair[0]));
          if (pair[1]) branch.appendChild(self.renderNode(pair[1], counter, null));
          else branch.appendChild(el("div", "fg-empty", "nothing"));
          branches.appendChild(branch);
        });
        box.appendChild(branches);
        return box;
      case "Subscription":
        box = el("div", "fg-group fg-sub");
        box.dataset.kind = "Subscription";
        box.appendChild(el("div", "fg-group-label", "Subscription"));
        var primary = el("div", "fg-branch");
        primary.appendChild(el("div", "fg-branch-label", "stream (primary)"));
        primary.appendChild(this.renderNode(node.primary, counter, null));
        box.appendChild(primary);
        if (node.rest) {
          var rest = el("div", "fg-branch");
          rest.appendChild(el("div", "fg-arrow", "on every event"));
          rest.appendChild(this.renderNode(node.rest, counter, null));
          box.appendChild(rest);
        }
        return box;
      case "Fetch":
        return this.renderFetch(node, counter.i++, flattenPathText);
      default:
        label = el("div", "fg-empty", "unknown node " + node.kind);
        return label;
    }
  };

  PlanPane.prototype.renderFetch = function (node, index, path) {
    var self = this, color = this.colorOf(node.serviceName);
    var box = el("button", "fg-fetch");
    box.type = "button";
    box.dataset.service = node.serviceName;
    box.dataset.index = String(index);
    box.style.setProperty("--fg-color", color);
    this.paths[index] = path;
    var head = el("div", "fg-fetch-head");
    head.appendChild(el("span", "fg-fetch-service", node.serviceName));
    head.appendChild(el("span", "fg-fetch-num", "#" + (index + 1)));
    box.appendChild(head);
    var what = node.requires ? "entities at " + (path || "(root)") : (node.operationKind === "mutation" ? "mutation" : "root fields");
    if (!node.requires && path) what = "at " + path;
    box.appendChild(el("div", "fg-fetch-what", what));
    var fields = rootFieldsOf(node);
    if (fields) box.appendChild(el("div", "fg-fetch-fields", fields));
    var t = this.trace && this.trace.fetches[index];
    var label = [];
    if (t) {
      box.classList.add("fg-status-" + t.status);
      var line = el("div", "fg-fetch-trace");
      line.appendChild(el("span", "fg-badge fg-badge-" + t.status, STATUS_TEXT[t.status] || t.status));
      if (t.durationMs !== undefined) line.appendChild(el("span", "fg-ms", ms(t.durationMs)));
      if (t.representations !== undefined) {
        line.appendChild(el("span", "fg-reps", t.representations + (t.representations === 1 ? " entity" : " entities")));
      }
      box.appendChild(line);
      if (t.durationMs !== undefined && this.trace.totalMs > 0) {
        var bar = el("div", "fg-bar");
        var fill = el("span", "fg-bar-fill");
        fill.style.left = (100 * t.startMs / this.trace.totalMs).toFixed(2) + "%";
        fill.style.width = Math.max(1, 100 * t.durationMs / this.trace.totalMs).toFixed(2) + "%";
        bar.appendChild(fill);
        bar.title = "started at " + ms(t.startMs) + ", took " + ms(t.durationMs);
        box.appendChild(bar);
      }
      label.push(STATUS_TEXT[t.status] || t.status);
    }
    box.setAttribute("aria-label", "Fetch " + (index + 1) + " from " + node.serviceName + ", " + what + (label.length ? ", " + label.join(", ") : ""));
    if (this.selected === index) box.classList.add("fg-selected");
    box.setAttribute("aria-pressed", this.selected === index ? "true" : "false");
    box.addEventListener("click", function () { self.select(self.selected === index ? null : index); });
    return box;
  };

  function rootFieldsOf(node) {
    var op = node.operation || "";
    var body = op.slice(op.indexOf("{") + 1);
    if (node.requires) {
      var m = body.match(/_entities\([^)]*\)\s*\{\s*(?:__typename\s+)?\.\.\.\s*on\s+(\w+)\s*\{([\s\S]*)\}\s*\}\s*\}?\s*$/);
      if (!m) return "";
      return topLevel(m[2]);
    }
    return topLevel(body.replace(/\}\s*$/, ""));
  }

  /* The top-level field names of a compact selection set, e.g. `a b{c} d(x:1)` -> "a, b, d". */
  function topLevel(text) {
    var names = [], depth = 0, parens = 0, word = "";
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (ch === "(") parens++;
      else if (ch === ")") parens--;
      else if (ch === "{") { if (depth === 0 && word) { names.push(word); word = ""; } depth++; }
      else if (ch === "}") depth--;
      else if (depth === 0 && parens === 0) {
        if (/[\w:]/.test(ch)) word += ch;
        else if (word) { names.push(word); word = ""; }
      }
    }
    if (word) names.push(word);
    names = names.map(function (n) { return n.indexOf(":") >= 0 ? n.split(":")[0] : n; })
      .filter(function (n) { return n && n !== "__typename" && n !== "on" && n.indexOf("...") < 0; });
    var unique = names.filter(function (n, i) { return names.indexOf(n) === i; });
    if (unique.length > 4) return unique.slice(0, 4).join(", ") + " +" + (unique.length - 4);
    return unique.join(", ");
  }

  PlanPane.prototype.select = function (index) {
    this.selected = index;
    var boxes = this.canvas.querySelectorAll(".fg-fetch");
    for (var i = 0; i < boxes.length; i++) {
      var on = Number(boxes[i].dataset.index) === index;
      boxes[i].classList.toggle("fg-selected", on);
      boxes[i].setAttribute("aria-pressed", on ? "true" : "false");
    }
    this.renderDetails();
    this.reveal(index);
  };

  /* Keep the selected card visible above the details panel, which sticks to the pane's bottom. */
  PlanPane.prototype.reveal = function (index) {
    if (index === null) return;
    var box = this.canvas.querySelector('.fg-fetch[data-index="' + index + '"]');
    if (!box) return;
    var pane = this.root.getBoundingClientRect(), rect = box.getBoundingClientRect();
    var bottom = pane.bottom - (this.details.hidden ? 0 : this.details.getBoundingClientRect().height) - 8;
    if (rect.bottom > bottom) this.root.scrollTop += rect.bottom - bottom;
    else if (rect.top < pane.top + 8) this.root.scrollTop -= pane.top + 8 - rect.top;
  };

  PlanPane.prototype.renderDetails = function () {
    var d = this.details, index = this.selected;
    d.innerHTML = "";
    if (index === null || !this.fetches[index]) {
      d.hidden = !(this.fetches.length);
      if (this.fetches.length) d.appendChild(el("p", "fg-hint", "Click a fetch to see what it asks its subgraph."));
      return;
    }
    d.hidden = false;
    var node = this.fetches[index], t = this.trace && this.trace.fetches[index];
    var head = el("div", "fg-details-head");
    var dot = el("span", "fg-dot");
    dot.style.background = this.colorOf(node.serviceName);
    head.appendChild(dot);
    head.appendChild(el("strong", null, "Fetch #" + (index + 1) + " · " + node.serviceName));
    var close = el("button", "fg-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close the fetch details");
    var self = this;
    close.addEventListener("click", function () { self.select(null); });
    head.appendChild(close);
    d.appendChild(head);
    var facts = el("dl", "fg-facts");
    function fact(name, value) {
      if (value === undefined || value === null || value === "") return;
      facts.appendChild(el("dt", null, name));
      facts.appendChild(el("dd", null, value));
    }
    fact("kind", node.requires ? "entity fetch (_entities)" : node.operationKind || "query");
    fact("merged at", this.paths[index] || "the response root");
    fact("variables", (node.variableUsages || []).map(function (v) { return "$" + v; }).join(", "));
    if (t) {
      fact("status", (STATUS_TEXT[t.status] || t.status) + (t.httpStatus ? " (HTTP " + t.httpStatus + ")" : "") +
        (t.failure ? " — " + t.failure : "") + (t.errors ? " — " + t.errors + " error(s)" : ""));
      if (t.durationMs !== undefined) fact("time", ms(t.durationMs) + ", from " + ms(t.startMs) + " after the start");
      if (t.representations !== undefined) fact("representations sent", String(t.representations));
    }
    d.appendChild(facts);
    if (node.requires) {
      d.appendChild(el("h3", null, "Representations (what it is given)"));
      d.appendChild(el("pre", "fg-code fg-requires", "{\n" + printSelections(node.requires, 1) + "\n}"));
    }
    d.appendChild(el("h3", null, "Selection (what it asks " + node.serviceName + ")"));
    d.appendChild(el("pre", "fg-code fg-selection", formatOperation(node.operation || "")));
  };

  window.FedgatePlan = {
    create: function (root) { return new PlanPane(root); },
    collectFetches: function (plan) { return collectFetches(plan && plan.node, []); },
    formatOperation: formatOperation
  };
})();
