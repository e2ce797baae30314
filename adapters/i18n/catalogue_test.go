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

// usedIDs reads every non-test Go file of the module and returns the string
// literals that look like message ids, with where each was first seen. The
// ids are derived from the code, not listed by hand, so an id added anywhere
// without a text fails TestEveryUsedIDHasATextInEveryLanguage.
func usedIDs(t *testing.T) map[string]string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	ids := map[string]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
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
		return nil
	})
	require.NoError(t, err)
	return ids
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
