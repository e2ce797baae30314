// Package i18n turns message ids into text in the client's language: Uzbek
// (Latin script), Russian or English, with the plural rules of CLDR that
// github.com/nicksnyder/go-i18n carries. The catalogues are the YAML files in
// locales/, one per language, which a translator edits without touching Go;
// they are embedded, so a binary always has all three.
//
// Ids are dotted paths (validation.required, problem.title.not_found,
// sms.login_code); a nested YAML map spells the same path. Arguments fill
// {{.Name}} placeholders; the argument named Count (PluralArg) also picks the
// plural form, so "5 полей" and "2 поля" come from one id.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// The languages a client can get, as Content-Language spells them.
const (
	Uzbek   = "uz"
	Russian = "ru"
	English = "en"
)

// Default is the language of a request that asks for none of ours (API.md).
const Default = English

// Languages lists every language the catalogues must cover.
var Languages = []string{English, Russian, Uzbek}

// Ids of the SMS texts. Args: Code, the one-time code, and Count, its
// lifetime in whole minutes (which picks the plural form).
const (
	SMSLoginCode = "sms.login_code"
	SMSResetCode = "sms.reset_code"
)

// PluralArg is the argument whose number picks the plural form of a text.
const PluralArg = "Count"

//go:embed locales/*.yaml
var locales embed.FS

// Bundle holds the catalogues of every language.
type Bundle struct {
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
	messages   map[string]map[string]*goi18n.Message // language → id → message
}

// New loads the embedded catalogues. It fails when a file does not parse or a
// language of Languages has no file: both are build mistakes a test catches.
func New() (*Bundle, error) {
	return load(locales, "locales")
}

var (
	defaultOnce   sync.Once
	defaultBundle *Bundle
	errDefault    error
)

// Catalogues returns the embedded catalogues, loaded once. It panics when
// they do not load, which the package's own tests rule out for every build.
func Catalogues() *Bundle {
	defaultOnce.Do(func() { defaultBundle, errDefault = New() })
	if errDefault != nil {
		panic(fmt.Sprintf("i18n: embedded catalogues: %v", errDefault))
	}
	return defaultBundle
}

func load(fsys fs.FS, dir string) (*Bundle, error) {
	b := &Bundle{
		bundle:     goi18n.NewBundle(language.English),
		localizers: make(map[string]*goi18n.Localizer, len(Languages)),
		messages:   make(map[string]map[string]*goi18n.Message, len(Languages)),
	}
	b.bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	for _, lang := range Languages {
		name := path.Join(dir, lang+".yaml")
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("catalogue of %s: %w", lang, err)
		}
		file, err := b.bundle.ParseMessageFileBytes(buf, name)
		if err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", name, err)
		}
		byID := make(map[string]*goi18n.Message, len(file.Messages))
		for _, m := range file.Messages {
			byID[m.ID] = m
		}
		b.messages[lang] = byID
		b.localizers[lang] = goi18n.NewLocalizer(b.bundle, lang)
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	return b, nil
}

// pluralForms are the CLDR plural categories of whole numbers in each
// language, plus other (Russian keeps it for fractions): a text with a
// plural form needs them all.
var pluralForms = map[string][]string{
	English: {"one", "other"},
	Russian: {"one", "few", "many", "other"},
	Uzbek:   {"one", "other"},
}

var placeholder = regexp.MustCompile(`{{-?\s*\.([A-Za-z0-9_]+)\s*-?}}`)

// check refuses catalogues a translator got wrong: an id English has and
// another language lacks (or the reverse), a placeholder English does not
// name, a plural text without every form its language needs, or Count
// named by a text without plural forms.
func (b *Bundle) check() error {
	var problems []string
	en := b.messages[English]
	for _, lang := range Languages {
		for id := range b.messages[lang] {
			if _, ok := en[id]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not in English", lang, id))
			}
		}
	}
	for _, id := range b.IDs(English) {
		enNames := placeholders(en[id])
		plural := en[id].One != ""
		if plural != enNames[PluralArg] {
			problems = append(problems, fmt.Sprintf("en: %s: a text has plural forms exactly when it names {{.%s}}", id, PluralArg))
		}
		for _, lang := range Languages {
			m, ok := b.messages[lang][id]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is missing", lang, id))
				continue
			}
			for name := range placeholders(m) {
				if !enNames[name] {
					problems = append(problems, fmt.Sprintf("%s: %s names {{.%s}}, which English does not", lang, id, name))
				}
			}
			if !plural {
				continue
			}
			forms := map[string]string{"one": m.One, "few": m.Few, "many": m.Many, "other": m.Other}
			for _, form := range pluralForms[lang] {
				if forms[form] == "" {
					problems = append(problems, fmt.Sprintf("%s: %s lacks the plural form %q", lang, id, form))
				}
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("catalogues: %s", strings.Join(problems, "; "))
	}
	return nil
}

func placeholders(m *goi18n.Message) map[string]bool {
	names := map[string]bool{}
	for _, form := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		for _, match := range placeholder.FindAllStringSubmatch(form, -1) {
			names[match[1]] = true
		}
	}
	return names
}

// Has reports whether lang's catalogue has a text for id.
func (b *Bundle) Has(lang, id string) bool {
	_, ok := b.messages[lang][id]
	return ok
}

// IDs lists the ids of lang's catalogue, sorted.
func (b *Bundle) IDs(lang string) []string {
	ids := make([]string, 0, len(b.messages[lang]))
	for id := range b.messages[lang] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Text is the text of id in lang with args filled in. A language we do not
// speak gets English; an id missing from lang's catalogue gets the English
// text; a string that is no id at all (an upstream service's own words) is
// returned as it is, so a caller can pass ids and ready texts alike.
func (b *Bundle) Text(lang, id string, args map[string]any) string {
	if _, ok := b.localizers[lang]; !ok {
		lang = Default
	}
	if !b.Has(lang, id) {
		if !b.Has(Default, id) {
			return id
		}
		lang = Default
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id, TemplateData: args}
	if n, ok := args[PluralArg]; ok {
		cfg.PluralCount = n
	}
	s, err := b.localizers[lang].Localize(cfg)
	if err != nil && lang != Default {
		// A plural form or placeholder the translation lacks: English is
		// better than a half-filled text. The catalogue test rules it out.
		return b.Text(Default, id, args)
	}
	if err != nil && s == "" {
		return id
	}
	return s
}

// Negotiate picks the language of a request from its Accept-Language header
// (RFC 9110): the acceptable language with the highest weight that is one of
// ours, regions and scripts aside (uz-Latn-UZ is uz, ru-RU is ru). No header,
// none of ours, or a header that does not parse gets Default; it never fails.
func Negotiate(acceptLanguage string) string {
	tags := acceptable(acceptLanguage)
	for _, t := range tags {
		base, conf := t.Base()
		if conf != language.Exact { // "*" and "und" name no language of ours
			continue
		}
		switch base.String() {
		case Uzbek:
			return Uzbek
		case Russian:
			return Russian
		case English:
			return English
		}
	}
	return Default
}

// maxEntries bounds the work spent on a header that does not parse as a
// whole; a real browser sends a handful of entries.
const maxEntries = 32

var errNoEntries = errors.New("no acceptable language")

// acceptable returns the header's languages, best first. When the header
// does not parse as a whole, each comma-separated entry is tried alone and
// the bad ones are skipped, so "ru, ???" still reads as Russian.
func acceptable(header string) []language.Tag {
	if strings.TrimSpace(header) == "" {
		return nil
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err == nil {
		return tags
	}
	type weighted struct {
		tag language.Tag
		q   float32
	}
	var all []weighted
	for i, entry := range strings.SplitN(header, ",", maxEntries+1) {
		if i == maxEntries {
			break
		}
		t, q, err := parseEntry(entry)
		if err == nil {
			all = append(all, weighted{t, q})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].q > all[j].q })
	out := make([]language.Tag, 0, len(all))
	for _, w := range all {
		out = append(out, w.tag)
	}
	return out
}

func parseEntry(entry string) (language.Tag, float32, error) {
	tags, q, err := language.ParseAcceptLanguage(entry)
	if err != nil {
		return language.Tag{}, 0, err
	}
	if len(tags) == 0 {
		return language.Tag{}, 0, errNoEntries // q=0 or empty
	}
	return tags[0], q[0], nil
}
