package architecture

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoMiddleware is the package of echo's reverse-proxy middleware.
const echoMiddleware = "github.com/labstack/echo/v4/middleware"

// echoProxyNames are the parts of echo's reverse-proxy middleware. GO-2026-6875
// (no fix in echo v4): it forwards a client's own X-Real-IP upstream, so an
// upstream that believes it could be lied to about the client's address.
// deploy/vulncheck/waivers.txt waives the advisory because nothing here uses
// it; this test keeps that true.
var echoProxyNames = map[string]bool{
	"Proxy": true, "ProxyWithConfig": true, "ProxyConfig": true, "DefaultProxyConfig": true,
	"ProxyTarget": true, "ProxyBalancer": true, "NewRandomBalancer": true, "NewRoundRobinBalancer": true,
}

// echoProxyUses lists where file refers to echo's proxy middleware (or
// dot-imports its package, which would hide such a use).
func echoProxyUses(fset *token.FileSet, file *ast.File) []string {
	var uses []string
	names := map[string]bool{}
	for _, imp := range file.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil || path != echoMiddleware {
			continue
		}
		switch {
		case imp.Name == nil:
			names["middleware"] = true
		case imp.Name.Name == ".":
			uses = append(uses, fset.Position(imp.Pos()).String()+": dot import of "+echoMiddleware)
		case imp.Name.Name != "_":
			names[imp.Name.Name] = true
		}
	}
	if len(names) == 0 {
		return uses
	}
	ast.Inspect(file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && names[x.Name] && echoProxyNames[sel.Sel.Name] {
			uses = append(uses, fset.Position(sel.Pos()).String()+": "+x.Name+"."+sel.Sel.Name)
		}
		return true
	})
	return uses
}

// TestNoEchoProxyMiddleware fails when any Go file of the module, tests
// included, uses echo's reverse-proxy middleware (see echoProxyNames).
func TestNoEchoProxyMiddleware(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the module root is two levels up")

	fset := token.NewFileSet()
	files := 0
	var uses []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "bin" || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		uses = append(uses, echoProxyUses(fset, f)...)
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 100, "the walk saw the module's files")
	assert.Empty(t, uses, "echo's proxy middleware forwards a client's X-Real-IP (GO-2026-6875); build the upstream call with an http.Client as adapters/catalogclient does")
}

// The check finds a use however the package is named, and only a use.
func TestEchoProxyUsesFindsThem(t *testing.T) {
	cases := map[string]int{
		`package p; import "github.com/labstack/echo/v4/middleware"; var _ = middleware.Proxy(nil)`:                   1,
		`package p; import mw "github.com/labstack/echo/v4/middleware"; var _ = mw.ProxyWithConfig(mw.ProxyConfig{})`: 2,
		`package p; import . "github.com/labstack/echo/v4/middleware"`:                                                1,
		`package p; import "github.com/labstack/echo/v4/middleware"; var _ = middleware.CORS()`:                       0,
		`package p; import middleware "example.com/other"; var _ = middleware.Proxy(nil)`:                             0,
	}
	for src, want := range cases {
		t.Run(src, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", src, 0)
			require.NoError(t, err, src)
			assert.Len(t, echoProxyUses(fset, f), want, src)
		})
	}
}
