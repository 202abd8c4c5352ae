package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
)

func TestExactReader(t *testing.T) {
	data := []byte("地區,2024年\n北京,2183\n")
	want := sha256.Sum256(data)
	cases := []struct {
		name string
		size int64
		code string // "" for success
	}{
		{"exact", int64(len(data)), ""},
		{"unknown size", -1, ""},
		{"shorter than announced", int64(len(data)) + 1, datasets.EINVALID},
		{"longer than announced", int64(len(data)) - 1, datasets.EINVALID},
		{"announced empty", 0, datasets.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			er := &exactReader{r: iotestOneByte{bytes.NewReader(data)}, remaining: c.size, h: sha256.New()}
			var sink bytes.Buffer
			_, err := io.Copy(&sink, er)
			if c.code == "" {
				if err != nil {
					t.Fatalf("copy: %v", err)
				}
				if !bytes.Equal(sink.Bytes(), data) || hex.EncodeToString(er.h.Sum(nil)) != hex.EncodeToString(want[:]) || er.n != int64(len(data)) {
					t.Errorf("got %q, n=%d", sink.Bytes(), er.n)
				}
				return
			}
			if !datasets.IsCode(err, c.code) {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			if c.size > 0 && int64(sink.Len()) >= c.size {
				t.Errorf("all %d announced bytes were handed over before the error; the server could have completed the object", sink.Len())
			}
		})
	}
}

// iotestOneByte reads one byte at a time, the worst case for boundaries.
type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestExactReaderPassesReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	er := &exactReader{r: io.MultiReader(strings.NewReader("abc"), errReader{boom}), remaining: 10, h: sha256.New()}
	_, err := io.Copy(io.Discard, er)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestOpenLocalRemovesOnlyStaleUploads(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(l.tmp, "put-stale")
	fresh := filepath.Join(l.tmp, "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half a file"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLocal(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("upload left two hours ago still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("upload from a moment ago was removed (a live Put may own it): %v", err)
	}
}

func TestValidKeyNeverEscapesRoot(t *testing.T) {
	for _, k := range []string{"a", "a/b.csv", "2026/01/x_y-z.CSV", "..a", "a..", ".hidden", "a/.tmp"} {
		if err := ValidKey(k); err != nil {
			t.Errorf("ValidKey(%q) = %v, want ok", k, err)
		}
	}
}

func FuzzValidKey(f *testing.F) {
	for _, s := range []string{"a/b.csv", "../x", "/etc/passwd", `a\..\b`, "a//b", ".tmp/x", "數據/文件.csv", "a/./b", "..", "a/b/", "x%2F..", "\x00"} {
		f.Add(s)
	}
	root := filepath.Join(string(filepath.Separator), "srv", "blobs")
	f.Fuzz(func(t *testing.T, key string) {
		if ValidKey(key) != nil {
			return
		}
		p := filepath.Join(root, filepath.FromSlash(key))
		rel, err := filepath.Rel(root, p)
		// "..0" is a name inside the root; only ".." itself or a "../" prefix climbs out.
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			t.Fatalf("accepted key %q escapes or names the root: %q", key, p)
		}
		if rel != filepath.FromSlash(key) {
			t.Fatalf("accepted key %q is not already clean: %q", key, rel)
		}
		if strings.HasPrefix(rel, reservedPrefix+string(filepath.Separator)) || rel == reservedPrefix {
			t.Fatalf("accepted key %q lands in the temp directory", key)
		}
	})
}

func TestParseS3URL(t *testing.T) {
	good := []struct {
		raw  string
		want S3Config
	}{
		{"s3://minioadmin:minioadmin@127.0.0.1:9100/kaifang-test?secure=false",
			S3Config{Endpoint: "127.0.0.1:9100", AccessKey: "minioadmin", SecretKey: "minioadmin", Bucket: "kaifang-test", Region: "us-east-1", PartSize: DefaultPartSize}},
		{"s3://AK:s%2Fe%40c@s3.example.org/data?region=cn-north-1&part_size_mb=64",
			S3Config{Endpoint: "s3.example.org", AccessKey: "AK", SecretKey: "s/e@c", Bucket: "data", Secure: true, Region: "cn-north-1", PartSize: 64 << 20}},
	}
	for _, g := range good {
		t.Run(g.raw, func(t *testing.T) {
			c, err := ParseS3URL(g.raw)
			if err != nil {
				t.Fatal(err)
			}
			if c != g.want {
				t.Errorf("ParseS3URL = %+v, want %+v", c, g.want)
			}
		})
	}
	c, err := ParseS3URL("s3://k:s@minio:9000/bkt1?public_endpoint=https://files.example.org")
	if err != nil || c.PublicEndpoint == nil || c.PublicEndpoint.Host != "files.example.org" {
		t.Errorf("public_endpoint not parsed: %+v, %v", c, err)
	}
	bad := map[string]string{
		"no credentials":    "s3://127.0.0.1:9100/b",
		"no secret":         "s3://key@127.0.0.1:9100/b",
		"no bucket":         "s3://k:topsecret@127.0.0.1:9100/",
		"bad bucket":        "s3://k:topsecret@127.0.0.1:9100/Bad_Bucket",
		"nested bucket":     "s3://k:topsecret@127.0.0.1:9100/a/b",
		"bad secure":        "s3://k:topsecret@127.0.0.1:9100/b?secure=maybe",
		"part too small":    "s3://k:topsecret@127.0.0.1:9100/b?part_size_mb=4",
		"part not a number": "s3://k:topsecret@127.0.0.1:9100/b?part_size_mb=x",
		"bad public":        "s3://k:topsecret@127.0.0.1:9100/b?public_endpoint=ftp://x",
		"bad port":          "s3://k:topsecret@127.0.0.1:99999/b",
		"wrong scheme":      "http://k:topsecret@127.0.0.1:9100/b",
		"no host":           "s3://k:topsecret@/b",
	}
	for name, raw := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseS3URL(raw)
			if !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("ParseS3URL(%q) = %v, want EINVALID", raw, err)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}

func FuzzParseS3URL(f *testing.F) {
	for _, s := range []string{
		"s3://minioadmin:minioadmin@127.0.0.1:9100/kaifang-test?secure=false",
		"s3://a:b@h/bkt?part_size_mb=5&region=x&public_endpoint=http://p:1",
		"s3://a:b@[::1]:9000/bkt", "s3://:@/", "s3://a:b@h:0/x", "s3://%zz", "file:///x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseS3URL(raw)
		if err != nil {
			if !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if c.AccessKey == "" || c.SecretKey == "" || c.Bucket == "" || c.Endpoint == "" {
			t.Fatalf("accepted %q with a missing part: %+v", raw, c)
		}
		if c.PartSize < minPartSize || c.PartSize > maxPartSize {
			t.Fatalf("accepted part size %d", c.PartSize)
		}
	})
}

func TestParseFileURL(t *testing.T) {
	cases := map[string]string{
		"file:///var/lib/kaifang/blobs":  "/var/lib/kaifang/blobs",
		"file://data/blobs":              "data/blobs",
		"file://./data/blobs":            "./data/blobs",
		"file:///srv/%E6%95%B8%E6%93%9A": "/srv/數據",
	}
	for in, want := range cases {
		got, err := parseFileURL(in)
		if err != nil || got != filepath.FromSlash(want) {
			t.Errorf("parseFileURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"file://", "file://%zz", "file://a%00b"} {
		if _, err := parseFileURL(in); !datasets.IsCode(err, datasets.EINVALID) {
			t.Errorf("parseFileURL(%q) = %v, want EINVALID", in, err)
		}
	}
}

func FuzzParseFileURL(f *testing.F) {
	for _, s := range []string{"file:///a/b", "file://rel", "file://%zz", "file://a?x=1#f", "file://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := parseFileURL("file://" + raw)
		if err == nil && (p == "" || strings.ContainsRune(p, 0)) {
			t.Fatalf("accepted unusable directory %q", p)
		}
	})
}

func TestContentDisposition(t *testing.T) {
	cases := map[string]string{
		"population.csv":  `attachment; filename=population.csv`,
		"分省年度數據.csv":      `attachment; filename*=utf-8''%E5%88%86%E7%9C%81%E5%B9%B4%E5%BA%A6%E6%95%B8%E6%93%9A.csv`,
		"a\r\nSet-Cookie": `attachment; filename=a__Set-Cookie`,
		`../../x".csv`:    `attachment; filename=".._.._x\".csv"`,
	}
	for in, want := range cases {
		if got := ContentDisposition(in); got != want {
			t.Errorf("ContentDisposition(%q) = %q, want %q", in, got, want)
		}
	}
}
