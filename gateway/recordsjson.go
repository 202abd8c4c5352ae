package gateway

import (
	"strconv"
	"time"

	"kaifang/datasets"
)

// Records are encoded by hand, one value at a time, because the records
// API's pages are small and many: encoding/json's reflection and one
// Encoder per value were a tenth of a request's CPU (BENCHMARKS.md). The
// output is byte for byte what jsonMarshal gives (HTML characters not
// escaped); anything the fast paths do not cover goes through jsonMarshal.

// jsonKeys returns each column's name as a JSON string followed by a colon.
func jsonKeys(cols []datasets.Column) [][]byte {
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		keys[i] = append(appendJSONString(nil, c.Name), ':')
	}
	return keys
}

// appendJSONString appends s as a JSON string, escaped as jsonMarshal
// escapes it (HTML characters not escaped).
func appendJSONString(b []byte, s string) []byte { return datasets.AppendJSONString(b, s, false) }

// appendCell appends one typed cell as JSON (cellValue's rendering).
func appendCell(b []byte, t datasets.FieldType, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		// encoding/json's own rule: 'f' between 1e-6 and 1e21.
		if a := abs(x); a == 0 || (a >= 1e-6 && a < 1e21) {
			return strconv.AppendFloat(b, x, 'f', -1, 64), nil
		}
	case time.Time:
		if t == datasets.TypeDate {
			b = append(b, '"')
			b = x.AppendFormat(b, time.DateOnly)
			return append(b, '"'), nil
		}
		b = append(b, '"')
		b = x.AppendFormat(b, time.RFC3339)
		return append(b, '"'), nil
	}
	enc, err := jsonMarshal(cellValue(t, v))
	if err != nil {
		return b, err
	}
	return append(b, enc[:len(enc)-1]...), nil
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// appendRecordObject appends one row as a JSON object whose keys keep the
// schema's order (a Go map would sort them).
func appendRecordObject(b []byte, keys [][]byte, cols []datasets.Column, row []any) ([]byte, error) {
	b = append(b, '{')
	var err error
	for i, col := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, keys[i]...)
		var v any
		if i < len(row) {
			v = row[i]
		}
		if b, err = appendCell(b, col.Type, v); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
