package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchitectureGraph fails when docs/architecture.md's import graph
// is not the one go list gives: run `go run ./internal/archdoc` from the
// module root after changing imports.
func TestArchitectureGraph(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, docPath))
	if err != nil {
		t.Fatal(err)
	}
	graph, err := Graph(root)
	if err != nil {
		t.Fatal(err)
	}
	want, err := replaceGraph(string(doc), graph)
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != want {
		t.Errorf("%s's import graph is stale: run `go run ./internal/archdoc` from the module root. It should read:\n%s", docPath, graph)
	}
}

// TestGraphFloors checks that every import points to a lower floor.
func TestGraphFloors(t *testing.T) {
	out := render(map[string][]string{"a": {"b", "c"}, "b": {"c"}, "c": nil})
	for _, want := range []string{"| 3 | `a` | `b`, `c` |", "| 2 | `b` | `c` |", "| 1 | `c` | — |"} {
		if !strings.Contains(out, want) {
			t.Errorf("render lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "`a`") > strings.Index(out, "| `b`") {
		t.Errorf("the top floor is not first:\n%s", out)
	}
}
