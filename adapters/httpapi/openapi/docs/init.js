// Starts Swagger UI (swagger-ui-dist, served from /docs/) on the gateway's
// own OpenAPI document. A file of its own rather than an inline script: the
// Content-Security-Policy of /docs allows scripts from 'self' only.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  // Relative to the page, so the docs still work behind a path prefix.
  var specURL = new URL(root.getAttribute("data-spec-url"), window.location.href).toString();
  window.ui = SwaggerUIBundle({
    url: specURL,
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    filter: true,
    // Never ask validator.swagger.io for a badge: nothing leaves the page.
    validatorUrl: null
  });
})();
