package gateway

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// rdfTerm is the object of one statement: an IRI, or a literal with either
// a language tag or a datatype (both empty: xsd:string).
type rdfTerm struct {
	IRI   string
	Value string
	Lang  string
	Type  string // datatype as a prefixed name (xsd:dateTime) or full IRI
}

func iri(s string) rdfTerm                { return rdfTerm{IRI: s} }
func langLit(v, lang string) rdfTerm      { return rdfTerm{Value: v, Lang: lang} }
func typedLit(v, datatype string) rdfTerm { return rdfTerm{Value: v, Type: datatype} }
func plainLit(v string) rdfTerm           { return rdfTerm{Value: v} }

type rdfProp struct {
	Pred string // prefixed name
	Obj  rdfTerm
}

// rdfNode is one subject with its types and statements. The export is a
// sequence of nodes, so both serialisations can be written node by node
// without holding the graph.
type rdfNode struct {
	ID    string
	Types []string // prefixed names
	Props []rdfProp
}

func (n *rdfNode) add(pred string, o rdfTerm) { n.Props = append(n.Props, rdfProp{pred, o}) }

// rdfPrefixes are the only prefixes predicates, types and datatypes may use.
var rdfPrefixes = []struct{ Name, IRI string }{
	{"dcat", "http://www.w3.org/ns/dcat#"},
	{"dct", "http://purl.org/dc/terms/"},
	{"foaf", "http://xmlns.com/foaf/0.1/"},
	{"vcard", "http://www.w3.org/2006/vcard/ns#"},
	{"spdx", "http://spdx.org/rdf/terms#"},
	{"skos", "http://www.w3.org/2004/02/skos/core#"},
	{"rdfs", "http://www.w3.org/2000/01/rdf-schema#"},
	{"xsd", "http://www.w3.org/2001/XMLSchema#"},
}

// turtleString writes s as a Turtle STRING_LITERAL_QUOTE. Bytes that are not
// UTF-8 become U+FFFD, and every character the grammar forbids raw (quote,
// backslash, line breaks) or that would be invisible (other controls) is
// escaped, so no value from an open list can end the literal early.
func turtleString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteString(`\u`)
				h := strconv.FormatInt(int64(r), 16)
				b.WriteString(strings.Repeat("0", 4-len(h)) + strings.ToUpper(h))
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// turtleIRI writes s as an IRIREF, percent-encoding the characters the
// grammar forbids (a Host header is outside input too).
func turtleIRI(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, c := range []byte(strings.ToValidUTF8(s, "")) {
		if c <= 0x20 || c == 0x7f || strings.IndexByte("<>\"{}|^`\\", c) >= 0 {
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('>')
	return b.String()
}

// validLang keeps the writer honest: the tags written are constants, but a
// tag that is not BCP 47-shaped would break the Turtle syntax.
func validLang(tag string) bool {
	if tag == "" || len(tag) > 35 {
		return false
	}
	for i, part := range strings.Split(tag, "-") {
		if part == "" || len(part) > 8 {
			return false
		}
		for _, c := range part {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
			if !ok {
				return false
			}
		}
	}
	return true
}

func (t rdfTerm) turtle() string {
	if t.IRI != "" {
		return turtleIRI(t.IRI)
	}
	s := turtleString(t.Value)
	switch {
	case t.Lang != "" && validLang(t.Lang):
		return s + "@" + t.Lang
	case t.Type != "" && strings.Contains(t.Type, "://"):
		return s + "^^" + turtleIRI(t.Type)
	case t.Type != "":
		return s + "^^" + t.Type
	}
	return s
}

// rdfWriter serialises nodes as Turtle or JSON-LD.
type rdfWriter interface {
	begin() error
	node(n *rdfNode) error
	end() error
}

type turtleWriter struct{ w *bufio.Writer }

func (t *turtleWriter) begin() error {
	for _, p := range rdfPrefixes {
		t.w.WriteString("@prefix " + p.Name + ": <" + p.IRI + "> .\n")
	}
	return t.w.WriteByte('\n')
}

func (t *turtleWriter) node(n *rdfNode) error {
	t.w.WriteString(turtleIRI(n.ID))
	sep := "\n    "
	if len(n.Types) > 0 {
		t.w.WriteString(sep + "a " + strings.Join(n.Types, ", "))
		sep = " ;\n    "
	}
	for _, p := range n.Props {
		t.w.WriteString(sep + p.Pred + " " + p.Obj.turtle())
		sep = " ;\n    "
	}
	_, err := t.w.WriteString(" .\n\n")
	return err
}

func (t *turtleWriter) end() error { return t.w.Flush() }

// jsonldWriter writes one document {"@context":…,"@graph":[node,…]} where
// every property value is an array of value or reference objects: verbose,
// but one shape for every property is what consumers parse most easily.
type jsonldWriter struct {
	w     *bufio.Writer
	first bool
}

func (j *jsonldWriter) begin() error {
	ctx := map[string]string{}
	for _, p := range rdfPrefixes {
		ctx[p.Name] = p.IRI
	}
	b, err := json.Marshal(ctx)
	if err != nil {
		return err
	}
	j.first = true
	j.w.WriteString(`{"@context":`)
	j.w.Write(b)
	_, err = j.w.WriteString(`,"@graph":[` + "\n")
	return err
}

func (j *jsonldWriter) node(n *rdfNode) error {
	obj := map[string]any{"@id": n.ID}
	if len(n.Types) > 0 {
		obj["@type"] = n.Types
	}
	for _, p := range n.Props {
		var v map[string]string
		switch {
		case p.Obj.IRI != "":
			v = map[string]string{"@id": p.Obj.IRI}
		case p.Obj.Lang != "":
			v = map[string]string{"@value": strings.ToValidUTF8(p.Obj.Value, "\uFFFD"), "@language": p.Obj.Lang}
		case p.Obj.Type != "":
			v = map[string]string{"@value": strings.ToValidUTF8(p.Obj.Value, "\uFFFD"), "@type": p.Obj.Type}
		default:
			v = map[string]string{"@value": strings.ToValidUTF8(p.Obj.Value, "\uFFFD")}
		}
		list, _ := obj[p.Pred].([]map[string]string)
		obj[p.Pred] = append(list, v)
	}
	b, err := jsonMarshal(obj)
	if err != nil {
		return err
	}
	if !j.first {
		j.w.WriteString(",\n")
	}
	j.first = false
	_, err = j.w.Write(b[:len(b)-1]) // jsonMarshal ends with a newline
	return err
}

func (j *jsonldWriter) end() error {
	j.w.WriteString("\n]}\n")
	return j.w.Flush()
}

func newRDFWriter(w io.Writer, jsonld bool) rdfWriter {
	bw := bufio.NewWriterSize(w, 32<<10)
	if jsonld {
		return &jsonldWriter{w: bw}
	}
	return &turtleWriter{w: bw}
}
