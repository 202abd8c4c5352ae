package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"kaifang/datasets"
)

//go:embed testdata/tw_dgpa_office_calendar_2026_utf8bom.csv
var fixtures embed.FS

// FixtureCSV returns a real open-data file (DGPA 2026 office calendar, see
// testdata/PROVENANCE.md) for tests that need realistic bytes.
func FixtureCSV(tb testing.TB) []byte {
	tb.Helper()
	b, err := fixtures.ReadFile("testdata/tw_dgpa_office_calendar_2026_utf8bom.csv")
	if err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	return b
}

// fixtureSHA256 is the checksum recorded for the fixture in the shared
// PROVENANCE.md, so a store that hashed the wrong bytes cannot pass.
const fixtureSHA256 = "0edd80d368626eb73caa05b6c33400ec9d87691b46834d03936efb91e6a0f00d"

// multipartSize is larger than two test parts (5 MiB) and not a multiple
// of one, so the last part is short.
const multipartSize = 11<<20 + 12345

// Generated returns n deterministic, non-repeating-looking bytes. The
// slice is shared between callers and must not be modified.
func Generated(n int) []byte {
	genMu.Lock()
	defer genMu.Unlock()
	if n > len(genBuf) {
		b := make([]byte, (n+7)&^7)
		x := uint64(0x9e3779b97f4a7c15)
		for i := 0; i < len(b); i += 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			binary.LittleEndian.PutUint64(b[i:], x)
		}
		genBuf = b
	}
	return genBuf[:n:n]
}

var (
	genMu  sync.Mutex
	genBuf []byte
)

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// Run checks the datasets.Blobs contract on the store open returns. open is
// called once; every case uses its own keys.
func Run(t *testing.T, open func(t *testing.T) datasets.Blobs) {
	s := open(t)
	ctx := context.Background()

	t.Run("ping", func(t *testing.T) {
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})

	t.Run("round trip of a real CSV with sha256", func(t *testing.T) {
		data := FixtureCSV(t)
		info := MustPut(t, s, "roundtrip/dgpa/2026.csv", data, int64(len(data)), "text/csv; charset=utf-8")
		if info.SHA256 != fixtureSHA256 {
			t.Errorf("Put SHA256 = %s, want %s", info.SHA256, fixtureSHA256)
		}
		if info.Size != int64(len(data)) || info.Key != "roundtrip/dgpa/2026.csv" {
			t.Errorf("Put info = %+v, want key and size %d", info, len(data))
		}
		got, ginfo := MustGet(t, s, "roundtrip/dgpa/2026.csv", 0, -1)
		if !bytes.Equal(got, data) {
			t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(data))
		}
		if ginfo.Size != int64(len(data)) {
			t.Errorf("Get info size = %d, want %d", ginfo.Size, len(data))
		}
		st, err := s.Stat(ctx, "roundtrip/dgpa/2026.csv")
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if st.Size != int64(len(data)) || st.ModTime.IsZero() || st.Key != "roundtrip/dgpa/2026.csv" {
			t.Errorf("Stat = %+v, want size %d and a modification time", st, len(data))
		}
		if st.SHA256 != "" && st.SHA256 != fixtureSHA256 {
			t.Errorf("Stat SHA256 = %s, want %s (or none)", st.SHA256, fixtureSHA256)
		}
		if st.ContentType != "" && st.ContentType != "text/csv; charset=utf-8" {
			t.Errorf("Stat content type = %q", st.ContentType)
		}
		if d := time.Since(st.ModTime); d > time.Hour || d < -time.Hour {
			t.Errorf("Stat ModTime %v is not about now", st.ModTime)
		}
	})

	sizes := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{'x'}},
		{"small", Generated(70000)},
		{"multipart", Generated(multipartSize)},
	}
	for _, tc := range sizes {
		for _, known := range []bool{true, false} {
			name := tc.name + " known size"
			size := int64(len(tc.data))
			if !known {
				name, size = tc.name+" unknown size", -1
			}
			t.Run(name, func(t *testing.T) {
				key := "sizes/" + strings.ReplaceAll(name, " ", "-") + ".bin"
				// A reader without WriterTo/ReaderAt/Seek, as a network body is.
				info, err := s.Put(ctx, key, onlyReader{bytes.NewReader(tc.data)}, size, "application/octet-stream")
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				if info.Size != int64(len(tc.data)) || info.SHA256 != sum(tc.data) {
					t.Errorf("Put = size %d sha %s, want %d %s", info.Size, info.SHA256, len(tc.data), sum(tc.data))
				}
				got, _ := MustGet(t, s, key, 0, -1)
				if !bytes.Equal(got, tc.data) {
					t.Errorf("Get returned %d bytes, want the %d put", len(got), len(tc.data))
				}
			})
		}
	}

	t.Run("ranges", func(t *testing.T) {
		data := Generated(multipartSize)
		MustPut(t, s, "ranges/big.bin", data, int64(len(data)), "")
		n := int64(len(data))
		cases := []struct {
			name           string
			offset, length int64
			want           []byte
		}{
			{"start", 0, 10, data[:10]},
			{"middle across a part boundary", 5<<20 - 7, 100, data[5<<20-7 : 5<<20+93]},
			{"end", n - 10, -1, data[n-10:]},
			{"length beyond end is clipped", n - 10, 1000, data[n-10:]},
			{"zero length", 50, 0, nil},
			{"offset at end is empty", n, -1, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, info := MustGet(t, s, "ranges/big.bin", c.offset, c.length)
				if !bytes.Equal(got, c.want) {
					t.Errorf("Get(%d,%d) = %d bytes, want %d", c.offset, c.length, len(got), len(c.want))
				}
				if info.Size != n {
					t.Errorf("Get info size = %d, want whole object %d", info.Size, n)
				}
			})
		}
		for _, c := range []struct {
			name           string
			offset, length int64
		}{{"past end", n + 1, -1}, {"far past end", n + 1<<30, 10}, {"negative offset", -1, 10}, {"negative length", 0, -2}} {
			t.Run(c.name, func(t *testing.T) {
				rc, _, err := s.Get(ctx, "ranges/big.bin", c.offset, c.length)
				if rc != nil {
					rc.Close()
				}
				MustCode(t, err, datasets.EINVALID)
			})
		}
	})

	t.Run("missing is ENOTFOUND", func(t *testing.T) {
		_, err := s.Stat(ctx, "missing/nothing.csv")
		MustCode(t, err, datasets.ENOTFOUND)
		rc, _, err := s.Get(ctx, "missing/nothing.csv", 0, -1)
		if rc != nil {
			rc.Close()
		}
		MustCode(t, err, datasets.ENOTFOUND)
	})

	t.Run("delete", func(t *testing.T) {
		MustPut(t, s, "delete/a.csv", []byte("a,b\n1,2\n"), -1, "text/csv")
		if err := s.Delete(ctx, "delete/a.csv"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, err := s.Stat(ctx, "delete/a.csv")
		MustCode(t, err, datasets.ENOTFOUND)
		if err := s.Delete(ctx, "delete/a.csv"); err != nil {
			t.Errorf("Delete of a deleted key: %v", err)
		}
		if err := s.Delete(ctx, "delete/never/was.csv"); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
	})

	t.Run("bad keys are EINVALID", func(t *testing.T) {
		bad := []string{"", "/abs/path", "a/../b", "..", "../escape", "a//b", "a/", "./a", "a/./b",
			`a\b`, `..\..\windows`, "a b", "數據.csv", "a\x00b", ".tmp/x", "a?b", "a%2e%2e", strings.Repeat("a", 1025)}
		for _, key := range bad {
			t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
				_, err := s.Put(ctx, key, strings.NewReader("x"), 1, "")
				MustCode(t, err, datasets.EINVALID)
				rc, _, err := s.Get(ctx, key, 0, -1)
				if rc != nil {
					rc.Close()
				}
				MustCode(t, err, datasets.EINVALID)
				_, err = s.Stat(ctx, key)
				MustCode(t, err, datasets.EINVALID)
				MustCode(t, s.Delete(ctx, key), datasets.EINVALID)
			})
		}
	})

	t.Run("overwrite replaces the object", func(t *testing.T) {
		MustPut(t, s, "overwrite/x.csv", []byte("version 1"), -1, "text/plain")
		v2 := Generated(4096)
		info := MustPut(t, s, "overwrite/x.csv", v2, int64(len(v2)), "application/octet-stream")
		got, _ := MustGet(t, s, "overwrite/x.csv", 0, -1)
		if !bytes.Equal(got, v2) || info.SHA256 != sum(v2) {
			t.Errorf("after overwrite Get = %q…, want version 2", got[:min(len(got), 16)])
		}
	})

	errBoom := errors.New("upstream connection reset")
	for _, tc := range []struct {
		name string
		size int64
		good int
	}{
		{"known size single part", 1 << 20, 100 << 10},
		{"known size multipart", multipartSize, 6 << 20},
		{"unknown size multipart", -1, 6 << 20},
		{"unknown size first part", -1, 100 << 10},
	} {
		t.Run("reader failing midway "+tc.name, func(t *testing.T) {
			prev := []byte("the previous version\n")
			MustPut(t, s, "failing/kept.csv", prev, -1, "text/csv")
			r := &failingReader{data: Generated(tc.good), err: errBoom}
			_, err := s.Put(ctx, "failing/kept.csv", r, tc.size, "text/csv")
			if !errors.Is(err, errBoom) {
				t.Fatalf("Put with a failing reader = %v, want an error wrapping %v", err, errBoom)
			}
			got, _ := MustGet(t, s, "failing/kept.csv", 0, -1)
			if !bytes.Equal(got, prev) {
				t.Errorf("after a failed Put the object is %d bytes, want the previous %d", len(got), len(prev))
			}
			r = &failingReader{data: Generated(tc.good), err: errBoom}
			_, err = s.Put(ctx, "failing/new.csv", r, tc.size, "text/csv")
			if !errors.Is(err, errBoom) {
				t.Fatalf("Put with a failing reader = %v, want an error wrapping %v", err, errBoom)
			}
			_, err = s.Stat(ctx, "failing/new.csv")
			MustCode(t, err, datasets.ENOTFOUND)
		})
	}

	t.Run("body shorter than size is EINVALID and stores nothing", func(t *testing.T) {
		_, err := s.Put(ctx, "mismatch/short.csv", onlyReader{bytes.NewReader(Generated(50))}, 100, "")
		MustCode(t, err, datasets.EINVALID)
		_, err = s.Stat(ctx, "mismatch/short.csv")
		MustCode(t, err, datasets.ENOTFOUND)
	})
	t.Run("body longer than size is EINVALID and stores nothing", func(t *testing.T) {
		_, err := s.Put(ctx, "mismatch/long.csv", onlyReader{bytes.NewReader(Generated(150))}, 100, "")
		MustCode(t, err, datasets.EINVALID)
		_, err = s.Stat(ctx, "mismatch/long.csv")
		MustCode(t, err, datasets.ENOTFOUND)
	})

	for _, tc := range []struct {
		name string
		size int64
	}{{"known size", 12 << 20}, {"unknown size", -1}} {
		t.Run("context cancelled midway "+tc.name, func(t *testing.T) {
			prev := []byte("kept\n")
			MustPut(t, s, "cancel/kept.bin", prev, -1, "")
			for _, key := range []string{"cancel/kept.bin", "cancel/new.bin"} {
				cctx, cancel := context.WithCancel(ctx)
				r := &cancellingReader{data: Generated(12 << 20), at: 6 << 20, cancel: cancel}
				_, err := s.Put(cctx, key, r, tc.size, "")
				cancel()
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Put with a cancelled context = %v, want context.Canceled", err)
				}
			}
			got, _ := MustGet(t, s, "cancel/kept.bin", 0, -1)
			if !bytes.Equal(got, prev) {
				t.Errorf("after a cancelled Put the object is %d bytes, want the previous %d", len(got), len(prev))
			}
			_, err := s.Stat(ctx, "cancel/new.bin")
			MustCode(t, err, datasets.ENOTFOUND)
		})
	}
	t.Run("context cancelled before Put", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Put(cctx, "cancel/early.bin", strings.NewReader("x"), 1, "")
		if err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
		_, err = s.Stat(ctx, "cancel/early.bin")
		MustCode(t, err, datasets.ENOTFOUND)
	})
}

// MustPut stores data under key or fails the test.
func MustPut(tb testing.TB, s datasets.Blobs, key string, data []byte, size int64, contentType string) datasets.BlobInfo {
	tb.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(data), size, contentType)
	if err != nil {
		tb.Fatalf("Put %s: %v", key, err)
	}
	return info
}

// MustGet reads a range of key or fails the test.
func MustGet(tb testing.TB, s datasets.Blobs, key string, offset, length int64) ([]byte, datasets.BlobInfo) {
	tb.Helper()
	rc, info, err := s.Get(context.Background(), key, offset, length)
	if err != nil {
		tb.Fatalf("Get %s [%d,%d]: %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("reading %s: %v", key, err)
	}
	return b, info
}

// MustCode fails the test unless err carries code.
func MustCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if !datasets.IsCode(err, code) {
		tb.Fatalf("error = %v (code %q), want %s", err, datasets.ErrorCode(err), code)
	}
}

// onlyReader hides every interface but io.Reader.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// failingReader yields data and then err, as a dropped upload does.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// cancellingReader cancels the request's context once at bytes are read,
// as a client hanging up mid-upload does, and keeps serving bytes.
type cancellingReader struct {
	data   []byte
	at     int
	read   int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	c.read += n
	if c.read >= c.at {
		c.cancel()
	}
	return n, nil
}
