package gateway

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/datasets/tabular"
)

// conversion is one on-the-fly output format of a tabular version.
type conversion struct {
	ext, mediaType string
	write          func(w io.Writer, cols []datasets.Column, src datasets.RowSource, bom bool) error
}

var conversions = map[string]conversion{
	"csv": {".csv", "text/csv; charset=utf-8", func(w io.Writer, cols []datasets.Column, src datasets.RowSource, bom bool) error {
		return tabular.WriteCSV(w, cols, src, bom)
	}},
	"json": {".json", "application/json; charset=utf-8", func(w io.Writer, cols []datasets.Column, src datasets.RowSource, _ bool) error {
		return tabular.WriteJSON(w, cols, src)
	}},
	"ndjson": {".ndjson", "application/x-ndjson; charset=utf-8", func(w io.Writer, cols []datasets.Column, src datasets.RowSource, _ bool) error {
		return tabular.WriteNDJSON(w, cols, src)
	}},
	"xlsx": {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", func(w io.Writer, cols []datasets.Column, src datasets.RowSource, _ bool) error {
		return tabular.WriteXLSX(w, cols, src)
	}},
}

// convertPage is how many rows a conversion reads from the row store at a time.
const convertPage = 1000

// rowPager reads a whole row table in keyset pages, so a conversion holds
// one page in memory however large the table is.
type rowPager struct {
	ctx   context.Context
	rows  datasets.Rows
	table string
	cols  []datasets.Column
	page  [][]any
	after []any
	done  bool
}

func (p *rowPager) Next() ([]any, error) {
	for len(p.page) == 0 {
		if p.done {
			return nil, io.EOF
		}
		res, err := p.rows.QueryRows(p.ctx, p.table, datasets.RowQuery{Columns: p.cols, Limit: convertPage, After: p.after})
		if err != nil {
			return nil, err
		}
		p.page, p.after = res.Rows, res.Next
		p.done = res.Next == nil
	}
	row := p.page[0]
	p.page = p.page[1:]
	return row, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// serveConverted streams v converted; a non-nil shape (a bulk grant)
// narrows and masks every row, and makes the tag the grant's own.
func (s *Server) serveConverted(c *fiber.Ctx, d *datasets.Dataset, v *datasets.Version, conv conversion, bom bool, shape *grantShape) error {
	tag := conv.ext[1:]
	if bom {
		tag += "-bom"
	}
	if shape != nil {
		tag += "-" + shape.g.ID
	}
	// The conversion of an immutable version is itself immutable, so it can
	// be validated like the original, with the format in the tag.
	etag := `"` + v.SHA256 + "-" + tag + `"`
	mod := versionTime(v)
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderLastModified, mod.Format(http.TimeFormat))
	c.Set(fiber.HeaderAcceptRanges, "none")
	c.Set(fiber.HeaderCacheControl, "public, no-cache")
	c.Set(fiber.HeaderContentDisposition, contentDisposition(d.Title, d.Slug, conv.ext))
	c.Set("X-Dataset-Version", strconv.Itoa(v.Number))
	if notModified(c, etag, mod) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	c.Set(fiber.HeaderContentType, conv.mediaType)
	if c.Method() == fiber.MethodHead {
		c.Response().SkipBody = true
		return nil
	}
	s.countUse(d.ID, 1, 0)
	cols, table, id, reqID := columnsOf(v), v.RowTable, d.ID, requestID(c)
	outCols := cols
	if shape != nil {
		outCols = shape.cols
	}
	route := c.Route().Path
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		cw := &countingWriter{w: w}
		var src datasets.RowSource = &rowPager{ctx: ctx, rows: s.d.Rows, table: table, cols: cols}
		if shape != nil {
			src = shape.source(src)
		}
		err := conv.write(cw, outCols, src, bom)
		if err == nil {
			err = w.Flush()
		}
		s.metrics.bytes.WithLabelValues(route).Add(float64(cw.n))
		if err != nil {
			// The head is sent; all that is left is to log and cut the stream.
			s.log.Error("conversion failed mid-stream", "request_id", reqID, "dataset", id, "version", v.Number, "err", err)
		}
	})
	return nil
}
