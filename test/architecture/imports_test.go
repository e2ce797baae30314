// Package architecture holds the test that keeps the hexagon's imports one-way.
package architecture

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/ultramarket/gateway"

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T, pattern string) []pkg {
	t.Helper()
	out, err := exec.CommandContext(context.Background(), "go", "list", "-json", pattern).Output()
	require.NoError(t, err, "go list %s", pattern)
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		require.NoError(t, dec.Decode(&p))
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs, "no packages matched %s", pattern)
	return pkgs
}

// Non-test imports only: tests of domain may use testify.
func TestImportDirection(t *testing.T) {
	for _, p := range listPackages(t, module+"/domain/...") {
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") && !strings.HasPrefix(imp, module+"/domain") {
				t.Errorf("%s imports %s: domain must import nothing of the project outside domain/", p.ImportPath, imp)
			}
			if strings.Contains(imp, ".") && !strings.HasPrefix(imp, module+"/") {
				t.Errorf("%s imports %s: domain uses the standard library only", p.ImportPath, imp)
			}
		}
	}
	for _, p := range listPackages(t, module+"/application/...") {
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/adapters") || strings.HasPrefix(imp, module+"/cmd") {
				t.Errorf("%s imports %s: application reaches the world only through ports", p.ImportPath, imp)
			}
		}
	}
	for _, p := range listPackages(t, module+"/ports/...") {
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") && !strings.HasPrefix(imp, module+"/domain") && !strings.HasPrefix(imp, module+"/ports") {
				t.Errorf("%s imports %s: ports speak domain types only", p.ImportPath, imp)
			}
		}
	}
}

// TestTestSupportOnlyInTests keeps test/testsupport (fakes and helpers the
// unit tests share) out of the binary: only _test files, and the test-only
// packages under test/, may import it.
func TestTestSupportOnlyInTests(t *testing.T) {
	const support = module + "/test/testsupport"
	for _, p := range listPackages(t, module+"/...") {
		if strings.HasPrefix(p.ImportPath, module+"/test/") {
			continue
		}
		for _, imp := range p.Imports {
			if imp == support || strings.HasPrefix(imp, support+"/") {
				t.Errorf("%s imports %s: it is for tests only", p.ImportPath, imp)
			}
		}
	}
}
