package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"
)

// timeScan reads a timestamp stored either as time.Time (PostgreSQL) or as
// fixed-width UTC text (SQLite); NULL leaves valid false.
type timeScan struct {
	t     time.Time
	valid bool
}

func (s *timeScan) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s = timeScan{}
		return nil
	case time.Time:
		*s = timeScan{x.UTC(), true}
		return nil
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	}
	return fmt.Errorf("cannot scan %T into a timestamp", v)
}

func (s *timeScan) parse(x string) error {
	t, err := time.Parse(time.RFC3339Nano, x)
	if err != nil {
		return err
	}
	*s = timeScan{t.UTC(), true}
	return nil
}

func (s timeScan) ptr() *time.Time {
	if !s.valid {
		return nil
	}
	t := s.t
	return &t
}

// jsonScan decodes a JSON column (TEXT on SQLite, JSONB on PostgreSQL) into dst.
type jsonScan struct{ dst any }

func (s jsonScan) Scan(v any) error {
	var b []byte
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return fmt.Errorf("cannot scan %T as JSON", v)
	}
	return json.Unmarshal(b, s.dst)
}

// jsonText encodes v for a JSON column; nil slices become [].
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return "[]"
	}
	return string(b)
}
