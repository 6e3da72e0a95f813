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
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    e(
      GraphiQL,
      {
        fetcher: GraphiQL.createFetcher({ url: endpoint }),
        defaultTabs: tabs,
        defaultHeaders: config.headers,
        // GraphiQL 3 fills the first tab's editors from these, not from defaultTabs[0].
        variables: tabs.length > 0 ? tabs[0].variables : undefined,
        headers: config.headers,
        // Keys and tokens typed into the headers editor stay in this tab's memory, never in localStorage.
        shouldPersistHeaders: false,
        isHeadersEditorEnabled: true,
        defaultEditorToolsVisibility: config.authRequired ? "headers" : "variables",
      },
      e(GraphiQL.Logo, null, "usergraph"),
    ),
  );
})();
