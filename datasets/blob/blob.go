package blob

import (
	"context"
	"errors"
	"strings"

	"kaifang/datasets"
)

// Open opens the store named by a configuration URL:
//
//	file:///abs/dir, file://relative/dir   → *Local
//	s3://key:secret@host:port/bucket?secure=false&region=…&part_size_mb=16&public_endpoint=http://…  → *S3
func Open(ctx context.Context, url string) (datasets.Blobs, error) {
	switch {
	case strings.HasPrefix(url, "file://"):
		dir, err := parseFileURL(url)
		if err != nil {
			return nil, err
		}
		return OpenLocal(dir)
	case strings.HasPrefix(url, "s3://"):
		return OpenS3(ctx, url)
	}
	return nil, datasets.Errorf(datasets.EINVALID, "blob store URL must start with file:// or s3://")
}

// reservedPrefix is where Local keeps in-flight uploads; refusing it as a
// key on every store keeps keys portable between stores.
const reservedPrefix = ".tmp"

// MaxKeyLen is the longest key accepted, S3's own limit.
const MaxKeyLen = 1024

// ValidKey returns an EINVALID error unless key is a relative,
// slash-separated path of [A-Za-z0-9._-] segments without "." or "..".
// Checking characters one by one (rather than cleaning the path) means no
// encoding trick can turn a key into a path outside the store.
func ValidKey(key string) error {
	if key == "" {
		return datasets.Errorf(datasets.EINVALID, "blob key is empty")
	}
	if len(key) > MaxKeyLen {
		return datasets.Errorf(datasets.EINVALID, "blob key is longer than %d bytes", MaxKeyLen)
	}
	segs := strings.Split(key, "/")
	if segs[0] == reservedPrefix {
		return datasets.Errorf(datasets.EINVALID, "blob key may not start with %s/", reservedPrefix)
	}
	for _, seg := range segs {
		switch {
		case seg == "":
			return datasets.Errorf(datasets.EINVALID, "blob key has an empty segment (leading, trailing or double slash)")
		case seg == "." || seg == "..":
			return datasets.Errorf(datasets.EINVALID, "blob key has a %q segment", seg)
		case len(seg) > 255:
			return datasets.Errorf(datasets.EINVALID, "blob key segment is longer than 255 bytes")
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
			if !ok {
				return datasets.Errorf(datasets.EINVALID, "blob key may hold only A-Z a-z 0-9 . _ - and /")
			}
		}
	}
	return nil
}

// checkRange validates a Get request against the object size and returns
// the number of bytes to serve.
func checkRange(key string, size, offset, length int64) (int64, error) {
	if offset < 0 {
		return 0, datasets.Errorf(datasets.EINVALID, "range offset is negative")
	}
	if length < -1 {
		return 0, datasets.Errorf(datasets.EINVALID, "range length is negative")
	}
	if offset > size {
		return 0, datasets.Errorf(datasets.EINVALID, "range starts at %d, past the end of %s (%d bytes)", offset, key, size)
	}
	n := size - offset
	if length >= 0 && length < n {
		n = length
	}
	return n, nil
}

// ctxErr wraps a context error so callers still see context.Canceled or
// DeadlineExceeded with errors.Is.
func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob store did not answer in time")
	}
	return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob operation cancelled")
}

// ctxReader stops a copy at the next Read once ctx is done, so cancelling
// a request ends an upload instead of storing it.
type ctxReader struct {
	ctx context.Context
	r   interface{ Read([]byte) (int, error) }
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readError marks an error that came from the caller's reader, so it is not
// mistaken for a storage failure.
type readError struct{ err error }

func (e readError) Error() string { return "reading upload: " + e.err.Error() }
func (e readError) Unwrap() error { return e.err }
