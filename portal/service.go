package portal

import (
	"log/slog"
	"os"
	"time"

	"kaifang/datasets"
)

// Service runs the portal's workflows over the catalogue, row and blob stores.
type Service struct {
	Catalog  datasets.Catalog
	Rows     datasets.Rows
	Blobs    datasets.Blobs
	Accounts datasets.Accounts // users, roles, tokens
	Access   datasets.Access   // applications, grants, keys, usage, audit
	Calendar *Calendar         // working days for every deadline
	Secret   []byte            // HMAC key for tokens and API keys
	Logger   *slog.Logger
	// MaxUpload is the largest file accepted, in bytes (0: 2 GiB).
	MaxUpload int64
	// TempDir holds uploads while they are checksummed and parsed ("" : os.TempDir()).
	TempDir string
	// Now is the clock (nil: time.Now); tests set it.
	Now func() time.Time

	keys *keyCache // API keys recently authenticated (keys.go)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) maxUpload() int64 {
	if s.MaxUpload > 0 {
		return s.MaxUpload
	}
	return 2 << 30
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// tempDir is where uploads are spooled, created if missing (the data
// directory of a fresh install does not exist until something is stored).
func (s *Service) tempDir() string {
	if s.TempDir != "" {
		_ = os.MkdirAll(s.TempDir, 0o755) // CreateTemp reports the failure
		return s.TempDir
	}
	return os.TempDir()
}
