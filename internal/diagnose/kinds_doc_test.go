package diagnose

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestKindsDocumented: every Kind constant is listed, in backquotes, among the kinds of
// doc/json-schema.md (the contract other programs read) and doc/rules.md (what a rule's
// kinds may name), so a new kind cannot land undocumented.
func TestKindsDocumented(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "diagnose.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	ast.Inspect(file, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && strings.HasPrefix(vs.Names[0].Name, "Kind") && len(vs.Values) == 1 {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				kinds = append(kinds, v)
			}
		}
		return true
	})
	if len(kinds) < 20 {
		t.Fatalf("found %d kinds in diagnose.go: %v", len(kinds), kinds)
	}
	for _, doc := range []string{"../../doc/json-schema.md", "../../doc/rules.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kinds {
			if !strings.Contains(string(b), "`"+k+"`") {
				t.Errorf("%s does not list the kind `%s`", doc, k)
			}
		}
	}
}
