package blobtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"kaifang/datasets"
	"kaifang/datasets/blob"
)

// EnvS3 names the variable holding the test MinIO/S3 URL.
const EnvS3 = "KAIFANG_TEST_S3"

// TestPartSizeMB is the part size test stores use, the S3 minimum, so
// multipart paths run with small objects.
const TestPartSizeMB = 5

// Backend is one store implementation for tests.
type Backend struct {
	Name string
	Open func(t *testing.T) datasets.Blobs
}

// Backends returns the local store (always) and S3 (its Open skips with one
// line naming KAIFANG_TEST_S3 when that is unset). Each Open gives a new,
// empty store that is removed when the test ends.
func Backends(t *testing.T) []Backend {
	t.Helper()
	return []Backend{
		{Name: "local", Open: func(t *testing.T) datasets.Blobs { return MustOpenLocal(t) }},
		{Name: "s3", Open: func(t *testing.T) datasets.Blobs { return MustOpenS3(t) }},
	}
}

// MustOpenLocal opens a Local store in a fresh temporary directory.
func MustOpenLocal(tb testing.TB) *blob.Local {
	tb.Helper()
	l, err := blob.OpenLocal(tb.TempDir())
	if err != nil {
		tb.Fatalf("OpenLocal: %v", err)
	}
	return l
}

// MustOpenS3 opens an S3 store on a fresh bucket, or skips when
// KAIFANG_TEST_S3 is unset.
func MustOpenS3(tb testing.TB) *blob.S3 {
	tb.Helper()
	u := S3URL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := blob.OpenS3(ctx, u)
	if err != nil {
		tb.Fatalf("OpenS3: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// S3URL returns KAIFANG_TEST_S3 with a bucket name unique to this test
// (so packages testing in parallel never collide) and the small test part
// size, and removes that bucket, objects and unfinished uploads included,
// when the test ends. It skips when the variable is unset.
func S3URL(tb testing.TB) string {
	tb.Helper()
	raw := os.Getenv(EnvS3)
	if raw == "" {
		tb.Skip("set " + EnvS3 + " (e.g. s3://minioadmin:minioadmin@127.0.0.1:9100/kaifang-test?secure=false; deploy/scripts/minio.sh start) to run against MinIO/S3")
	}
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatalf("%s is not a URL", EnvS3)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	u.Path = "/kaifang-test-" + hex.EncodeToString(b[:])
	q := u.Query()
	if q.Get("part_size_mb") == "" {
		q.Set("part_size_mb", "5")
	}
	u.RawQuery = q.Encode()
	out := u.String()
	cfg, err := blob.ParseS3URL(out)
	if err != nil {
		tb.Fatalf("%s: %v", EnvS3, err)
	}
	tb.Cleanup(func() { removeBucket(tb, cfg) })
	return out
}

func removeBucket(tb testing.TB, cfg blob.S3Config) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.Secure, Region: cfg.Region,
	})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ok, err := c.BucketExists(ctx, cfg.Bucket); err != nil || !ok {
		return
	}
	if err := c.RemoveBucketWithOptions(ctx, cfg.Bucket, minio.RemoveBucketOptions{ForceDelete: true}); err != nil {
		tb.Logf("removing test bucket %s: %v", cfg.Bucket, err)
	}
}
