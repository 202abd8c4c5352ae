package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"kaifang/datasets"
)

var _ datasets.Blobs = (*Local)(nil)

// staleAfter is how old an in-flight upload must be before Open deletes it;
// long enough that no live Put on a slow link is still writing it.
const staleAfter = time.Hour

// Local stores objects as files under a root directory. A key maps to the
// file of the same relative path; uploads are written under <root>/.tmp and
// renamed into place, so a reader never sees a partial object.
type Local struct {
	root string
	tmp  string
}

// OpenLocal opens (creating if needed) the store rooted at dir and removes
// uploads left behind by a crash more than an hour ago.
func OpenLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, datasets.Errorf(datasets.EINVALID, "blob directory is empty")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "blob directory %q", dir)
	}
	l := &Local{root: root, tmp: filepath.Join(root, reservedPrefix)}
	if err := os.MkdirAll(l.tmp, 0o755); err != nil {
		return nil, datasets.Wrap(err, datasets.EUNAVAILABLE, "cannot create blob directory")
	}
	l.removeStale(time.Now().Add(-staleAfter))
	return l, nil
}

// Root returns the absolute directory the store lives in.
func (l *Local) Root() string { return l.root }

func (l *Local) removeStale(before time.Time) {
	ents, err := os.ReadDir(l.tmp)
	if err != nil {
		return
	}
	for _, e := range ents {
		info, err := e.Info()
		if err == nil && info.ModTime().Before(before) {
			_ = os.RemoveAll(filepath.Join(l.tmp, e.Name()))
		}
	}
}

func parseFileURL(raw string) (string, error) {
	rest := strings.TrimPrefix(raw, "file://")
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	p, err := url.PathUnescape(rest)
	if err != nil || p == "" || strings.ContainsRune(p, 0) {
		return "", datasets.Errorf(datasets.EINVALID, "blob URL %q has no usable directory", raw)
	}
	return filepath.FromSlash(p), nil
}

func (l *Local) path(key string) string { return filepath.Join(l.root, filepath.FromSlash(key)) }

// Put writes r to a temp file, syncs it, renames it over key and syncs the
// directory: the rename is the single moment the new object appears.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (datasets.BlobInfo, error) {
	if err := ValidKey(key); err != nil {
		return datasets.BlobInfo{}, err
	}
	if size < -1 {
		return datasets.BlobInfo{}, datasets.Errorf(datasets.EINVALID, "size %d is negative", size)
	}
	if err := ctx.Err(); err != nil {
		return datasets.BlobInfo{}, ctxErr(err)
	}
	f, err := os.CreateTemp(l.tmp, "put-*")
	if err != nil {
		return datasets.BlobInfo{}, fsErr(err, key)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()

	h := sha256.New()
	src := io.Reader(ctxReader{ctx, r})
	if size >= 0 {
		// One byte beyond size tells a short promise from a long body.
		src = io.LimitReader(src, size+1)
	}
	n, err := io.CopyBuffer(io.MultiWriter(f, h), readErrReader{src}, make([]byte, 256<<10))
	if err != nil {
		return datasets.BlobInfo{}, putErr(ctx, err, key)
	}
	if size >= 0 && n != size {
		return datasets.BlobInfo{}, datasets.Errorf(datasets.EINVALID, "upload of %s has %s bytes, expected %d", key, countText(n, size), size)
	}
	info := datasets.BlobInfo{Key: key, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: contentType}
	setMeta(f, info.SHA256, contentType)
	if err := f.Chmod(0o644); err != nil {
		return datasets.BlobInfo{}, fsErr(err, key)
	}
	if err := f.Sync(); err != nil {
		return datasets.BlobInfo{}, fsErr(err, key)
	}
	if err := f.Close(); err != nil {
		return datasets.BlobInfo{}, fsErr(err, key)
	}
	final := l.path(key)
	if err := l.mkdirs(filepath.Dir(final)); err != nil {
		return datasets.BlobInfo{}, fsErr(err, key)
	}
	// A last look at ctx: a request cancelled while its bytes were being
	// synced should not publish them.
	if err := ctx.Err(); err != nil {
		return datasets.BlobInfo{}, ctxErr(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return datasets.BlobInfo{}, fsErr(err, key)
	}
	done = true
	if err := syncDir(filepath.Dir(final)); err != nil {
		return datasets.BlobInfo{}, fsErr(err, key)
	}
	if st, err := os.Stat(final); err == nil {
		info.ModTime = st.ModTime()
	}
	return info, nil
}

func countText(n, size int64) string {
	if n > size {
		return "more than " + fmt.Sprint(size)
	}
	return fmt.Sprint(n)
}

// mkdirs creates dir and its missing parents, syncing each parent so the
// new directory entries survive a power cut along with the file.
func (l *Local) mkdirs(dir string) error {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return syscall.ENOTDIR
		}
		return nil
	}
	if dir == l.root {
		return os.MkdirAll(dir, 0o755)
	}
	if err := l.mkdirs(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Get opens key and serves length bytes from offset through a LimitReader.
func (l *Local) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, datasets.BlobInfo, error) {
	if err := ValidKey(key); err != nil {
		return nil, datasets.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, datasets.BlobInfo{}, ctxErr(err)
	}
	f, err := l.open(key)
	if err != nil {
		return nil, datasets.BlobInfo{}, err
	}
	info, err := l.describe(f, key)
	if err != nil {
		f.Close()
		return nil, datasets.BlobInfo{}, err
	}
	n, err := checkRange(key, info.Size, offset, length)
	if err != nil {
		f.Close()
		return nil, datasets.BlobInfo{}, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, datasets.BlobInfo{}, fsErr(err, key)
	}
	return readCloser{io.LimitReader(f, n), f}, info, nil
}

// open opens key for reading; a key below another key's file (ENOTDIR) is
// simply missing.
func (l *Local) open(key string) (*os.File, error) {
	f, err := os.Open(l.path(key))
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return nil, datasets.Wrap(err, datasets.ENOTFOUND, "blob %s not found", key)
		}
		return nil, fsErr(err, key)
	}
	return f, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// WriteTo hands the section of the file (an *io.LimitedReader over an
// *os.File) to w's ReadFrom, so that a TCP connection, or a bufio.Writer
// over one, sends it with sendfile(2) instead of copying it through user
// space: what a download server does with a whole file.
func (r readCloser) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, r.Reader) }

// Stat describes key from the file system and the stored checksum.
func (l *Local) Stat(ctx context.Context, key string) (datasets.BlobInfo, error) {
	if err := ValidKey(key); err != nil {
		return datasets.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return datasets.BlobInfo{}, ctxErr(err)
	}
	f, err := l.open(key)
	if err != nil {
		return datasets.BlobInfo{}, err
	}
	defer f.Close()
	return l.describe(f, key)
}

func (l *Local) describe(f *os.File, key string) (datasets.BlobInfo, error) {
	st, err := f.Stat()
	if err != nil {
		return datasets.BlobInfo{}, fsErr(err, key)
	}
	if !st.Mode().IsRegular() {
		// A key that names a directory (a prefix of other keys) is no object.
		return datasets.BlobInfo{}, datasets.Errorf(datasets.ENOTFOUND, "blob %s not found", key)
	}
	sum, ct := getMeta(f)
	return datasets.BlobInfo{Key: key, Size: st.Size(), SHA256: sum, ContentType: ct, ModTime: st.ModTime()}, nil
}

// Delete removes key; a missing key is fine. Empty parent directories are
// left alone so a concurrent Put into them cannot lose its directory.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(err)
	}
	p := l.path(key)
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return nil // a prefix, not an object: nothing to delete
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fsErr(err, key)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fsErr(err, key)
	}
	return nil
}

// Ping checks that the root is still a directory we can use.
func (l *Local) Ping(ctx context.Context) error {
	st, err := os.Stat(l.tmp)
	if err != nil {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob directory is not available")
	}
	if !st.IsDir() {
		return datasets.Errorf(datasets.EUNAVAILABLE, "blob directory is not a directory")
	}
	return nil
}

// Close releases nothing: Local holds no open handles between calls.
func (l *Local) Close() error { return nil }

type readErrReader struct{ r io.Reader }

func (e readErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = readError{err}
	}
	return n, err
}

// putErr tells a failure of the caller's reader (or context) from a
// failure of the disk.
func putErr(ctx context.Context, err error, key string) error {
	if ctx.Err() != nil {
		return ctxErr(ctx.Err())
	}
	var de *datasets.Error
	if errors.As(err, &de) {
		return err // a size mismatch found while streaming; already ours
	}
	var re readError
	if errors.As(err, &re) {
		if errors.Is(re.err, context.Canceled) || errors.Is(re.err, context.DeadlineExceeded) {
			return ctxErr(re.err)
		}
		var de *datasets.Error
		if errors.As(re.err, &de) {
			return re.err // already speaks our language (e.g. ETOOLARGE from a limit)
		}
		return datasets.Wrap(re.err, datasets.EINVALID, "reading the upload for %s failed", key)
	}
	return fsErr(err, key)
}

func fsErr(err error, key string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return datasets.Wrap(err, datasets.ENOTFOUND, "blob %s not found", key)
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, fs.ErrExist):
		// One key is a prefix of another: a file system can't hold both.
		return datasets.Wrap(err, datasets.ECONFLICT, "blob %s collides with another key's path", key)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob storage is full")
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EIO):
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob storage is not writable")
	}
	return datasets.Wrap(err, datasets.EINTERNAL, "blob storage failed")
}
