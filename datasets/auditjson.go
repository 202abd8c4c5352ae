package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"
)

// The audit chain is encoded twice per record on the hot path: once to
// hash it (ChainHash) and once to store it (AppendAuditRecords). Both
// produced their bytes with encoding/json, whose reflection over a []any
// cost more gateway CPU than masking the rows. The encoders below write
// exactly the bytes encoding/json writes for the same values (a fuzz test
// compares them), so hashes of records written before are unchanged.

// ChainHash returns the hash a record must carry: SHA-256 over the previous
// record's hash and every other field, in a fixed encoding (the JSON array
// [seq, at, key, user, application, grant, agency, dataset, mode, fields,
// filter, rows, status, request id, previous hash]). Times are taken at
// microsecond precision, which every store keeps.
func (r *AuditRecord) ChainHash() string {
	var buf [1024]byte // a gateway's record is about 600 bytes: no heap
	b := append(buf[:0], '[')
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, ',', '"')
	b = r.At.UTC().Truncate(time.Microsecond).AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, '"')
	for _, s := range [...]string{r.KeyID, r.UserID, r.ApplicationID, r.GrantID, r.AgencyID, r.DatasetID, string(r.Mode)} {
		b = append(b, ',')
		b = AppendJSONString(b, s, true)
	}
	b = append(b, ',')
	b = appendJSONStrings(b, r.Fields, "[]")
	b = append(b, ',')
	b = AppendJSONString(b, r.Filter, true)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.Rows, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ',')
	b = AppendJSONString(b, r.RequestID, true)
	b = append(b, ',')
	b = AppendJSONString(b, r.PrevHash, true)
	b = append(b, ']')
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// AppendAuditRecords appends recs as the JSON array encoding/json.Marshal
// makes of them (AuditRecord's field tags, omitempty included).
func AppendAuditRecords(b []byte, recs []AuditRecord) []byte {
	b = append(b, '[')
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		r := &recs[i]
		b = append(b, `{"seq":`...)
		b = strconv.AppendInt(b, r.Seq, 10)
		b = append(b, `,"at":"`...)
		b = r.At.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","key_id":`...)
		b = AppendJSONString(b, r.KeyID, true)
		b = append(b, `,"user_id":`...)
		b = AppendJSONString(b, r.UserID, true)
		b = append(b, `,"application_id":`...)
		b = AppendJSONString(b, r.ApplicationID, true)
		if r.GrantID != "" {
			b = append(b, `,"grant_id":`...)
			b = AppendJSONString(b, r.GrantID, true)
		}
		b = append(b, `,"agency_id":`...)
		b = AppendJSONString(b, r.AgencyID, true)
		b = append(b, `,"dataset_id":`...)
		b = AppendJSONString(b, r.DatasetID, true)
		b = append(b, `,"mode":`...)
		b = AppendJSONString(b, string(r.Mode), true)
		b = append(b, `,"fields":`...)
		b = appendJSONStrings(b, r.Fields, "null")
		if r.Filter != "" {
			b = append(b, `,"filter":`...)
			b = AppendJSONString(b, r.Filter, true)
		}
		b = append(b, `,"rows":`...)
		b = strconv.AppendInt(b, r.Rows, 10)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
		if r.RequestID != "" {
			b = append(b, `,"request_id":`...)
			b = AppendJSONString(b, r.RequestID, true)
		}
		b = append(b, `,"prev_hash":`...)
		b = AppendJSONString(b, r.PrevHash, true)
		b = append(b, `,"hash":`...)
		b = AppendJSONString(b, r.Hash, true)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONStrings appends ss as a JSON array of strings, or ifNil for a
// nil slice.
func appendJSONStrings(b []byte, ss []string, ifNil string) []byte {
	if ss == nil {
		return append(b, ifNil...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, s, true)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// jsonSafe and jsonHTMLSafe say which ASCII bytes AppendJSONString writes
// as they are: one lookup a byte instead of five comparisons.
var jsonSafe, jsonHTMLSafe = func() (plain, html [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		plain[c] = c >= 0x20 && c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}()

// AppendJSONString appends s as a quoted JSON string, escaped exactly as
// encoding/json escapes it: ", \ and control characters, U+2028 and
// U+2029, and with escapeHTML (json.Marshal's default) also <, > and &;
// invalid UTF-8 becomes U+FFFD. It is the one JSON string encoder of the
// hand-written encoders (audit records, records pages, JSON downloads).
func AppendJSONString(b []byte, s string, escapeHTML bool) []byte {
	safe := &jsonSafe
	if escapeHTML {
		safe = &jsonHTMLSafe
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
