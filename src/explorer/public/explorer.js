// Starts GraphiQL on the explorer page (served by usergraph; no inline script, so the page's CSP can say
// script-src 'self'). React, ReactDOM and GraphiQL are the UMD builds loaded just before this file.
"use strict";
(function () {
  var config = JSON.parse(document.getElementById("explorer-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var tabs = config.tabs.map(function (tab) {
    return { query: tab.query, variables: tab.variables, headers: config.headers };
  });
  var e = React.createElement;

  // ---- Storage: GraphiQL may keep its editors' text, tabs, history and layout; never a header. ----
  // GraphiQL writes every history entry and favourite (graphiql:queries, graphiql:favorites) with the headers
  // it ran with, whatever shouldPersistHeaders says, so keys and tokens landed in localStorage. This storage
  // (GraphiQL's `storage` prop) persists only the keys named here, every "headers" field in them null; every
  // other key (graphiql:headers, graphiql:shouldPersistHeaders, whatever a later GraphiQL adds) lives in this
  // page's memory only.
  var PERSISTED = {
    "graphiql:query": "text",
    "graphiql:variables": "text",
    "graphiql:operationName": "text",
    "graphiql:visiblePlugin": "text",
    "graphiql:theme": "text",
    "graphiql:docExplorerFlex": "text",
    "graphiql:editorFlex": "text",
    "graphiql:secondaryEditorFlex": "text",
    "graphiql:tabState": "json",
    "graphiql:queries": "json",
    "graphiql:favorites": "json",
  };
  var NAMESPACE = "graphiql:";
  var disk = (function () {
    try {
      return window.localStorage;
    } catch (err) {
      return null; // storage disabled: everything stays in memory
    }
  })();
  var memory = new Map();

  function persisted(key) {
    return disk !== null && Object.prototype.hasOwnProperty.call(PERSISTED, key);
  }

  /** The value as it may be written to disk, or null when it may not be written at all. */
  function persistable(key, value) {
    if (!persisted(key) || typeof value !== "string") return null;
    if (PERSISTED[key] === "text") return value;
    try {
      // null, as GraphiQL itself writes a tab's headers when it does not keep them: a tab without the field
      // fails GraphiQL's check of the stored tabs, and it would then drop them all.
      return JSON.stringify(JSON.parse(value), function (name, v) {
        return name === "headers" ? null : v;
      });
    } catch (err) {
      return null;
    }
  }

  function graphiqlKeysOnDisk() {
    var keys = [];
    for (var i = 0; disk !== null && i < disk.length; i++) {
      var key = disk.key(i);
      if (key !== null && key.indexOf(NAMESPACE) === 0) keys.push(key);
    }
    return keys;
  }

  // An earlier explorer stored headers (history entries with keys in them): clean what is there now.
  try {
    graphiqlKeysOnDisk().forEach(function (key) {
      var value = disk.getItem(key);
      var kept = persistable(key, value);
      if (kept === null) disk.removeItem(key);
      else if (kept !== value) disk.setItem(key, kept);
    });
  } catch (err) {
    // A storage that fails to read or write holds nothing of ours worth keeping.
  }

  var storage = {
    getItem: function (key) {
      if (memory.has(key)) return memory.get(key);
      return persisted(key) ? disk.getItem(key) : null;
    },
    setItem: function (key, value) {
      var kept = persistable(key, value);
      if (kept === null) return void memory.set(key, value);
      memory.delete(key);
      disk.setItem(key, kept); // a quota error goes to GraphiQL, which handles it
    },
    removeItem: function (key) {
      memory.delete(key);
      if (disk !== null) disk.removeItem(key);
    },
    clear: function () {
      memory.clear();
      graphiqlKeysOnDisk().forEach(function (key) {
        disk.removeItem(key);
      });
    },
    get length() {
      return memory.size + graphiqlKeysOnDisk().length;
    },
  };

  // ---- Credentials: no placeholder is sent, and the schema loads once there is a key. ----
  var CREDENTIAL_HEADER = /^(x-api-key|authorization)$/i;

  /** The key or token in a headers editor's text ("" for none), or undefined while the text is not JSON. */
  function credentialIn(text) {
    var headers;
    try {
      headers = JSON.parse(text && text.trim() !== "" ? text : "{}");
    } catch (err) {
      return undefined;
    }
    if (headers === null || typeof headers !== "object") return undefined;
    return Object.keys(headers)
      .filter(function (name) {
        return CREDENTIAL_HEADER.test(name) && typeof headers[name] === "string" && headers[name].trim() !== "";
      })
      .map(function (name) {
        return name.toLowerCase() + ": " + headers[name];
      })
      .join("\n");
  }

  // The headers editor opens with `"x-api-key": ""` to show where a key goes: a header left blank is not
  // sent (an empty x-api-key would only count as a failed authentication).
  var send = GraphiQL.createFetcher({ url: endpoint });
  function fetcher(params, options) {
    var headers = {};
    var given = (options && options.headers) || {};
    Object.keys(given).forEach(function (name) {
      if (!(typeof given[name] === "string" && given[name].trim() === "")) headers[name] = given[name];
    });
    return send(params, Object.assign({}, options, { headers: headers }));
  }

  // GraphiQL's Docs pane can only say "Error fetching schema" or "No GraphQL schema available". Before a key
  // is entered it says where the key goes instead (the same plugin object, so GraphiQL's Docs button and
  // its "is this plugin open" check still find it).
  var KeyMissing = React.createContext(false);
  var docs = GraphiQL.React.DOC_EXPLORER_PLUGIN;
  var DocExplorer = docs.content;
  docs.content = function Docs() {
    if (!React.useContext(KeyMissing)) return e(DocExplorer);
    return e(
      "section",
      { className: "graphiql-doc-explorer", "aria-label": "Documentation Explorer" },
      e("div", { className: "graphiql-doc-explorer-header" }, e("div", { className: "graphiql-doc-explorer-title" }, "Docs")),
      e(
        "div",
        { className: "graphiql-doc-explorer-content explorer-key-hint" },
        e("p", null, "The schema needs a key: put your API key between the quotes of \"x-api-key\" in the Headers tab below the query (or a bearer token as \"Authorization\": \"Bearer …\")."),
        e("p", null, "The Docs and the completion load by themselves once it is there."),
      ),
    );
  };

  function Explorer() {
    // The last key entered in any tab (never cleared: the schema is the same for every caller). Changing it
    // gives GraphiQL a new fetcher, and GraphiQL introspects again with it: no manual re-fetch.
    var initial = credentialIn(config.headers) || "";
    var state = React.useState(initial);
    var credential = state[0];
    var setCredential = state[1];
    var timer = React.useRef(undefined);
    var onHeaders = React.useCallback(function (text) {
      clearTimeout(timer.current);
      // Once typing pauses: a key typed by hand is not tried (and refused) one character at a time.
      timer.current = setTimeout(function () {
        var found = credentialIn(text);
        if (found) setCredential(found);
      }, 600);
    }, []);
    var onTabChange = React.useCallback(
      function (tabState) {
        var tab = tabState.tabs[tabState.activeTabIndex];
        if (tab) onHeaders(tab.headers);
      },
      [onHeaders],
    );
    // A new function for each key, on purpose (GraphiQL introspects again when its fetcher changes).
    var keyedFetcher = React.useMemo(
      function () {
        return function (params, options) {
          return fetcher(params, options);
        };
      },
      [credential],
    );
    var missing = config.authRequired && credential === "";
    return e(
      KeyMissing.Provider,
      { value: missing },
      e(
        GraphiQL,
        {
          fetcher: keyedFetcher,
          // null: no introspection (it could only be refused) until there is a key.
          schema: missing ? null : undefined,
          storage: storage,
          defaultTabs: tabs,
          defaultHeaders: config.headers,
          // GraphiQL 3 fills the first tab's editors from these, not from defaultTabs[0].
          variables: tabs.length > 0 ? tabs[0].variables : undefined,
          headers: config.headers,
          // Keys and tokens typed into the headers editor stay in this page's memory; also hides the toggle.
          shouldPersistHeaders: false,
          isHeadersEditorEnabled: true,
          defaultEditorToolsVisibility: config.authRequired ? "headers" : "variables",
          onEditHeaders: onHeaders,
          onTabChange: onTabChange,
        },
        e(GraphiQL.Logo, null, "usergraph"),
      ),
    );
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(e(Explorer));
})();
