package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"kaifang/datasets"
)

// Upload is one file offered as a new version of an entry.
type Upload struct {
	Body      io.Reader
	Filename  string // the name the agency gave the file
	MediaType string // "" : from the file name
	Size      int64  // -1 if unknown; a known size over the limit is refused before reading
	Actor     string // user id, or "system"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// blobName makes a storage-safe file name, keeping the extension.
func blobName(filename string) string {
	ext := strings.ToLower(path.Ext(filename))
	if len(ext) > 10 || unsafeName.MatchString(ext) {
		ext = ""
	}
	base := unsafeName.ReplaceAllString(strings.TrimSuffix(path.Base(filepath.ToSlash(filename)), path.Ext(filename)), "_")
	base = strings.Trim(base, "._-")
	if base == "" {
		base = "file"
	}
	if len(base) > 60 {
		base = base[:60]
	}
	return base + ext
}

// blobKey is where version number of an entry keeps its file.
func blobKey(datasetID string, number int, filename string) string {
	return fmt.Sprintf("datasets/%s/v%d/%s", datasetID, number, blobName(filename))
}

// AddVersion stores f as a new version of the entry and, if it is tabular,
// loads its rows. The version becomes current only once its bytes are
// stored and checksummed and its rows loaded; any failure leaves it failed
// with its error, and the previous version stays current.
func (s *Service) AddVersion(ctx context.Context, datasetID string, f Upload) (*datasets.Version, error) {
	d, err := s.Catalog.Dataset(ctx, datasetID)
	if err != nil {
		return nil, err
	}
	if f.Size > s.maxUpload() {
		return nil, datasets.Errorf(datasets.ETOOLARGE, "file is %d bytes; the limit is %d", f.Size, s.maxUpload())
	}
	if f.MediaType == "" {
		f.MediaType = mime.TypeByExtension(strings.ToLower(path.Ext(f.Filename)))
		if f.MediaType == "" {
			f.MediaType = "application/octet-stream"
		}
	}
	if f.Actor == "" {
		f.Actor = "system"
	}
	v := &datasets.Version{DatasetID: d.ID, Filename: path.Base(filepath.ToSlash(f.Filename)), MediaType: f.MediaType, State: datasets.VersionPending, CreatedBy: f.Actor}
	if err := s.Catalog.CreateVersion(ctx, v); err != nil {
		return nil, err
	}
	if err := s.ingest(ctx, d, v, f); err != nil {
		v.State, v.Error = datasets.VersionFailed, datasets.ErrorMessage(err)
		if v.RowTable != "" {
			_ = s.Rows.DropRows(context.WithoutCancel(ctx), v.RowTable)
			v.RowTable = ""
		}
		if ferr := s.Catalog.FinishVersion(context.WithoutCancel(ctx), v); ferr != nil {
			s.log().Error("recording failed version", "dataset", d.Slug, "version", v.Number, "err", ferr)
		}
		return v, err
	}
	now := time.Now().UTC()
	v.State, v.ReadyAt = datasets.VersionReady, &now
	if err := s.Catalog.FinishVersion(ctx, v); err != nil {
		return v, err
	}
	return v, nil
}

// ingest spools the upload to a temporary file (hashing and counting on the
// way, refusing it past the limit), stores it, then loads its rows.
func (s *Service) ingest(ctx context.Context, d *datasets.Dataset, v *datasets.Version, f Upload) error {
	tmp, err := os.CreateTemp(s.tempDir(), "kaifang-upload-*"+path.Ext(blobName(f.Filename)))
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "cannot spool upload")
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	limit := s.maxUpload()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(f.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return datasets.Wrap(ctx.Err(), datasets.EINVALID, "upload interrupted")
		}
		var de *datasets.Error
		if errors.As(err, &de) {
			return err
		}
		return datasets.Wrap(err, datasets.EINVALID, "reading the upload failed")
	}
	if n > limit {
		return datasets.Errorf(datasets.ETOOLARGE, "file passes the limit of %d bytes", limit)
	}
	if f.Size >= 0 && n != f.Size {
		return datasets.Errorf(datasets.EINVALID, "upload ended after %d of %d bytes", n, f.Size)
	}
	v.Size, v.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "cannot reread upload")
	}
	v.BlobKey = blobKey(d.ID, v.Number, f.Filename)
	info, err := s.Blobs.Put(ctx, v.BlobKey, tmp, n, v.MediaType)
	if err != nil {
		return err
	}
	if info.SHA256 != "" && info.SHA256 != v.SHA256 {
		return datasets.Errorf(datasets.EINTERNAL, "stored checksum %s differs from uploaded %s", info.SHA256, v.SHA256)
	}
	if err := tmp.Sync(); err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "cannot sync spool file")
	}
	return s.loadRows(ctx, d, v, tmp.Name())
}

// StaleAfter is how long a version may stay pending before SweepPending
// fails it: far longer than any upload and ingestion takes (a 1 GiB file
// loads in under a minute, BENCHMARKS.md), so that a version still being
// ingested by another process is never touched.
const StaleAfter = 6 * time.Hour

// SweepPending fails every version left pending for longer than olderThan
// — its process died during the upload or the ingestion — and removes what
// it may have left: its row table and its stored file. Such a version was
// never current, so nothing public changes; the agency sees it failed with
// the reason instead of pending for ever. It returns how many it failed.
func (s *Service) SweepPending(ctx context.Context, olderThan time.Duration) (int, error) {
	swept := 0
	for {
		vs, err := s.Catalog.PendingVersions(ctx, s.now().Add(-olderThan), 100)
		if err != nil {
			return swept, err
		}
		for i := range vs {
			v := &vs[i]
			v.State = datasets.VersionFailed
			v.Error = fmt.Sprintf("interrupted: still pending %s after it was created (the upload or its ingestion stopped with its process); upload the file again",
				s.now().Sub(v.CreatedAt).Round(time.Minute))
			if err := s.Rows.DropRows(ctx, rowTable(v)); err != nil {
				return swept, err
			}
			if v.Filename != "" {
				if err := s.Blobs.Delete(ctx, blobKey(v.DatasetID, v.Number, v.Filename)); err != nil && !datasets.IsCode(err, datasets.ENOTFOUND) {
					return swept, err
				}
			}
			v.RowTable, v.BlobKey = "", ""
			if err := s.Catalog.FinishVersion(ctx, v); err != nil {
				if datasets.IsCode(err, datasets.ECONFLICT) {
					continue // it finished meanwhile after all
				}
				return swept, err
			}
			s.log().Warn("failed a version left pending", "dataset", v.DatasetID, "version", v.Number, "created", v.CreatedAt)
			swept++
		}
		if len(vs) < 100 {
			return swept, nil
		}
	}
}
