package datasets_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"kaifang/datasets"
)

// chainHashReflect is ChainHash as first written, with encoding/json: the
// hashes of every chain written before the hand-made encoder depend on
// ChainHash producing the same bytes.
func chainHashReflect(r *datasets.AuditRecord) string {
	canon := []any{r.Seq, r.At.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z"),
		r.KeyID, r.UserID, r.ApplicationID, r.GrantID, r.AgencyID, r.DatasetID, string(r.Mode),
		r.Fields, r.Filter, r.Rows, r.Status, r.RequestID, r.PrevHash}
	if r.Fields == nil {
		canon[9] = []string{}
	}
	b, _ := json.Marshal(canon)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func checkAuditEncoding(t *testing.T, r datasets.AuditRecord) {
	t.Helper()
	if got, want := r.ChainHash(), chainHashReflect(&r); got != want {
		t.Fatalf("ChainHash(%+v) = %s, encoding/json gives %s", r, got, want)
	}
	recs := []datasets.AuditRecord{r, r}
	recs[1].GrantID, recs[1].Filter, recs[1].RequestID, recs[1].Fields = "", "", "", nil
	want, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	if got := datasets.AppendAuditRecords(nil, recs); string(got) != string(want) {
		t.Fatalf("AppendAuditRecords =\n%s\nencoding/json:\n%s", got, want)
	}
	valid := true
	for _, s := range append([]string{r.KeyID, r.UserID, r.ApplicationID, r.GrantID, r.AgencyID, r.DatasetID, string(r.Mode),
		r.Filter, r.RequestID, r.PrevHash, r.Hash}, r.Fields...) {
		valid = valid && utf8.ValidString(s)
	}
	if !valid {
		return // JSON cannot carry invalid UTF-8: the store makes records valid first
	}
	var back []datasets.AuditRecord
	if err := json.Unmarshal(want, &back); err != nil || len(back) != 2 || back[0].ChainHash() != r.ChainHash() {
		t.Fatalf("records do not read back with their hash: %v", err)
	}
}

func TestAuditEncodingMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 28, 3, 30, 13, 839651000, time.UTC)
	for _, r := range []datasets.AuditRecord{
		{Seq: 1, At: at, KeyID: "k", UserID: "u", ApplicationID: "a", GrantID: "g", AgencyID: "ag", DatasetID: "d",
			Mode: datasets.Query, Fields: []string{"姓名", "mobile"}, Filter: "code=C1&name=王<b>&x=\"y\"\\", Rows: 10, Status: 200,
			RequestID: "r1", PrevHash: "", Hash: "h"},
		{Seq: 1 << 40, At: at.Add(-time.Hour * 24 * 400), Mode: datasets.Verify, Fields: []string{}, Rows: -1, Status: 403,
			Filter: "\x00\x1f\b\f\n\r\t\u2028\u2029\xff\xfe 😀", PrevHash: "p"},
		{Seq: 0, At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)), Fields: nil},
	} {
		checkAuditEncoding(t, r)
	}
}

func FuzzAuditEncoding(f *testing.F) {
	f.Add(int64(7), int64(1764300613839651), "code=C1&name=王", "姓名", "<script>&\u2028", 200)
	f.Add(int64(-1), int64(0), "\xff\x00", "", "\"\\", 0)
	f.Fuzz(func(t *testing.T, seq, micros int64, filter, field, key string, status int) {
		at := time.UnixMicro(micros % (250000 * 365 * 24 * 3600 * 1000000)) // years 0000-9999 only, as JSON times
		if at.Year() < 0 || at.Year() > 9999 {
			t.Skip()
		}
		checkAuditEncoding(t, datasets.AuditRecord{Seq: seq, At: at, KeyID: key, UserID: key + "u", ApplicationID: filter,
			GrantID: field, AgencyID: "ag", DatasetID: "ds", Mode: datasets.AccessMode(field), Fields: []string{field, key},
			Filter: filter, Rows: seq, Status: status, RequestID: key, PrevHash: filter, Hash: field})
	})
}

// BenchmarkAuditEncoding hashes and encodes a record like the gateway's
// (ids, a query string, granted fields): the work each keyed request adds
// to its group commit.
func BenchmarkAuditEncoding(b *testing.B) {
	r := datasets.AuditRecord{Seq: 123456, At: time.Date(2026, 11, 28, 13, 40, 1, 123456000, time.UTC),
		KeyID: "0b3c1f6e-6c1d-4d52-9a8e-3f0f2b7c9d11", UserID: "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910",
		ApplicationID: "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", GrantID: "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a",
		AgencyID: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d", DatasetID: "b8d7c8e0-c91d-4e9e-b0ca-89e4c8077c34",
		Mode: datasets.Query, Fields: []string{"code", "name", "mobile", "amount", "paid_on", "district"},
		Filter: "limit=10&fields=code,name,mobile,amount,paid_on,district&code=C04217", Rows: 10, Status: 200,
		RequestID: "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
		PrevHash:  "3f0c8d2e1b4a59687c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b"}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		r.Hash = r.ChainHash()
		buf = datasets.AppendAuditRecords(buf[:0], []datasets.AuditRecord{r})
	}
	b.SetBytes(int64(len(buf)))
}
