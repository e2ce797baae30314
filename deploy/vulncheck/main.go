// Command vulncheck gates the build on govulncheck. govulncheck has no way
// to waive an advisory, so `make lint` runs it with -format json and pipes
// the stream here: any finding (called, imported or only required) whose OSV
// id is not in the waiver list fails, and so does a waiver that no finding
// needs any more, so the list never outlives its reasons.
//
//	govulncheck -db file://$PWD/bin/vulndb -format json ./... | go run ./deploy/vulncheck -waivers deploy/vulncheck/waivers.txt
//
// The waiver list has one advisory per line, its id then why it does not
// apply here; blank lines and lines starting with # are comments.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	waivers := flag.String("waivers", "deploy/vulncheck/waivers.txt", "the waiver list")
	flag.Parse()
	os.Exit(run(os.Stdin, *waivers, os.Stdout))
}

func run(scan io.Reader, waiversPath string, out io.Writer) int {
	f, err := os.Open(waiversPath) //nolint:gosec // G304: the path is the operator's own -waivers flag
	if err != nil {
		fmt.Fprintf(out, "vulncheck: %v\n", err)
		return 2
	}
	defer f.Close()
	waivers, err := parseWaivers(f)
	if err != nil {
		fmt.Fprintf(out, "vulncheck: %s: %v\n", waiversPath, err)
		return 2
	}
	res, err := readScan(scan)
	if err != nil {
		fmt.Fprintf(out, "vulncheck: reading govulncheck's output: %v\n", err)
		return 2
	}
	lines, ok := verdict(res, waivers)
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	if !ok {
		return 1
	}
	return 0
}

var idPattern = regexp.MustCompile(`^GO-\d{4}-\d+$`)

// parseWaivers reads "GO-2026-1234 why it does not apply" lines. A waiver
// without a reason, twice the same id, or an id that is not Go's is an error.
func parseWaivers(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	s := bufio.NewScanner(r)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		switch {
		case !idPattern.MatchString(id):
			return nil, fmt.Errorf("line %d: %q is not a Go vulnerability id (GO-YYYY-NNNN)", n, id)
		case reason == "":
			return nil, fmt.Errorf("line %d: %s has no reason", n, id)
		case out[id] != "":
			return nil, fmt.Errorf("line %d: %s is waived twice", n, id)
		}
		out[id] = reason
	}
	return out, s.Err()
}

// frame and finding are the parts of govulncheck's JSON protocol
// (golang.org/x/vuln/internal/govulncheck) read here.
type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

type finding struct {
	OSV          string   `json:"osv"`
	FixedVersion string   `json:"fixed_version"`
	Trace        []*frame `json:"trace"`
}

type message struct {
	Config json.RawMessage `json:"config"`
	OSV    *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *finding `json:"finding"`
}

// advisory is what the scan found of one OSV id.
type advisory struct {
	id, summary    string
	module, fixed  string
	level          string // called, imported or required: the closest the code gets
	example, where string // the vulnerable symbol shown, and the project's call site
	depth          int    // frames in the trace shown
}

type scan struct {
	advisories map[string]*advisory
}

var levels = map[string]int{"required": 0, "imported": 1, "called": 2}

func readScan(r io.Reader) (scan, error) {
	res := scan{advisories: map[string]*advisory{}}
	summaries := map[string]string{}
	sawConfig := false
	dec := json.NewDecoder(r)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return scan{}, err
		}
		if m.Config != nil {
			sawConfig = true
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		if m.Finding == nil || len(m.Finding.Trace) == 0 {
			continue
		}
		f, top := m.Finding, m.Finding.Trace[0]
		level := "required"
		switch {
		case top.Function != "":
			level = "called"
		case top.Package != "":
			level = "imported"
		}
		a := res.advisories[f.OSV]
		if a == nil {
			a = &advisory{id: f.OSV, module: top.Module + "@" + top.Version, fixed: f.FixedVersion, level: level}
			res.advisories[f.OSV] = a
		}
		// Show the closest level, and of it the shortest trace (ties by
		// name), so the report does not change from run to run.
		symbol, where := describe(f.Trace)
		better := levels[level] > levels[a.level] ||
			(level == a.level && (a.example == "" || len(f.Trace) < a.depth ||
				(len(f.Trace) == a.depth && symbol < a.example)))
		if better {
			a.level, a.example, a.where, a.depth = level, symbol, where, len(f.Trace)
		}
	}
	if !sawConfig {
		// An empty stream is a failed scan, not a clean one.
		return scan{}, errors.New("no govulncheck JSON (did it run with -format json?)")
	}
	for id, a := range res.advisories {
		a.summary = summaries[id]
	}
	return res, nil
}

// describe names the vulnerable symbol and, for a call, the project's call
// site (the last frame of the trace).
func describe(trace []*frame) (symbol, where string) {
	top := trace[0]
	symbol = top.Package
	if top.Function != "" {
		name := top.Function
		if top.Receiver != "" {
			name = strings.TrimPrefix(top.Receiver, "*") + "." + name
		}
		symbol = top.Package + "." + name
	}
	if last := trace[len(trace)-1]; last.Position != nil && len(trace) > 1 {
		where = fmt.Sprintf("%s:%d", last.Position.Filename, last.Position.Line)
	}
	return symbol, where
}

// verdict lists every advisory found, waived or not, and every waiver no
// advisory needs; ok is false when any advisory is not waived or any waiver
// is stale.
func verdict(res scan, waivers map[string]string) (lines []string, ok bool) {
	ok = true
	ids := make([]string, 0, len(res.advisories))
	for id := range res.advisories {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		a := res.advisories[id]
		fixed := "no fix"
		if a.fixed != "" {
			fixed = "fixed in " + a.fixed
		}
		what := fmt.Sprintf("%s (%s, %s; %s %s", a.id, a.module, fixed, a.level, a.example)
		if a.where != "" {
			what += " from " + a.where
		}
		what += ")"
		if reason, waived := waivers[id]; waived {
			lines = append(lines, "waived "+what+": "+reason)
			continue
		}
		ok = false
		lines = append(lines, "VULNERABLE "+what+": "+a.summary)
	}
	stale := make([]string, 0, len(waivers))
	for id := range waivers {
		if res.advisories[id] == nil {
			stale = append(stale, id)
		}
	}
	slices.Sort(stale)
	for _, id := range stale {
		ok = false
		lines = append(lines, "STALE waiver "+id+": no finding needs it any more; remove it from the waiver list")
	}
	if ok {
		lines = append(lines, fmt.Sprintf("vulncheck: ok (%d advisories, all waived with a reason)", len(ids)))
	}
	return lines, ok
}
