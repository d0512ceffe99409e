package http_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	hhttp "github.com/heraldhq/herald/http"
)

// documentedRoutes reads "METHOD /path" pairs from the paths section of an
// OpenAPI document: path keys at two spaces of indent, operations at four.
// That subset of YAML is all the document uses there.
func documentedRoutes(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var routes []string
	inPaths, path := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			inPaths = line == "paths:"
			continue
		}
		if !inPaths {
			continue
		}
		switch {
		case strings.HasPrefix(line, "  /") && !strings.HasPrefix(line, "   "):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			key := strings.TrimSuffix(strings.TrimSpace(line), ":")
			switch key {
			case "get", "put", "post", "patch", "delete", "head", "options":
				routes = append(routes, strings.ToUpper(key)+" "+path)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return routes
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	srv := hhttp.NewServer(hhttp.Config{})
	served := srv.Patterns()
	documented := documentedRoutes(t, "../docs/openapi.yaml")
	if len(documented) < 20 {
		t.Fatalf("parsed only %d documented routes", len(documented))
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("served but not in docs/openapi.yaml: %s", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("in docs/openapi.yaml but not served: %s", r)
		}
	}
	if uniq := slices.Compact(slices.Sorted(slices.Values(documented))); len(uniq) != len(documented) {
		t.Errorf("docs/openapi.yaml documents a route twice")
	}
}
