package gateway

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

func queryArgs(c *fiber.Ctx) []queryArg {
	var args []queryArg
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		args = append(args, queryArg{Key: string(k), Value: string(v)})
	})
	return args
}

// entryVersion resolves the version a request reads: the number asked for,
// or the entry's current one. Only ready versions exist for the public.
func (s *Server) entryVersion(c *fiber.Ctx, d *datasets.Dataset, number int) (*datasets.Version, error) {
	if number == 0 {
		if d.CurrentVersion == nil {
			return nil, datasets.Errorf(datasets.ENOTFOUND, "dataset %s has no published file yet", d.Slug)
		}
		number = d.CurrentVersion.Number
		if d.CurrentVersion.State == datasets.VersionReady && d.CurrentVersion.BlobKey != "" {
			return d.CurrentVersion, nil
		}
	}
	v, err := s.d.Catalog.Version(reqCtx(c), d.ID, number)
	if err != nil {
		return nil, err
	}
	if v.State != datasets.VersionReady || v.DatasetID != d.ID {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "dataset %s has no version %d", d.Slug, number)
	}
	return v, nil
}

// authorize admits anonymous callers to open entries, and asks the
// Authorizer about conditional ones (401 without one).
func (s *Server) authorize(c *fiber.Ctx, d *datasets.Dataset, mode datasets.AccessMode) error {
	if d.OpenClass == datasets.Open {
		return settleAddressLimit(c, false)
	}
	if d.OpenClass != datasets.Conditional {
		return datasets.Errorf(datasets.ENOTFOUND, "no such dataset")
	}
	if s.d.Authorizer == nil {
		return datasets.Errorf(datasets.EUNAUTHORIZED, "dataset %s is conditionally open: an approved application and an API key are required", d.Slug)
	}
	err := s.d.Authorizer.Authorize(c, d, mode)
	if lerr := settleAddressLimit(c, err == nil); lerr != nil {
		return lerr
	}
	return err
}

func columnsOf(v *datasets.Version) []datasets.Column {
	cols := make([]datasets.Column, len(v.Columns))
	for i, f := range v.Columns {
		cols[i] = datasets.Column{Name: f.Name, Type: f.Type}
	}
	return cols
}

func (s *Server) handleDatasetRecords(c *fiber.Ctx) error { return s.records(c, false) }

// records answers a records request. The entry comes from the entry cache
// unless fresh; an empty page read through a cached entry is checked
// against the catalogue once, because the row guard also empties the page
// of an entry closed or reclassified since it was cached: then the request
// is answered again from the catalogue (a 404 for an entry no longer public).
func (s *Server) records(c *fiber.Ctx, fresh bool) error {
	var d *datasets.Dataset
	var err error
	cached := false
	if fresh {
		d, err = s.publicDataset(c)
	} else {
		d, cached, err = s.cachedPublicDataset(c)
	}
	if err != nil {
		return err
	}
	if err := s.authorize(c, d, datasets.Query); err != nil {
		return err
	}
	args := queryArgs(c)
	number, err := cursorVersion(args)
	if err != nil {
		return err
	}
	if number == 0 {
		if number, err = versionParam(c); err != nil {
			return err
		}
	}
	v, err := s.entryVersion(c, d, number)
	if err != nil {
		return err
	}
	if !v.Tabular() {
		return datasets.Errorf(datasets.EINVALID, "version %d of %s is not tabular: it has no records, only a download", v.Number, d.Slug)
	}
	doc, err := s.datasetDoc(c, d, v)
	if err != nil {
		return err
	}
	if err := doc.ValidateRecords(reqCtx(c), string(c.Request().URI().QueryString())); err != nil {
		return err
	}
	q, err := parseRecordsQuery(args, columnsOf(v))
	if err != nil {
		return err
	}
	s.indexOnDemand(v, q.Rows)
	q.Rows.Guard = guardOf(d)
	page, err := s.d.Rows.QueryRows(reqCtx(c), v.RowTable, q.Rows)
	if err != nil {
		return err
	}
	if cached && len(page.Rows) == 0 && s.entryStale(c, d) {
		return s.records(c, true)
	}
	// Narrow and mask before anything is encoded (JSON, CSV, NDJSON and the
	// cursor alike), so no output path can see the stored values.
	if pf, ok := s.d.Authorizer.(PageFilter); ok && d.OpenClass == datasets.Conditional {
		pf.FilterPage(c, &page)
	}
	s.countUse(d.ID, 0, 1)
	next := ""
	if page.Next != nil {
		if next, err = encodeCursor(v.Number, q.sortKey, page.Next); err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "encoding the cursor")
		}
		c.Set("X-Next-Cursor", next)
		c.Append(fiber.HeaderLink, "<"+nextURL(c, next)+">; rel=\"next\"")
	}
	if page.Total >= 0 && q.Rows.Total {
		c.Set("X-Total-Count", strconv.FormatInt(page.Total, 10))
	}
	c.Set("X-Dataset-Version", strconv.Itoa(v.Number))
	c.Vary(fiber.HeaderAccept)
	switch recordsFormat(c, q.Format) {
	case "csv":
		return writeRecordsCSV(c, page)
	case "ndjson":
		return writeRecordsNDJSON(c, page)
	}
	return writeRecordsJSON(c, page, next, q.Rows.Total)
}

func nextURL(c *fiber.Ctx, cursor string) string {
	args := c.Context().QueryArgs()
	var b strings.Builder
	b.WriteString(c.Path())
	b.WriteByte('?')
	first := true
	args.VisitAll(func(k, v []byte) {
		if string(k) == "cursor" {
			return
		}
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(queryEscape(string(k)))
		b.WriteByte('=')
		b.WriteString(queryEscape(string(v)))
	})
	if !first {
		b.WriteByte('&')
	}
	b.WriteString("cursor=" + cursor)
	return b.String()
}

func recordsFormat(c *fiber.Ctx, asked string) string {
	if asked != "" {
		return asked
	}
	switch c.Accepts(fiber.MIMEApplicationJSON, "text/csv", "application/x-ndjson") {
	case "text/csv":
		return "csv"
	case "application/x-ndjson":
		return "ndjson"
	}
	return "json"
}

// cellValue renders one typed value for JSON: dates as YYYY-MM-DD,
// date-times as RFC 3339.
func cellValue(t datasets.FieldType, v any) any {
	if tm, ok := v.(time.Time); ok {
		if t == datasets.TypeDate {
			return tm.Format(time.DateOnly)
		}
		return tm.Format(time.RFC3339)
	}
	return v
}

func cellText(t datasets.FieldType, v any) string {
	switch x := cellValue(t, v).(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func writeRecordsJSON(c *fiber.Ctx, page datasets.RowPage, next string, withTotal bool) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	fields, err := jsonMarshal(page.Columns)
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "encoding records")
	}
	bp := recordBufs.Get().(*[]byte)
	defer putRecordBuf(bp)
	b := append((*bp)[:0], `{"fields":`...)
	b = append(b, fields[:len(fields)-1]...)
	b = append(b, `,"records":[`...)
	keys := jsonKeys(page.Columns)
	for i, row := range page.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendRecordObject(b, keys, page.Columns, row); err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "encoding records")
		}
	}
	b = append(b, `],"next":`...)
	if next == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, next)
	}
	if withTotal {
		b = append(b, `,"total":`...)
		b = strconv.AppendInt(b, page.Total, 10)
	}
	b = append(b, "}\n"...)
	*bp = b
	c.Response().SetBody(b) // a copy into fasthttp's pooled body buffer
	return nil
}

// recordBufs keeps the buffers records pages are encoded into: a page is
// built in one and copied into the response, so a request allocates no
// buffer of its own (a tenth of a keyed request's allocated bytes before).
var recordBufs = sync.Pool{New: func() any { return new([]byte) }}

func putRecordBuf(bp *[]byte) {
	if cap(*bp) <= 1<<20 {
		recordBufs.Put(bp)
	}
}

func writeRecordsNDJSON(c *fiber.Ctx, page datasets.RowPage) error {
	c.Set(fiber.HeaderContentType, "application/x-ndjson; charset=utf-8")
	bp := recordBufs.Get().(*[]byte)
	defer putRecordBuf(bp)
	b := (*bp)[:0]
	keys := jsonKeys(page.Columns)
	var err error
	for _, row := range page.Rows {
		if b, err = appendRecordObject(b, keys, page.Columns, row); err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "encoding records")
		}
		b = append(b, '\n')
	}
	*bp = b
	c.Response().SetBody(b)
	return nil
}

func writeRecordsCSV(c *fiber.Ctx, page datasets.RowPage) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	var buf strings.Builder
	w := csv.NewWriter(&buf)
	head := make([]string, len(page.Columns))
	for i, col := range page.Columns {
		head[i] = col.Name
	}
	w.Write(head)
	rec := make([]string, len(page.Columns))
	for _, row := range page.Rows {
		for i, col := range page.Columns {
			rec[i] = ""
			if i < len(row) {
				rec[i] = cellText(col.Type, row[i])
			}
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "encoding records")
	}
	return c.SendString(buf.String())
}

// versionParam reads the optional version= parameter (0 when absent: the
// current version).
func versionParam(c *fiber.Ctx) (int, error) {
	vs := c.Query("version")
	if vs == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(vs)
	if err != nil || n < 1 {
		return 0, invalidParam("version", "must be a positive integer")
	}
	return n, nil
}

// columnIndexer is implemented by row stores that can index a column.
type columnIndexer interface {
	IndexColumns(ctx context.Context, table string, cols []string) error
}

// indexMinRows is the table size from which a filtered or sorted column
// gets an index; smaller tables scan faster than they index.
const indexMinRows = 10000

// indexOnDemand indexes, in the background and once per process, each
// column a query filters or sorts on. Row tables are loaded without
// indexes because indexing every column made ingestion 3–4× slower
// (BENCHMARKS.md); the columns people actually query get one here.
func (s *Server) indexOnDemand(v *datasets.Version, q datasets.RowQuery) {
	ix, ok := s.d.Rows.(columnIndexer)
	if !ok || v.Rows < indexMinRows {
		return
	}
	var cols []string
	want := func(col string) {
		if _, done := s.indexed.LoadOrStore(v.RowTable+"\x00"+col, true); !done {
			cols = append(cols, col)
		}
	}
	for _, f := range q.Filters {
		want(f.Field)
	}
	for _, k := range q.Sort {
		want(k.Field)
	}
	if len(cols) == 0 {
		return
	}
	s.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := ix.IndexColumns(ctx, v.RowTable, cols); err != nil {
			s.log.Warn("indexing queried columns failed", "table", v.RowTable, "columns", cols, "err", err)
			for _, c := range cols {
				s.indexed.Delete(v.RowTable + "\x00" + c)
			}
		}
	})
}
