package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"kaifang/datasets"
)

// ReservedParams are the records API's own parameters; a field with one of
// these names is filtered with its __eq form only.
var ReservedParams = []string{"sort", "fields", "limit", "cursor", "total", "format", "version"}

// MaxExampleRows is how many first rows a dataset document shows.
const MaxExampleRows = 3

// DatasetDoc is the document of one version of one tabular entry, built
// and validated once, with what request validation needs kept ready.
type DatasetDoc struct {
	Doc   *openapi3.T
	JSON  []byte
	route *routers.Route
	// routes holds routeFor's narrowed routes by the query's parameter
	// names: clients send the same few shapes of query again and again.
	routesMu sync.Mutex
	routes   map[string]*routers.Route
}

// maxRouteShapes bounds DatasetDoc.routes; shapes beyond it are narrowed
// for each request, as before there was a cache.
const maxRouteShapes = 256

// RecordsPath is where a dataset's records operation lives.
func RecordsPath(slug string) string { return "/api/v1/datasets/" + slug + "/records" }

// BuildDataset makes the document of version v of entry d. examples are its
// first rows (typed like v.Columns); pass none for entries whose rows are not
// public, since the document itself is.
func BuildDataset(d *datasets.Dataset, v *datasets.Version, examples [][]any) (*DatasetDoc, error) {
	if !v.Tabular() {
		return nil, datasets.Errorf(datasets.EINVALID, "version %d of %s is not tabular: it has no records API", v.Number, d.Slug)
	}
	if len(examples) > MaxExampleRows {
		examples = examples[:MaxExampleRows]
	}
	desc := d.Description
	if desc != "" {
		desc += "\n\n"
	}
	desc += fmt.Sprintf("Rows of version %d (%d rows) of the open-list entry **%s**, published by %s. "+
		"Filter on any field with the parameters below; page with `cursor`.", v.Number, v.Rows, d.Title, d.Agency.Name)
	if d.OpenClass == datasets.Conditional {
		desc += "\n\nThis entry is conditionally open: requests need an approved application and an API key."
	}
	problem := problemSchema()
	licence := d.License
	if licence == "" {
		licence = "as stated by " + d.Agency.Name
	}
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:       d.Title + " — records API",
			Version:     fmt.Sprintf("%d", v.Number),
			Description: desc,
			License:     &openapi3.License{Name: licence, URL: "/api/v1/datasets/" + d.Slug},
			Contact:     &openapi3.Contact{Name: d.Agency.Name, URL: "/api/v1/agencies/" + d.Agency.Slug},
		},
		Servers: openapi3.Servers{{URL: "/", Description: "the host serving this document"}},
		Tags:    openapi3.Tags{{Name: "records", Description: "Rows of " + d.Title}},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas: openapi3.Schemas{"Problem": openapi3.NewSchemaRef("", problem)},
		},
	}
	cols := v.Columns
	rowExamples := make([]map[string]any, 0, len(examples))
	for _, row := range examples {
		obj := map[string]any{}
		for i, c := range cols {
			if i < len(row) {
				obj[c.Name] = exampleValue(c.Type, row[i])
			}
		}
		rowExamples = append(rowExamples, obj)
	}
	firstValue := func(name string) any {
		for _, r := range rowExamples {
			if v, ok := r[name]; ok && v != nil {
				return v
			}
		}
		return nil
	}

	op := openapi3.NewOperation()
	op.OperationID = "listRecords"
	op.Summary = "Query the rows of " + d.Title
	op.Description = "Equality, set, range, prefix and null filters on every field; all filters are AND-ed."
	op.Tags = []string{"records"}
	param := func(name, desc string, schema *openapi3.Schema, example any) *openapi3.Parameter {
		p := openapi3.NewQueryParameter(name).WithDescription(desc).WithSchema(schema)
		if example != nil {
			p.Example = example
		}
		return p
	}
	add := func(p *openapi3.Parameter) { op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: p}) }

	names := make([]any, 0, len(cols))
	for _, c := range cols {
		names = append(names, c.Name)
	}
	add(param("sort", "Fields to sort on, comma separated; `-` before a field sorts descending. Ties end in row order.", openapi3.NewStringSchema(), nil))
	add(param("fields", "Fields to return, comma separated: "+strings.Join(anyStrings(names), ", ")+".", openapi3.NewStringSchema(), nil))
	add(param("limit", "Rows per page.", openapi3.NewIntegerSchema().WithMin(1).WithMax(1000).WithDefault(100), nil))
	add(param("cursor", "The `next` value of the previous page.", openapi3.NewStringSchema(), nil))
	add(param("total", "Also count every matching row.", openapi3.NewBoolSchema().WithDefault(false), nil))
	add(param("format", "Output format; otherwise chosen by Accept.", openapi3.NewStringSchema().WithEnum("json", "csv", "ndjson"), nil))
	add(param("version", "Version number; this document describes version "+fmt.Sprint(v.Number)+".", openapi3.NewIntegerSchema().WithMin(1), nil))

	for _, c := range cols {
		ex := firstValue(c.Name)
		label := fmt.Sprintf("%s (%s)", c.Name, c.Type)
		if c.Description != "" {
			label += ": " + c.Description
		}
		if !slices.Contains(ReservedParams, c.Name) {
			add(param(c.Name, "Rows whose "+label+" equals this.", valueSchema(c.Type), ex))
		}
		add(param(c.Name+"__eq", "Rows whose "+label+" equals this.", valueSchema(c.Type), nil))
		in := param(c.Name+"__in", "Rows whose "+label+" is one of these, comma separated.",
			openapi3.NewArraySchema().WithItems(valueSchema(c.Type)).WithMaxItems(100), nil)
		in.Style, in.Explode = openapi3.SerializationForm, openapi3.Ptr(false)
		add(in)
		if c.Type != datasets.TypeBoolean {
			for _, o := range []struct{ op, word string }{{"gt", "greater than"}, {"gte", "at least"}, {"lt", "less than"}, {"lte", "at most"}} {
				add(param(c.Name+"__"+o.op, "Rows whose "+label+" is "+o.word+" this.", valueSchema(c.Type), nil))
			}
		}
		if c.Type == datasets.TypeText {
			add(param(c.Name+"__prefix", "Rows whose "+label+" starts with this.", openapi3.NewStringSchema(), nil))
		}
		add(param(c.Name+"__null", "true: rows where "+c.Name+" is empty; false: where it is not.", openapi3.NewBoolSchema(), nil))
	}

	record := openapi3.NewObjectSchema()
	for _, c := range cols {
		s := valueSchema(c.Type)
		s.Nullable = true
		if c.Description != "" {
			s.Description = c.Description
		}
		record.WithProperty(c.Name, s)
	}
	fieldList := openapi3.NewArraySchema().WithItems(openapi3.NewObjectSchema().
		WithProperty("name", openapi3.NewStringSchema()).
		WithProperty("type", openapi3.NewStringSchema()))
	next := openapi3.NewStringSchema()
	next.Nullable = true
	page := openapi3.NewObjectSchema().
		WithProperty("fields", fieldList).
		WithProperty("records", openapi3.NewArraySchema().WithItems(record)).
		WithProperty("next", next).
		WithProperty("total", openapi3.NewInt64Schema())
	page.Required = []string{"fields", "records", "next"}
	if len(rowExamples) > 0 {
		fields := make([]any, 0, len(cols))
		for _, c := range cols {
			fields = append(fields, map[string]any{"name": c.Name, "type": string(c.Type)})
		}
		recs := make([]any, len(rowExamples))
		for i, r := range rowExamples {
			recs[i] = r
		}
		page.Example = map[string]any{"fields": fields, "records": recs, "next": nil}
	}
	problemContent := openapi3.NewContentWithSchemaRef(openapi3.NewSchemaRef("#/components/schemas/Problem", problem), []string{"application/problem+json"})
	op.Responses = openapi3.NewResponses(
		openapi3.WithStatus(200, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("One page of rows.").
			WithContent(openapi3.Content{
				"application/json":     openapi3.NewMediaType().WithSchema(page),
				"text/csv":             openapi3.NewMediaType().WithSchema(openapi3.NewStringSchema()),
				"application/x-ndjson": openapi3.NewMediaType().WithSchema(openapi3.NewStringSchema()),
			})}),
		openapi3.WithStatus(400, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("A field, operator or value is wrong; `errors` names each.").WithContent(problemContent)}),
		openapi3.WithStatus(401, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("The entry is conditionally open and the request has no valid key.").WithContent(problemContent)}),
		openapi3.WithStatus(404, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("No such entry or version.").WithContent(problemContent)}),
		openapi3.WithStatus(429, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("The records rate limit is spent; see Retry-After.").WithContent(problemContent)}),
	)
	// NewResponses adds a "default" response that we do not want.
	op.Responses.Delete("default")
	path := RecordsPath(d.Slug)
	doc.AddOperation(path, http.MethodGet, op)

	// Examples are checked against their schemas, so they must look like
	// decoded JSON, not like Go's typed row values.
	if err := normalizeJSON(doc); err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, datasets.Wrap(err, datasets.EINTERNAL, "the document of %s is invalid", d.Slug)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINTERNAL, "encoding the document of %s", d.Slug)
	}
	dd := &DatasetDoc{Doc: doc, JSON: b, route: &routers.Route{
		Spec: doc, Path: path, PathItem: doc.Paths.Value(path), Method: http.MethodGet, Operation: op,
	}}
	return dd, nil
}

// ValidateRecords checks the query string of a records request against the
// document: every declared parameter must parse as its type. Unknown
// parameters are left to the gateway's own parser, which names them.
func (dd *DatasetDoc) ValidateRecords(ctx context.Context, rawQuery string) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return datasets.Errorf(datasets.EINVALID, "the query string is malformed")
	}
	// One allocation for what the validator is given.
	v := &struct {
		req  http.Request
		u    url.URL
		in   openapi3filter.RequestValidationInput
		opts openapi3filter.Options
	}{}
	v.u = url.URL{Path: dd.route.Path, RawQuery: rawQuery}
	v.req = http.Request{Method: http.MethodGet, URL: &v.u, Header: http.Header{}}
	v.opts = openapi3filter.Options{MultiError: true, ExcludeRequestBody: true, SkipSettingDefaults: true}
	v.in = openapi3filter.RequestValidationInput{Request: &v.req, QueryParams: q, Route: dd.routeFor(q), Options: &v.opts}
	err = openapi3filter.ValidateRequest(ctx, &v.in)
	if err == nil {
		return nil
	}
	var problems []datasets.Problem
	collect(err, &problems)
	if len(problems) == 0 {
		problems = []datasets.Problem{{Message: "the request does not match the dataset's API document"}}
	}
	return &datasets.Error{Code: datasets.EINVALID, Message: "invalid records query: " + problems[0].String(), Problems: problems, Err: err}
}

// routeFor returns the records route with only the parameters a query
// carries, and the required ones. openapi3filter checks an absent optional
// parameter only to find it absent, and the records operation declares
// one parameter per field and operator (eight per field), so checking all
// of them made validation cost grow with the schema rather than with the
// request; the verdict is the same (TestValidateRecordsNarrowed).
// Declaration order is kept, so several problems come in the same order.
func (dd *DatasetDoc) routeFor(q url.Values) *routers.Route {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	// Each name with its length: decoded names may hold any separator.
	var sb strings.Builder
	for _, n := range names {
		sb.WriteString(strconv.Itoa(len(n)))
		sb.WriteByte(':')
		sb.WriteString(n)
	}
	shape := sb.String()
	dd.routesMu.Lock()
	r, ok := dd.routes[shape]
	dd.routesMu.Unlock()
	if ok {
		return r
	}
	r = dd.narrow(q)
	dd.routesMu.Lock()
	if dd.routes == nil {
		dd.routes = map[string]*routers.Route{}
	}
	if len(dd.routes) < maxRouteShapes {
		dd.routes[shape] = r
	}
	dd.routesMu.Unlock()
	return r
}

// narrow makes routeFor's route for q.
func (dd *DatasetDoc) narrow(q url.Values) *routers.Route {
	op := *dd.route.Operation
	op.Parameters = make(openapi3.Parameters, 0, len(q)+1)
	for _, p := range dd.route.Operation.Parameters {
		if p.Value == nil || p.Value.Required || p.Value.In != openapi3.ParameterInQuery || q.Has(p.Value.Name) {
			op.Parameters = append(op.Parameters, p)
		}
	}
	r := *dd.route
	r.Operation = &op
	return &r
}

func collect(err error, out *[]datasets.Problem) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, x := range e {
			collect(x, out)
		}
	case *openapi3filter.RequestError:
		p := datasets.Problem{Message: e.Reason}
		if e.Parameter != nil {
			p.Field = e.Parameter.Name
			// Name the field, not the operator parameter, like the
			// gateway's own parser does.
			if i := strings.LastIndex(p.Field, "__"); i > 0 && slices.Contains(filterOps, p.Field[i+2:]) {
				p.Field = p.Field[:i]
				p.Message = "(" + e.Parameter.Name + ") " + p.Message
			}
		}
		var se *openapi3.SchemaError
		if errors.As(e.Err, &se) && se.Reason != "" {
			p.Message = strings.TrimSpace(p.Message + " " + se.Reason)
		} else if p.Message == "" || e.Err != nil {
			p.Message = strings.TrimSpace(p.Message + " value does not match the field's type")
		}
		*out = append(*out, p)
	default:
		var re *openapi3filter.RequestError
		if errors.As(err, &re) {
			collect(re, out)
		}
	}
}

var filterOps = []string{"eq", "in", "gt", "gte", "lt", "lte", "prefix", "null"}

func valueSchema(t datasets.FieldType) *openapi3.Schema {
	switch t {
	case datasets.TypeInteger:
		return openapi3.NewInt64Schema()
	case datasets.TypeDecimal:
		return openapi3.NewFloat64Schema()
	case datasets.TypeBoolean:
		return openapi3.NewBoolSchema()
	case datasets.TypeDate:
		return openapi3.NewStringSchema().WithPattern(`^\d{4}-\d{2}-\d{2}`)
	case datasets.TypeDatetime:
		return openapi3.NewStringSchema().WithPattern(`^\d{4}-\d{2}-\d{2}`)
	}
	return openapi3.NewStringSchema()
}

func exampleValue(t datasets.FieldType, v any) any {
	switch x := v.(type) {
	case time.Time:
		if t == datasets.TypeDate {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339)
	case string:
		if r := []rune(x); len(r) > 200 {
			return string(r[:200])
		}
	}
	return v
}

func anyStrings(xs []any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprint(x)
	}
	return out
}

// normalizeJSON round-trips every example through JSON.
func normalizeJSON(doc *openapi3.T) error {
	for _, pi := range doc.Paths.Map() {
		for _, op := range pi.Operations() {
			for _, p := range op.Parameters {
				if p.Value.Example != nil {
					if err := roundTrip(&p.Value.Example); err != nil {
						return err
					}
				}
			}
			for _, r := range op.Responses.Map() {
				for _, mt := range r.Value.Content {
					if mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Example != nil {
						if err := roundTrip(&mt.Schema.Value.Example); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

func roundTrip(v *any) error {
	b, err := json.Marshal(*v)
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "encoding an example")
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "decoding an example")
	}
	*v = out
	return nil
}

func problemSchema() *openapi3.Schema {
	s := openapi3.NewObjectSchema().
		WithProperty("type", openapi3.NewStringSchema()).
		WithProperty("title", openapi3.NewStringSchema()).
		WithProperty("status", openapi3.NewIntegerSchema()).
		WithProperty("detail", openapi3.NewStringSchema()).
		WithProperty("instance", openapi3.NewStringSchema()).
		WithProperty("request_id", openapi3.NewStringSchema()).
		WithProperty("errors", openapi3.NewArraySchema().WithItems(openapi3.NewObjectSchema().
			WithProperty("field", openapi3.NewStringSchema()).
			WithProperty("message", openapi3.NewStringSchema())))
	s.Description = "RFC 9457 problem details."
	s.Required = []string{"type", "title", "status"}
	return s
}
