package app

import "github.com/ultramarket/gateway/adapters/httpapi"

// wireDocs mounts the API documentation on the public server: the OpenAPI
// document (GET /api/openapi.json) and the page that renders it (GET /docs),
// both embedded in the binary.
func (a *App) wireDocs() {
	httpapi.RegisterDocs(a.public)
}
