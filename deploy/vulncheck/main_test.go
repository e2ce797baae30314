package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A govulncheck -format json stream: one advisory called, one only imported.
const stream = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck"}}
{"osv":{"id":"GO-2026-0001","summary":"Called thing"}}
{"osv":{"id":"GO-2026-0002","summary":"Imported thing"}}
{"finding":{"osv":"GO-2026-0001","trace":[{"module":"example.com/m","version":"v1.0.0"}]}}
{"finding":{"osv":"GO-2026-0001","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p"}]}}
{"finding":{"osv":"GO-2026-0001","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p","function":"Do","receiver":"*T"},{"module":"github.com/ultramarket/gateway","package":"github.com/ultramarket/gateway/adapters/x","function":"F","position":{"filename":"adapters/x/x.go","line":12}}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.2.0","trace":[{"module":"example.com/n","version":"v1.1.0","package":"example.com/n/q"}]}}
`

func check(t *testing.T, waivers string) (string, int) {
	t.Helper()
	path := t.TempDir() + "/waivers.txt"
	require.NoError(t, os.WriteFile(path, []byte(waivers), 0o600))
	var out bytes.Buffer
	code := run(strings.NewReader(stream), path, &out)
	return out.String(), code
}

func TestUnwaivedFindingsFail(t *testing.T) {
	out, code := check(t, "# none\n")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "VULNERABLE GO-2026-0001 (example.com/m@v1.0.0, no fix; called example.com/m/p.T.Do from adapters/x/x.go:12): Called thing")
	assert.Contains(t, out, "VULNERABLE GO-2026-0002 (example.com/n@v1.1.0, fixed in v1.2.0; imported example.com/n/q): Imported thing",
		"an advisory in an imported package fails too, not only a called one")

	out, code = check(t, "GO-2026-0001 not reachable here, see TestX\n")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "waived GO-2026-0001")
	assert.Contains(t, out, "VULNERABLE GO-2026-0002")
}

func TestAllWaivedPasses(t *testing.T) {
	out, code := check(t, "GO-2026-0001 reason one\n\n# comment\nGO-2026-0002 reason two\n")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "waived GO-2026-0001 (example.com/m@v1.0.0, no fix; called example.com/m/p.T.Do from adapters/x/x.go:12): reason one")
	assert.Contains(t, out, "vulncheck: ok (2 advisories")
}

func TestStaleWaiverFails(t *testing.T) {
	out, code := check(t, "GO-2026-0001 a\nGO-2026-0002 b\nGO-2025-9999 fixed long ago\n")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "STALE waiver GO-2025-9999")
}

func TestBadWaiverListsAreRefused(t *testing.T) {
	for name, list := range map[string]string{
		"no reason":  "GO-2026-0001\n",
		"blank only": "GO-2026-0001    \n",
		"not an id":  "CVE-2026-1 some reason\n",
		"twice":      "GO-2026-0001 a\nGO-2026-0001 b\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseWaivers(strings.NewReader(list))
			assert.Error(t, err, name)
		})
	}
}

func TestNoScanIsAFailure(t *testing.T) {
	path := t.TempDir() + "/waivers.txt"
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	var out bytes.Buffer
	assert.Equal(t, 2, run(strings.NewReader(""), path, &out), "an empty stream is a scan that did not run")
	assert.Equal(t, 2, run(strings.NewReader("not json"), path, &out))
}

// The committed list waives exactly the two echo v4 advisories that have no
// v4 fix, each with its reason.
func TestCommittedWaivers(t *testing.T) {
	f, err := os.Open("waivers.txt")
	require.NoError(t, err)
	defer f.Close()
	w, err := parseWaivers(f)
	require.NoError(t, err)
	assert.Len(t, w, 2)
	assert.Contains(t, w["GO-2026-6872"], "TestClientIP_FromXFFOnlyBehindTrustedProxy")
	assert.Contains(t, w["GO-2026-6875"], "TestNoEchoProxyMiddleware")
}
