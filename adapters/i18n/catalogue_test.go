package i18n_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/domain"
)

// messageID is what an id looks like; a string literal of this shape in the
// code is taken to be an id the code uses.
var messageID = regexp.MustCompile(`^(validation|problem|sms)(\.[a-z0-9_]+)+$`)

// goFiles parses every non-test Go file of the module and calls fn with each;
// skip, given a directory's path relative to the module, leaves it out.
func goFiles(t *testing.T, skip func(rel string) bool, fn func(fset *token.FileSet, file *ast.File)) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			if name := d.Name(); strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || skip(filepath.ToSlash(rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		fn(fset, file)
		return nil
	})
	require.NoError(t, err)
}

// usedIDs reads every non-test Go file of the module and returns the string
// literals that look like message ids, with where each was first seen. The
// ids are derived from the code, not listed by hand, so an id added anywhere
// without a text fails TestEveryUsedIDHasATextInEveryLanguage.
func usedIDs(t *testing.T) map[string]string {
	t.Helper()
	ids := map[string]string{}
	goFiles(t, func(string) bool { return false }, func(fset *token.FileSet, file *ast.File) {
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && messageID.MatchString(s) {
				if _, seen := ids[s]; !seen {
					ids[s] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
	})
	return ids
}

// messageArgs finds, in file, the expressions that reach a client as a
// message id: the message of domain.Invalid(field, message, ...) and of
// ValidationError.Add(field, message, ...), and the value of every Message:
// and detail: field in a composite literal (FieldError, specificProblems).
func messageArgs(file *ast.File, fn func(ast.Expr)) {
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			var name string
			switch f := n.Fun.(type) {
			case *ast.SelectorExpr:
				name = f.Sel.Name
			case *ast.Ident:
				name = f.Name
			}
			if (name == "Invalid" || name == "Add") && len(n.Args) >= 2 {
				fn(n.Args[1])
			}
		case *ast.KeyValueExpr:
			if key, ok := n.Key.(*ast.Ident); ok && (key.Name == "Message" || key.Name == "detail") {
				fn(n.Value)
			}
		}
		return true
	})
}

// proseIn says why e is text rather than a message id: a string literal that
// is not id-shaped, a concatenation with one, or a fmt.Sprint* call. Names,
// fields and other calls pass: they carry an id from elsewhere.
func proseIn(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(e.Value); e.Kind == token.STRING && (err != nil || !messageID.MatchString(s)) {
			return "the literal " + e.Value
		}
	case *ast.BinaryExpr:
		if why := proseIn(e.X); why != "" {
			return why
		}
		return proseIn(e.Y)
	case *ast.ParenExpr:
		return proseIn(e.X)
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok {
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "fmt" && strings.HasPrefix(sel.Sel.Name, "Sprint") {
				return "text made by fmt." + sel.Sel.Name
			}
		}
	}
	return ""
}

func TestEveryUsedIDHasATextInEveryLanguage(t *testing.T) {
	b, err := i18n.New()
	require.NoError(t, err)
	ids := usedIDs(t)
	// The scan must see the ids it exists for, or it proves nothing.
	for _, id := range []string{domain.MsgRequired, domain.MsgCharsRange, i18n.SMSLoginCode, i18n.SMSResetCode,
		"problem.title.not_found", "problem.detail.fields_invalid"} {
		require.Contains(t, ids, id, "the scan of the code missed %s", id)
	}
	for id, where := range ids {
		for _, lang := range i18n.Languages {
			assert.True(t, b.Has(lang, id), "%s (used at %s) has no %s text", id, where, lang)
		}
	}
}

func TestTheEmbeddedCataloguesLoad(t *testing.T) {
	b, err := i18n.New()
	require.NoError(t, err)
	en := b.IDs(i18n.English)
	require.NotEmpty(t, en)
	for _, lang := range i18n.Languages {
		assert.Equal(t, en, b.IDs(lang), "the ids of %s differ from English", lang)
	}
	assert.Same(t, i18n.Catalogues(), i18n.Catalogues(), "loaded once")
}

// The loader's own checks: each broken catalogue in testdata is refused,
// naming what is wrong.
func TestBrokenCataloguesAreRefused(t *testing.T) {
	cases := []struct{ dir, want string }{
		{"missing_id", "ru: greeting.hello is missing"},
		{"extra_id", "uz: greeting.bye is not in English"},
		{"foreign_placeholder", "ru: greeting.hello names {{.Name}}, which English does not"},
		{"missing_plural_form", `ru: greeting.apples lacks the plural form "few"`},
		{"count_without_plural", "en: greeting.count: a text has plural forms exactly when it names {{.Count}}"},
		{"missing_language", "catalogue of uz"},
		{"bad_yaml", "catalogue testdata/bad_yaml/ru.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := i18n.LoadFS(os.DirFS("."), "testdata/"+tc.dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := i18n.LoadFS(os.DirFS("."), "testdata/good")
	require.NoError(t, err, "the fixture the broken ones are made from is itself fine")
}

// English text where an id belongs would be shown in English in every
// language; the catalogue test cannot see it, since it is no id. test/ is
// left out: its fakes play upstreams, whose own words pass through as they are.
func TestMessagesAreIDsNotText(t *testing.T) {
	var found []string
	goFiles(t, func(rel string) bool { return rel == "test" }, func(fset *token.FileSet, file *ast.File) {
		messageArgs(file, func(e ast.Expr) {
			if why := proseIn(e); why != "" {
				found = append(found, fset.Position(e.Pos()).String()+": "+why)
			}
		})
	})
	assert.Empty(t, found, "give each message an id in domain/messages.go (or problem.*) and a text in adapters/i18n/locales")
}

// The check itself: each prose form is caught, each id form passes.
func TestProseInTellsTextFromIDs(t *testing.T) {
	src := `package p
func f() {
	domain.Invalid("a", "must be a UUID")
	verr.Add("b", fmt.Sprintf("must be 1..%d characters", 5))
	verr.Add("c", "product " + id + " is inactive")
	_ = FieldError{Field: "d", Message: "is required"}
	_ = problemRule{detail: "Too many codes."}
	domain.Invalid("ok", domain.MsgUUID)
	verr.Add("ok", "validation.required", args)
	verr.Add("ok", f.Message, f.Args)
	_ = problemRule{detail: "problem.detail.otp_invalid"}
	_ = now.Add(time.Second)
}`
	file, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	require.NoError(t, err)
	var caught []string
	messageArgs(file, func(e ast.Expr) {
		if why := proseIn(e); why != "" {
			caught = append(caught, why)
		}
	})
	assert.Equal(t, []string{
		`the literal "must be a UUID"`,
		"text made by fmt.Sprintf",
		`the literal "product "`,
		`the literal "is required"`,
		`the literal "Too many codes."`,
	}, caught)
}
