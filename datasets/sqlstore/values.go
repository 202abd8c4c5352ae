package sqlstore

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kaifang/datasets"
)

// cell converts v to the canonical Go value of a column of type ft: int64,
// float64, bool, time.Time (UTC; dates at midnight) or string, or nil.
// Strings are accepted for every type when they parse, since cursors and
// query strings arrive as text. The error message is client-safe.
func cell(ft datasets.FieldType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch ft {
	case datasets.TypeInteger:
		return toInt(v)
	case datasets.TypeDecimal:
		return toFloat(v)
	case datasets.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return b, nil
			}
		}
		return nil, typeErr(ft, v)
	case datasets.TypeDate:
		t, err := toTime(ft, v)
		if err != nil {
			return nil, err
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case datasets.TypeDatetime:
		t, err := toTime(ft, v)
		if err != nil {
			return nil, err
		}
		t = t.UTC().Truncate(timeUnit)
		if t.Year() < 1 || t.Year() > 9999 {
			return nil, fmt.Errorf("datetime %v is outside years 1–9999", v)
		}
		return t, nil
	case datasets.TypeText:
		s, ok := v.(string)
		if !ok {
			return nil, typeErr(ft, v)
		}
		// PostgreSQL refuses both; SQLite would keep them. Refuse on both.
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("text must be valid UTF-8 without NUL characters")
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown column type %q", ft)
}

func typeErr(ft datasets.FieldType, v any) error {
	s := fmt.Sprint(v)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Errorf("%q is not a valid %s", s, ft)
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), nil
		}
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x), nil
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return nil, typeErr(datasets.TypeInteger, v)
}

func toFloat(v any) (any, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return nil, typeErr(datasets.TypeDecimal, v)
		}
		f = n
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil, typeErr(datasets.TypeDecimal, v)
		}
		f = n
	default:
		n, err := toInt(v)
		if err != nil {
			return nil, typeErr(datasets.TypeDecimal, v)
		}
		f = float64(n.(int64))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("decimal must be finite")
	}
	return f, nil
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

func toTime(ft datasets.FieldType, v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		if x.Year() < 1 || x.Year() > 9999 {
			return time.Time{}, fmt.Errorf("%s %v is outside years 1–9999", ft, x)
		}
		return x, nil
	case string:
		x = strings.TrimSpace(x)
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, x); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, typeErr(ft, v)
}

// bind encodes a canonical value for the database: SQLite keeps booleans
// as 0/1 and times as fixed-width UTC text that sorts in time order.
func (d *dialect) bind(v any) any {
	if !d.timeAsText {
		return v
	}
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case time.Time:
		return x.Format(timeText)
	}
	return v
}

// bindCell is cell then bind; SQLite dates are stored as 2006-01-02.
func (d *dialect) bindCell(ft datasets.FieldType, v any) (any, error) {
	c, err := cell(ft, v)
	if err != nil || c == nil {
		return nil, err
	}
	if d.timeAsText && ft == datasets.TypeDate {
		return c.(time.Time).Format(time.DateOnly), nil
	}
	return d.bind(c), nil
}

// decode turns a scanned value back into the column's canonical Go value,
// so both databases answer with identical types.
func decode(ft datasets.FieldType, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		v = string(x)
	case time.Time:
		if ft == datasets.TypeDate {
			return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC), nil
		}
		return x.UTC(), nil
	}
	// A value the driver already gave in the column's Go type is returned
	// as it is, without boxing it again.
	switch ft {
	case datasets.TypeBoolean:
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return v, nil
		}
	case datasets.TypeText:
		if _, ok := v.(string); ok {
			return v, nil
		}
	case datasets.TypeInteger:
		if _, ok := v.(int64); ok {
			return v, nil
		}
	case datasets.TypeDecimal:
		if _, ok := v.(float64); ok {
			return v, nil
		}
	}
	return cell(ft, v)
}
