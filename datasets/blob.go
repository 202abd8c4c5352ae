package datasets

import (
	"context"
	"io"
	"time"
)

// BlobInfo describes a stored object.
type BlobInfo struct {
	Key         string
	Size        int64
	SHA256      string // hex; set by Put, and by Stat/Get where the store kept it
	ContentType string
	ModTime     time.Time
}

// Blobs stores the bytes of every version of every distribution.
//
// Keys are slash-separated paths of [A-Za-z0-9._-] segments; any other key
// (empty, absolute, "..", backslashes) is EINVALID. Missing objects are
// ENOTFOUND on every implementation; an unreachable store is EUNAVAILABLE.
type Blobs interface {
	// Put streams r into key, computing its SHA-256 on the way, and makes the
	// object visible only once all bytes are durable: a failed or interrupted
	// Put leaves no object (and any previous object under key intact).
	// size is the length if known, or -1.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (BlobInfo, error)
	// Get opens length bytes of key from offset (length -1: to the end).
	// An offset past the end is EINVALID.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, BlobInfo, error)
	// Stat describes key.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// Presigner is implemented by blob stores that can hand out a time-limited
// URL for direct download.
type Presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (string, error)
}
