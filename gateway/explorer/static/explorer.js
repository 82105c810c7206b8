/* The explorer page: GraphiQL (completion, docs, variables, headers, history) against /graphql on
 * this origin, and the plan pane beside it. The page asks for the plan and the per-fetch trace with
 * two request headers; the gateway answers them only while its config allows (explorer.enabled). */
(function () {
  "use strict";

  var ENDPOINT = "/graphql";
  var PLAN_ENDPOINT = "/explorer/plan";
  var params = new URLSearchParams(window.location.search);
  var pane = window.FedgatePlan.create(document.getElementById("fg-plan"));
  var current = { query: null, operationName: null };
  var planTimer = null;
  var planSeq = 0;

  var DEFAULT_QUERY = [
    "# Welcome to the fedgate explorer.",
    "#",
    "# Write an operation here: Ctrl-Space completes fields, Ctrl-Enter runs it, the Docs button",
    "# browses the schema. The Query plan pane on the right draws how the gateway will fetch it:",
    "# one box per subgraph fetch, Sequence top to bottom, Parallel side by side. Click a fetch to",
    "# see what it asks its subgraph; after a run each fetch shows its time and status.",
    "",
    "query {",
    "  __typename",
    "}",
    ""
  ].join("\n");

  function schedulePlan() {
    clearTimeout(planTimer);
    planTimer = setTimeout(previewPlan, 200);
  }

  function previewPlan() {
    var query = current.query;
    if (!query || !query.trim()) { pane.setPlan(null, "", null); return; }
    var seq = ++planSeq;
    window.fetch(PLAN_ENDPOINT, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: query, operationName: current.operationName || null })
    }).then(function (res) { return res.json(); }).then(function (body) {
      if (seq !== planSeq) return;
      if (body.errors && body.errors.length) {
        pane.setInvalid("Not plannable yet: " + body.errors.map(function (e) { return e.message; }).join(" "));
        return;
      }
      var plan = body.data.queryPlan;
      pane.setPlan(plan.object, plan.text, null);
    }).catch(function (err) {
      if (seq === planSeq) pane.setInvalid("Cannot reach the gateway for the plan: " + err.message);
    });
  }

  function isSubscription(params) {
    var text = String(params.query || "").replace(/#[^\n]*/g, "");
    if (params.operationName) return new RegExp("\\bsubscription\\s+" + params.operationName + "\\b").test(text);
    return /^\s*subscription\b/.test(text);
  }

  /* A subscription over GraphQL-over-SSE (the gateway's `accept: text/event-stream` on POST):
   * GraphiQL shows each `next` event as it comes; its stop button calls `return()`, which aborts. */
  async function* subscribe(graphQLParams, headers) {
    var controller = new AbortController();
    try {
      var res = await window.fetch(ENDPOINT, {
        method: "POST",
        headers: Object.assign({}, headers, { accept: "text/event-stream" }),
        body: JSON.stringify(graphQLParams),
        signal: controller.signal,
        credentials: "same-origin"
      });
      if (!(res.headers.get("content-type") || "").includes("text/event-stream")) {
        yield await res.json();
        return;
      }
      var reader = res.body.getReader(), decoder = new TextDecoder(), buffer = "";
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
        var end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          var block = buffer.slice(0, end), event = "message", data = "";
          buffer = buffer.slice(end + 2);
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) event = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
          });
          if (event === "complete") return;
          if (event === "next" && data) yield JSON.parse(data);
        }
      }
    } finally {
      controller.abort();
    }
  }

  function fetcher(graphQLParams, opts) {
    var introspection = graphQLParams.operationName === "IntrospectionQuery";
    var headers = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
    var extra = (opts && opts.headers) || {};
    Object.keys(extra).forEach(function (k) { headers[k] = String(extra[k]); });
    if (!introspection && isSubscription(graphQLParams)) return subscribe(graphQLParams, headers);
    if (!introspection) {
      headers["apollo-expose-query-plan"] = "true";
      headers["fedgate-expose-trace"] = "true";
    }
    return window.fetch(ENDPOINT, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(graphQLParams),
      credentials: "same-origin"
    }).then(function (res) {
      return res.text().then(function (text) {
        var body;
        try { body = JSON.parse(text); } catch (e) {
          return { errors: [{ message: "The gateway answered HTTP " + res.status + " with a body that is not JSON: " + text.slice(0, 200) }] };
        }
        if (introspection || !body || typeof body !== "object") return body;
        var ext = body.extensions || {};
        var plan = ext.apolloQueryPlan, trace = ext.fedgateTrace;
        if (plan) pane.setPlan(plan.object, plan.text, trace || null);
        // The plan and trace are drawn in the pane; the result pane shows what a client would get.
        if (ext.apolloQueryPlan || ext.fedgateTrace) {
          var rest = {};
          Object.keys(ext).forEach(function (k) { if (k !== "apolloQueryPlan" && k !== "fedgateTrace") rest[k] = ext[k]; });
          if (Object.keys(rest).length) body.extensions = rest; else delete body.extensions;
        }
        return body;
      });
    });
  }

  function editorText() {
    var cm = document.querySelector(".graphiql-query-editor .CodeMirror");
    return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : null;
  }

  var props = {
    fetcher: fetcher,
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    onEditQuery: function (q) { current.query = q; schedulePlan(); },
    onEditOperationName: function (name) { current.operationName = name || null; schedulePlan(); }
  };
  // A shared link: /?query=...&variables=...&operationName=... opens with that operation.
  if (params.get("query")) props.query = params.get("query");
  if (params.get("variables")) props.variables = params.get("variables");
  if (params.get("operationName")) props.operationName = params.get("operationName");

  var container = document.getElementById("graphiql");
  container.innerHTML = "";
  var h = window.React.createElement;
  window.ReactDOM.createRoot(container).render(
    h(window.GraphiQL, props, h(window.GraphiQL.Logo, null, "fedgate explorer")));

  // onEditQuery fires on edits only: draw the plan of whatever the editor opened with.
  (function seed(tries) {
    var text = editorText();
    if (text !== null) {
      if (current.query === null) { current.query = text; previewPlan(); }
      return;
    }
    if (tries > 0) setTimeout(function () { seed(tries - 1); }, 100);
  })(100);

  // The splitter between GraphiQL and the plan pane: drag, or arrow keys when focused.
  var app = document.getElementById("app");
  var splitter = document.getElementById("fg-splitter");
  var saved = Number(window.localStorage.getItem("fedgate:planWidth"));
  function setWidth(px) {
    var width = Math.max(260, Math.min(window.innerWidth - 420, px));
    app.style.setProperty("--fg-plan-width", width + "px");
    window.localStorage.setItem("fedgate:planWidth", String(Math.round(width)));
  }
  if (saved > 0) setWidth(saved);
  splitter.addEventListener("pointerdown", function (ev) {
    splitter.setPointerCapture(ev.pointerId);
    function move(e) { setWidth(window.innerWidth - e.clientX); }
    function up() { splitter.removeEventListener("pointermove", move); splitter.removeEventListener("pointerup", up); }
    splitter.addEventListener("pointermove", move);
    splitter.addEventListener("pointerup", up);
  });
  splitter.addEventListener("keydown", function (ev) {
    var now = document.getElementById("fg-plan").getBoundingClientRect().width;
    if (ev.key === "ArrowLeft") { setWidth(now + 40); ev.preventDefault(); }
    if (ev.key === "ArrowRight") { setWidth(now - 40); ev.preventDefault(); }
  });
})();
