package numauth_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/numauth/numauth"
)

// constantsOfType parses the package's non-test files and returns the value of every constant declared
// with the type typ, by name; and the names of the constants whose name starts with prefix but that are
// declared without that type (which the registries would miss).
func constantsOfType(t *testing.T, typ, prefix string) (values map[string]string, untyped []string) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	values = map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				id, typed := vs.Type.(*ast.Ident)
				typed = typed && id.Name == typ
				for i, name := range vs.Names {
					switch {
					case typed && i < len(vs.Values):
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							t.Fatalf("%s: not a string literal", name.Name)
						}
						v, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						values[name.Name] = v
					case strings.HasPrefix(name.Name, prefix):
						untyped = append(untyped, name.Name)
					}
				}
			}
		}
	}
	return values, untyped
}

// The registries Reasons and ErrorKinds, which ErrorTable.Check trusts, list every constant the package
// declares, each value once.
func TestRegistriesListEveryConstant(t *testing.T) {
	for _, tt := range []struct {
		typ, prefix string
		listed      []string
	}{
		{"Reason", "Reason", numauth.Reasons()},
		{"ErrorKind", "E", func() (s []string) {
			for _, k := range numauth.ErrorKinds() {
				s = append(s, string(k))
			}
			return s
		}()},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			declared, untyped := constantsOfType(t, tt.typ, tt.prefix)
			if len(declared) == 0 {
				t.Fatalf("no constant of type %s found", tt.typ)
			}
			if tt.typ == "Reason" {
				for _, name := range untyped {
					t.Errorf("%s is not declared with the type Reason, so Reasons cannot be checked to list it", name)
				}
			}
			listed := map[string]int{}
			for _, v := range tt.listed {
				listed[v]++
			}
			byValue := map[string]string{}
			for name, v := range declared {
				if other, dup := byValue[v]; dup {
					t.Errorf("%s and %s are both %q", name, other, v)
				}
				byValue[v] = name
				if listed[v] == 0 {
					t.Errorf("%s (%q) is missing from the registry", name, v)
				}
			}
			for v, n := range listed {
				if byValue[v] == "" {
					t.Errorf("the registry lists %q, which no constant declares", v)
				}
				if n > 1 {
					t.Errorf("the registry lists %q %d times", v, n)
				}
			}
		})
	}
}

func TestErrorTableLookup(t *testing.T) {
	table := numauth.ErrorTable[string]{
		{Kind: numauth.EINVALID}:                                                "invalid",
		{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing}:                 "missing",
		{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "appid"}: "missing appid",
	}
	for _, tt := range []struct {
		name string
		err  *numauth.Error
		want string
	}{
		{"parameter's own entry", numauth.Missing("appid"), "missing appid"},
		{"reason's entry for another parameter", numauth.Missing("token"), "missing"},
		{"kind's entry for another reason", numauth.Malformed("appid", "x"), "invalid"},
		{"kind's entry without a reason, even with a parameter", &numauth.Error{Kind: numauth.EINVALID, Param: "appid"}, "invalid"},
		{"nothing for another kind", &numauth.Error{Kind: numauth.EDENIED, Reason: numauth.ReasonMissing}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := table.Lookup(tt.err)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Lookup(%v) = %q, %v, want %q", tt.err, got, ok, tt.want)
			}
		})
	}
}

func TestErrorTableCheck(t *testing.T) {
	const own numauth.Reason = "protocol_own"
	for _, tt := range []struct {
		name string
		key  numauth.ErrorKey
		ok   bool
	}{
		{"kind", numauth.ErrorKey{Kind: numauth.EINVALID}, true},
		{"kind and reason", numauth.ErrorKey{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing}, true},
		{"kind, reason and parameter", numauth.ErrorKey{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "appid"}, true},
		{"the protocol's own reason", numauth.ErrorKey{Kind: numauth.EDENIED, Reason: own}, true},
		{"misspelt kind refused", numauth.ErrorKey{Kind: "invlaid"}, false},
		{"misspelt reason refused", numauth.ErrorKey{Kind: numauth.EINVALID, Reason: "mising"}, false},
		{"parameter without reason refused", numauth.ErrorKey{Kind: numauth.EINVALID, Param: "appid"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := numauth.ErrorTable[int]{tt.key: 1}.Check(own)
			if (err == nil) != tt.ok {
				t.Errorf("Check(%s) = %v, want ok %v", tt.key, err, tt.ok)
			}
		})
	}
}
