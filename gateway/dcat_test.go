package gateway

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"kaifang/datasets"
)

// dcatEnv is the gateway fixture plus entries that stress the export: a
// title and description full of Turtle syntax, a licence, a withdrawn entry
// and an agency with a contact address.
type dcatEnv struct {
	*env
	tricky, withdrawn *datasets.Dataset
}

const trickyTitle = "臺北市\"公車\"到站\\資料 \u0007"

func MustDCATEnv(tb testing.TB) *dcatEnv {
	tb.Helper()
	e := sqliteLocal(tb.(*testing.T))
	ctx := context.Background()
	e.ag.Contact = "opendata@moenv.example.gov.tw"
	if err := e.store.UpdateAgency(ctx, e.ag); err != nil {
		tb.Fatalf("UpdateAgency: %v", err)
	}
	tricky := &datasets.Dataset{
		Slug: "bus-arrivals", Title: trickyTitle, Description: "第一行\n第二行 with 'single' and \"double\" quotes\r\n\ttab <tag> @zh ^^xsd:string .",
		Agency: e.ag.Ref(), Category: datasets.Transport, OpenClass: datasets.Open, Frequency: datasets.Realtime,
		Formats: []string{"json"}, Tags: []string{"公車", "交通/運輸", "水"}, State: datasets.Published, License: "政府資料開放授權條款",
		AccessModes: []datasets.AccessMode{datasets.Bulk},
	}
	withdrawn := &datasets.Dataset{
		Slug: "old-roads", Title: "已撤回的道路資料", Description: "撤回", Agency: e.ag.Ref(), Category: datasets.Transport,
		OpenClass: datasets.Open, Frequency: datasets.Yearly, State: datasets.Published,
	}
	for _, d := range []*datasets.Dataset{tricky, withdrawn} {
		if err := e.store.CreateDataset(ctx, d, datasets.Change{Actor: "system", Action: "create"}); err != nil {
			tb.Fatalf("CreateDataset %s: %v", d.Slug, err)
		}
	}
	withdrawn.State = datasets.Withdrawn
	if err := e.store.UpdateDataset(ctx, withdrawn, datasets.Change{Actor: "system", Action: "withdraw"}); err != nil {
		tb.Fatalf("withdraw: %v", err)
	}
	return &dcatEnv{env: e, tricky: tricky, withdrawn: withdrawn}
}

// hidden are the entries no export may mention, by id and slug.
func (e *dcatEnv) hidden() []string {
	return []string{e.closed.ID, e.closed.Slug, e.closed.Title, e.withdrawn.ID, e.withdrawn.Slug, e.withdrawn.Title}
}

func TestDCATTurtle(t *testing.T) {
	e := MustDCATEnv(t)
	resp, body := MustGet(t, e.url+"/catalog.ttl")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/turtle") {
		t.Fatalf("GET /catalog.ttl: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ttl := string(body)
	t.Run("public entries are described", func(t *testing.T) {
		for _, d := range []*datasets.Dataset{e.open, e.cond, e.plain, e.tricky} {
			if !strings.Contains(ttl, "<"+e.url+"/api/v1/datasets/"+d.ID+">\n    a dcat:Dataset") {
				t.Errorf("entry %s is not a dcat:Dataset in the export", d.Slug)
			}
			if !strings.Contains(ttl, `dct:identifier "`+d.ID+`"`) {
				t.Errorf("entry %s has no dct:identifier", d.Slug)
			}
		}
		if !strings.Contains(ttl, `dct:title "空氣品質指標(AQI)"@zh`) {
			t.Error("Chinese title missing or untagged")
		}
	})
	t.Run("closed and withdrawn entries never appear", func(t *testing.T) {
		for _, s := range e.hidden() {
			if strings.Contains(ttl, s) {
				t.Errorf("export mentions hidden entry %q", s)
			}
		}
	})
	t.Run("literals are escaped", func(t *testing.T) {
		if !strings.Contains(ttl, `dct:title "臺北市\"公車\"到站\\資料 \u0007"@zh`) {
			t.Errorf("tricky title not escaped as expected:\n%s", grepLines(ttl, "臺北市"))
		}
		if !strings.Contains(ttl, `"第一行\n第二行 with 'single' and \"double\" quotes\r\n\ttab <tag> @zh ^^xsd:string ."@zh`) {
			t.Errorf("tricky description not escaped as expected:\n%s", grepLines(ttl, "第一行"))
		}
	})
	t.Run("open entry has downloads with size and checksum", func(t *testing.T) {
		v := e.open.CurrentVersion
		for _, want := range []string{
			"dcat:downloadURL <" + e.url + "/api/v1/datasets/" + e.open.Slug + "/download>",
			"dcat:downloadURL <" + e.url + "/api/v1/datasets/" + e.open.Slug + "/download?format=json>",
			`dcat:byteSize "` + strconv.FormatInt(v.Size, 10) + `"^^xsd:decimal`,
			`spdx:checksumValue "` + v.SHA256 + `"^^xsd:hexBinary`,
			"dcat:theme <http://publications.europa.eu/resource/authority/data-theme/ENVI>",
			"dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/DAILY>",
			"dcat:mediaType <http://www.iana.org/assignments/media-types/text/csv>",
			"dcat:contactPoint <" + e.url + "/api/v1/agencies/" + e.ag.ID + "#contact>",
			"vcard:hasEmail <mailto:opendata@moenv.example.gov.tw>",
			"dct:license <https://data.gov.tw/license>",
			"dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN>",
			"dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/CONT>",
		} {
			if !strings.Contains(ttl, want) {
				t.Errorf("export lacks %s", want)
			}
		}
	})
	t.Run("conditional entry is restricted and has no download", func(t *testing.T) {
		block := nodeBlock(ttl, "<"+e.url+"/api/v1/datasets/"+e.cond.ID+">")
		if !strings.Contains(block, "dct:accessRights <http://publications.europa.eu/resource/authority/access-right/RESTRICTED>") {
			t.Errorf("conditional entry not RESTRICTED:\n%s", block)
		}
		dist := nodeBlock(ttl, "<"+e.url+"/api/v1/datasets/"+e.cond.ID+"#access>")
		if !strings.Contains(dist, "dcat:accessURL <"+e.url+"/datasets/"+e.cond.Slug+">") || strings.Contains(dist, "downloadURL") {
			t.Errorf("conditional distribution wrong:\n%s", dist)
		}
		if strings.Contains(ttl, "/api/v1/datasets/"+e.cond.Slug+"/download") {
			t.Error("conditional entry has a download URL somewhere in the export")
		}
	})
}

// nodeBlock returns the Turtle statements about subject (up to its " .").
func nodeBlock(ttl, subject string) string {
	i := strings.Index(ttl, subject+"\n")
	if i < 0 {
		return ""
	}
	j := strings.Index(ttl[i:], " .\n")
	if j < 0 {
		return ttl[i:]
	}
	return ttl[i : i+j]
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDCATTurtleConformsToSHACL validates the export against the official
// DCAT-AP 3.0.0 shapes with rdf-validate-shacl (a real SHACL engine, run by
// node). Violations fail the test; warnings are logged.
func TestDCATTurtleConformsToSHACL(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "rdf-validate-shacl")); err != nil {
		t.Skip("node_modules/rdf-validate-shacl is missing: run `npm ci` in the repository root to validate DCAT against SHACL")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: install Node.js to validate DCAT against SHACL")
	}
	e := MustDCATEnv(t)
	resp, body := MustGet(t, e.url+"/catalog.ttl")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /catalog.ttl: %d", resp.StatusCode)
	}
	data := filepath.Join(t.TempDir(), "catalog.ttl")
	if err := os.WriteFile(data, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "shacl-validate.mjs"), data)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("shacl-validate.mjs: %v\n%s", err, stderr)
	}
	var report struct {
		Triples    int      `json:"triples"`
		ShapeFiles []string `json:"shapeFiles"`
		Results    []struct {
			Severity, FocusNode, Path, Value, Constraint, Shape string
			Message                                             []string
		} `json:"results"`
	}
	MustJSON(t, out, &report)
	if report.Triples < 50 || len(report.ShapeFiles) < 4 {
		t.Fatalf("validator saw %d triples and shapes %v: the export or the shapes did not load", report.Triples, report.ShapeFiles)
	}
	violations := 0
	for _, r := range report.Results {
		if r.Severity == "Violation" {
			violations++
			t.Errorf("SHACL violation: %s %s = %s: %v (%s)", r.FocusNode, r.Path, r.Value, r.Message, r.Constraint)
		} else {
			t.Logf("SHACL %s: %s %s: %v", r.Severity, r.FocusNode, r.Path, r.Message)
		}
	}
	if violations > 0 {
		t.Logf("export:\n%s", body)
	}
}

// TestDCATSHACLCatchesBrokenExport proves the validation above can fail: a
// dataset without a title is a violation of the same shapes.
func TestDCATSHACLCatchesBrokenExport(t *testing.T) {
	root, _ := filepath.Abs("..")
	if _, err := os.Stat(filepath.Join(root, "node_modules", "rdf-validate-shacl")); err != nil {
		t.Skip("node_modules/rdf-validate-shacl is missing: run `npm ci` in the repository root to validate DCAT against SHACL")
	}
	bad := "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<http://x.example/d> a dcat:Dataset .\n"
	data := filepath.Join(t.TempDir(), "bad.ttl")
	if err := os.WriteFile(data, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", filepath.Join("testdata", "shacl-validate.mjs"), data).Output()
	if err != nil {
		t.Fatalf("shacl-validate.mjs: %v", err)
	}
	if !strings.Contains(string(out), `"severity": "Violation"`) || !strings.Contains(string(out), "http://purl.org/dc/terms/title") {
		t.Fatalf("a dataset without title passed validation: %s", out)
	}
}

func TestDCATJSONLD(t *testing.T) {
	e := MustDCATEnv(t)
	resp, body := MustGet(t, e.url+"/catalog.jsonld")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/ld+json") {
		t.Fatalf("GET /catalog.jsonld: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	type value struct {
		ID    string `json:"@id"`
		Value string `json:"@value"`
		Lang  string `json:"@language"`
		Type  string `json:"@type"`
	}
	var doc struct {
		Context map[string]string            `json:"@context"`
		Graph   []map[string]json.RawMessage `json:"@graph"`
	}
	MustJSON(t, body, &doc)
	if doc.Context["dcat"] != "http://www.w3.org/ns/dcat#" || doc.Context["dct"] != "http://purl.org/dc/terms/" {
		t.Fatalf("context lacks dcat/dct prefixes: %v", doc.Context)
	}
	nodes := map[string]map[string]json.RawMessage{}
	byType := map[string][]string{}
	for _, n := range doc.Graph {
		var id string
		var types []string
		_ = json.Unmarshal(n["@id"], &id)
		_ = json.Unmarshal(n["@type"], &types)
		nodes[id] = n
		for _, ty := range types {
			byType[ty] = append(byType[ty], id)
		}
	}
	vals := func(id, pred string) []value {
		var vs []value
		if raw, ok := nodes[id][pred]; ok {
			MustJSON(t, raw, &vs)
		}
		return vs
	}
	if len(byType["dcat:Catalog"]) != 1 {
		t.Fatalf("want one dcat:Catalog, got %v", byType["dcat:Catalog"])
	}
	cat := byType["dcat:Catalog"][0]
	members := map[string]bool{}
	for _, v := range vals(cat, "dcat:dataset") {
		members[v.ID] = true
	}
	want := []*datasets.Dataset{e.open, e.cond, e.plain, e.tricky}
	if len(members) != len(want) || len(byType["dcat:Dataset"]) != len(want) {
		t.Fatalf("catalogue lists %d datasets, graph has %d, want %d", len(members), len(byType["dcat:Dataset"]), len(want))
	}
	for _, d := range want {
		id := e.url + "/api/v1/datasets/" + d.ID
		t.Run(d.Slug, func(t *testing.T) {
			if !members[id] {
				t.Fatalf("catalogue does not list %s", id)
			}
			if ids := vals(id, "dct:identifier"); len(ids) != 1 || ids[0].Value != d.ID {
				t.Errorf("dct:identifier = %+v", ids)
			}
			if ts := vals(id, "dct:title"); len(ts) != 1 || ts[0].Value != d.Title || ts[0].Lang != "zh" {
				t.Errorf("dct:title = %+v, want %q@zh", ts, d.Title)
			}
			pubs := vals(id, "dct:publisher")
			if len(pubs) != 1 {
				t.Fatalf("dct:publisher = %+v", pubs)
			}
			if names := vals(pubs[0].ID, "foaf:name"); len(names) != 1 || names[0].Value != "環境部" {
				t.Errorf("publisher foaf:name = %+v", names)
			}
			dists := vals(id, "dcat:distribution")
			if len(dists) == 0 {
				t.Fatal("no distribution")
			}
			for _, dist := range dists {
				if len(vals(dist.ID, "dcat:accessURL")) != 1 {
					t.Errorf("distribution %s has no accessURL", dist.ID)
				}
				if d.OpenClass == datasets.Conditional && len(vals(dist.ID, "dcat:downloadURL")) > 0 {
					t.Errorf("conditional distribution %s has a downloadURL", dist.ID)
				}
			}
		})
	}
	for _, s := range e.hidden() {
		if strings.Contains(string(body), s) {
			t.Errorf("JSON-LD mentions hidden entry %q", s)
		}
	}
}

// unescapeTurtle reads back a STRING_LITERAL_QUOTE written by turtleString.
func unescapeTurtle(tb testing.TB, lit string) string {
	tb.Helper()
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		tb.Fatalf("not a quoted literal: %q", lit)
	}
	in := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case '"', '\n', '\r':
			tb.Fatalf("raw %q inside literal %q", c, lit)
		case '\\':
			i++
			if i >= len(in) {
				tb.Fatalf("dangling backslash in %q", lit)
			}
			switch in[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '"', '\\', '\'':
				b.WriteByte(in[i])
			case 'u':
				if i+4 >= len(in) {
					tb.Fatalf("short \\u escape in %q", lit)
				}
				n, err := strconv.ParseUint(in[i+1:i+5], 16, 32)
				if err != nil {
					tb.Fatalf("bad \\u escape in %q", lit)
				}
				b.WriteRune(rune(n))
				i += 4
			default:
				tb.Fatalf("unknown escape \\%c in %q", in[i], lit)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestTurtleString(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"chinese", "空氣品質", `"空氣品質"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"line breaks", "a\nb\r\n", `"a\nb\r\n"`},
		{"control", "a\x00b\x1f", `"a\u0000b\u001F"`},
		{"invalid utf-8", "a\xffb", "\"a\uFFFDb\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := turtleString(tc.in); got != tc.want {
				t.Fatalf("turtleString(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzTurtleString(f *testing.F) {
	for _, s := range []string{"", "空氣品質指標(AQI)", `"`, `\`, "\n", "a\"b\\c\r\n\t", "\x00\x7f", "\xff\xfe", `\u0041`, "\"\"\"", "'''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit := turtleString(s)
		if !utf8.ValidString(lit) {
			t.Fatalf("literal is not UTF-8: %q", lit)
		}
		if got, want := unescapeTurtle(t, lit), strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Fatalf("round trip of %q gave %q", want, got)
		}
	})
}

func FuzzTurtleIRI(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080/catalog", "http://h/<x>", "http://h/a b\"{}|^`\\", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := turtleIRI(s)
		inner := out[1 : len(out)-1]
		if out[0] != '<' || out[len(out)-1] != '>' || strings.ContainsAny(inner, "<>\"{}|^`\\ \n\r\t") || !utf8.ValidString(out) {
			t.Fatalf("turtleIRI(%q) = %q is not an IRIREF", s, out)
		}
	})
}
