package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"kaifang/datasets"
)

var (
	_ datasets.Blobs     = (*S3)(nil)
	_ datasets.Presigner = (*S3)(nil)
)

const (
	// DefaultPartSize is the multipart part size, and so the upload buffer
	// each concurrent Put holds in memory.
	DefaultPartSize = 16 << 20
	minPartSize     = 5 << 20 // S3 refuses smaller non-final parts
	maxPartSize     = 5 << 30
	maxParts        = 10000
	// pingTimeout bounds Ping so /readyz answers quickly when MinIO is down.
	pingTimeout = 2 * time.Second
	// openTimeout bounds bucket creation when the caller gave no deadline.
	openTimeout = 15 * time.Second
)

// S3Config is a parsed s3:// URL.
type S3Config struct {
	Endpoint       string // host:port
	AccessKey      string
	SecretKey      string
	Bucket         string
	Secure         bool
	Region         string
	PartSize       uint64
	PublicEndpoint *url.URL // where presigned URLs point; nil means Endpoint
}

// ParseS3URL parses s3://key:secret@host:port/bucket?secure=false&region=…&part_size_mb=16&public_endpoint=http://….
// Error messages never repeat the secret.
func ParseS3URL(raw string) (S3Config, error) {
	bad := func(format string, args ...any) (S3Config, error) {
		return S3Config{}, datasets.Errorf(datasets.EINVALID, "blob URL: "+format, args...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a valid s3:// URL")
	}
	if u.Scheme != "s3" {
		return bad("scheme must be s3")
	}
	if u.Host == "" || u.Hostname() == "" {
		return bad("no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("bad port")
		}
	}
	c := S3Config{Endpoint: u.Host, Region: "us-east-1", Secure: true, PartSize: DefaultPartSize}
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return bad("credentials missing (s3://key:secret@host/bucket)")
	}
	c.Bucket = strings.Trim(u.Path, "/")
	if c.Bucket == "" {
		return bad("no bucket")
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return bad("bucket %q is not a valid bucket name", c.Bucket)
	}
	q := u.Query()
	if v := q.Get("secure"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad("secure must be true or false")
		}
		c.Secure = b
	}
	if v := q.Get("region"); v != "" {
		c.Region = v
	}
	if v := q.Get("part_size_mb"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n<<20 < minPartSize || n<<20 > maxPartSize {
			return bad("part_size_mb must be between 5 and 5120")
		}
		c.PartSize = n << 20
	}
	if v := q.Get("public_endpoint"); v != "" {
		pu, err := url.Parse(v)
		// No path: a signature covers the path, so a prefix added by a
		// proxy would break every presigned URL.
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.Hostname() == "" ||
			strings.Trim(pu.Path, "/") != "" || pu.RawQuery != "" || pu.User != nil {
			return bad("public_endpoint must be an http(s)://host[:port] URL without a path")
		}
		pu.Path = ""
		c.PublicEndpoint = pu
	}
	return c, nil
}

// S3 stores objects in one bucket of MinIO or any S3-compatible service.
// SHA-256 is computed during Put and returned, but not stored on the
// object: S3 wants metadata before the upload starts, and adding it later
// costs a server-side copy. The catalogue's Version row keeps the checksum.
type S3 struct {
	cfg       S3Config
	client    *minio.Client
	core      minio.Core
	presigner *minio.Client
	transport *http.Transport
}

// OpenS3 connects to the store named by url and creates its bucket if
// missing. An unreachable server is EUNAVAILABLE.
func OpenS3(ctx context.Context, rawURL string) (*S3, error) {
	cfg, err := ParseS3URL(rawURL)
	if err != nil {
		return nil, err
	}
	return NewS3(ctx, cfg)
}

// NewS3 is OpenS3 for an already parsed configuration.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINTERNAL, "blob store transport")
	}
	// A dead host should cost seconds, not the default half minute.
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	client, err := newMinioClient(cfg.Endpoint, cfg.Secure, cfg, tr)
	if err != nil {
		return nil, err
	}
	s := &S3{cfg: cfg, client: client, core: minio.Core{Client: client}, presigner: client, transport: tr}
	if pe := cfg.PublicEndpoint; pe != nil {
		// Presigned URLs sign the Host header, so they must be made by a
		// client that names the public host. Region is fixed, so presigning
		// never calls the server.
		s.presigner, err = newMinioClient(pe.Host, pe.Scheme == "https", cfg, nil)
		if err != nil {
			return nil, err
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openTimeout)
		defer cancel()
	}
	if err := s.ensureBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func newMinioClient(endpoint string, secure bool, cfg S3Config, tr http.RoundTripper) (*minio.Client, error) {
	c, err := minio.New(endpoint, &minio.Options{
		Transport:  tr,
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     secure,
		Region:     cfg.Region,
		MaxRetries: 3, // a few quick retries; an outage must surface fast
	})
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "blob URL: cannot use endpoint %s", endpoint)
	}
	return c, nil
}

func (s *S3) ensureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return s3Err(ctx, err, "")
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region})
	if err != nil {
		// Another gateway starting at the same moment may have won the race.
		code := minio.ToErrorResponse(err).Code
		if code == minio.BucketAlreadyOwnedByYou || code == "BucketAlreadyExists" {
			return nil
		}
		return s3Err(ctx, err, "")
	}
	return nil
}

// Bucket returns the bucket name.
func (s *S3) Bucket() string { return s.cfg.Bucket }

// Client returns the underlying minio client, for tests and tools that
// need operations outside datasets.Blobs.
func (s *S3) Client() *minio.Client { return s.client }

// Put streams r to the bucket. Up to the part size, one PUT; beyond it (or
// when size is -1), a multipart upload buffering one part at a time. On any
// error minio-go aborts the upload, so no object appears.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (datasets.BlobInfo, error) {
	if err := ValidKey(key); err != nil {
		return datasets.BlobInfo{}, err
	}
	if size < -1 {
		return datasets.BlobInfo{}, datasets.Errorf(datasets.EINVALID, "size %d is negative", size)
	}
	if err := ctx.Err(); err != nil {
		return datasets.BlobInfo{}, ctxErr(err)
	}
	partSize := s.cfg.PartSize
	if size > 0 && uint64(size) > partSize*maxParts {
		partSize = (uint64(size)/maxParts + 1 + (1<<20 - 1)) &^ (1<<20 - 1)
	}
	if size > 0 && uint64(size) > partSize*maxParts || partSize > maxPartSize {
		return datasets.BlobInfo{}, datasets.Errorf(datasets.ETOOLARGE, "object of %d bytes is too large", size)
	}
	er := &exactReader{r: ctxReader{ctx, r}, remaining: size, h: sha256.New()}
	if size == 0 {
		// minio-go may never read an empty body; check it here instead.
		if _, err := er.Read(nil); err != io.EOF {
			return datasets.BlobInfo{}, putErr(ctx, err, key)
		}
	}
	opts := minio.PutObjectOptions{
		PartSize:    partSize,
		NumThreads:  1,
		ContentType: contentType,
	}
	up, err := s.client.PutObject(ctx, s.cfg.Bucket, key, er, size, opts)
	n, sum, rerr := er.finish()
	if err != nil {
		if rerr != nil {
			return datasets.BlobInfo{}, putErr(ctx, rerr, key)
		}
		return datasets.BlobInfo{}, s3Err(ctx, err, key)
	}
	info := datasets.BlobInfo{Key: key, Size: n, SHA256: sum, ContentType: contentType, ModTime: up.LastModified}
	if info.ModTime.IsZero() {
		if st, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{}); err == nil {
			info.ModTime = st.LastModified
		}
	}
	return info, nil
}

// exactReader hashes and counts what minio-go reads and holds a sized
// upload to its promise: the last byte is not handed over until the reader
// has shown it has no more, so an over-long or short body fails before the
// server can complete the object.
type exactReader struct {
	r         io.Reader
	remaining int64 // -1: unknown size
	h         hash.Hash
	n         int64
	probed    bool  // the end of a sized body has been checked
	err       error // the caller's failure, kept for error translation
	mu        sync.Mutex
	done      bool
}

// finish stops further reads (net/http may still hold the body after a
// failed request returns) and reports what was read.
func (e *exactReader) finish() (n int64, sum string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.done = true
	return e.n, hex.EncodeToString(e.h.Sum(nil)), e.err
}

var errFinished = errors.New("upload already finished")

func (e *exactReader) Read(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return 0, errFinished
	}
	if e.err != nil {
		return 0, e.err
	}
	if e.remaining == 0 {
		if !e.probed {
			// Announced empty: make sure it is.
			e.probed = true
			if err := e.check(); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if e.remaining > 0 && int64(len(p)) > e.remaining {
		p = p[:e.remaining]
	}
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = readError{err}
		return 0, e.err
	}
	if e.remaining > 0 {
		if err == io.EOF && int64(n) < e.remaining {
			e.err = datasets.Errorf(datasets.EINVALID, "upload has %d bytes, expected %d", e.n+int64(n), e.n+e.remaining)
			return 0, e.err
		}
		if int64(n) == e.remaining {
			e.probed = true
			if err != io.EOF {
				e.n += int64(n) // for the message; these bytes are never handed over
				if err := e.check(); err != nil {
					return 0, err
				}
				e.n -= int64(n)
			}
		}
		e.remaining -= int64(n)
	}
	e.h.Write(p[:n])
	e.n += int64(n)
	if e.remaining == 0 {
		return n, io.EOF
	}
	return n, err
}

// check fails the upload if the caller's reader has more to give.
func (e *exactReader) check() error {
	more := probe(e.r)
	if more == nil {
		return nil
	}
	if more == errLonger {
		e.err = datasets.Errorf(datasets.EINVALID, "upload is longer than the %d bytes announced", e.n)
	} else {
		e.err = readError{more}
	}
	return e.err
}

var errLonger = errors.New("longer than announced")

// probe returns nil at EOF, errLonger if r has more bytes, or r's error.
func probe(r io.Reader) error {
	var b [1]byte
	for i := 0; i < 100; i++ {
		n, err := r.Read(b[:])
		if n > 0 {
			return errLonger
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// Get checks the object with a HEAD first (so a missing key is ENOTFOUND
// exactly as on Local) and then fetches the range of that same version.
func (s *S3) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, datasets.BlobInfo, error) {
	if err := ValidKey(key); err != nil {
		return nil, datasets.BlobInfo{}, err
	}
	for attempt := 0; ; attempt++ {
		info, etag, err := s.stat(ctx, key)
		if err != nil {
			return nil, datasets.BlobInfo{}, err
		}
		n, err := checkRange(key, info.Size, offset, length)
		if err != nil {
			return nil, datasets.BlobInfo{}, err
		}
		if n == 0 {
			return io.NopCloser(strings.NewReader("")), info, nil
		}
		var opts minio.GetObjectOptions
		if err := opts.SetRange(offset, offset+n-1); err != nil {
			return nil, datasets.BlobInfo{}, datasets.Wrap(err, datasets.EINVALID, "bad range")
		}
		if etag != "" {
			_ = opts.SetMatchETag(etag)
		}
		body, _, _, err := s.core.GetObject(ctx, s.cfg.Bucket, key, opts)
		if err != nil {
			// Overwritten between HEAD and GET: look again, once.
			if minio.ToErrorResponse(err).Code == minio.PreconditionFailed && attempt == 0 {
				continue
			}
			return nil, datasets.BlobInfo{}, s3Err(ctx, err, key)
		}
		return body, info, nil
	}
}

// Stat describes key.
func (s *S3) Stat(ctx context.Context, key string) (datasets.BlobInfo, error) {
	if err := ValidKey(key); err != nil {
		return datasets.BlobInfo{}, err
	}
	info, _, err := s.stat(ctx, key)
	return info, err
}

func (s *S3) stat(ctx context.Context, key string) (datasets.BlobInfo, string, error) {
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return datasets.BlobInfo{}, "", s3Err(ctx, err, key)
	}
	return datasets.BlobInfo{Key: key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified}, oi.ETag, nil
}

// Delete removes key; S3 answers a delete of a missing key with success.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil
		}
		return s3Err(ctx, err, key)
	}
	return nil
}

// Ping asks whether the bucket exists, giving up after two seconds so a
// readiness probe never hangs on a dead server. Each call dials afresh if
// needed, so Ping succeeds again as soon as the server is back.
func (s *S3) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return s3Err(ctx, err, "")
	}
	if !ok {
		return datasets.Errorf(datasets.EUNAVAILABLE, "blob bucket %s does not exist", s.cfg.Bucket)
	}
	return nil
}

// Close drops idle connections.
func (s *S3) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// MaxPresignTTL is the longest lifetime S3 accepts for a presigned URL.
const MaxPresignTTL = 7 * 24 * time.Hour

// PresignGet returns a URL on the public endpoint that downloads key for
// ttl, saved as filename when filename is set. It does not check that the
// object exists; the URL answers 404 if it does not.
func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	if ttl < time.Second || ttl > MaxPresignTTL {
		return "", datasets.Errorf(datasets.EINVALID, "presigned URL lifetime must be between 1s and 7 days")
	}
	params := url.Values{}
	if filename != "" {
		params.Set("response-content-disposition", ContentDisposition(filename))
	}
	u, err := s.presigner.PresignedGetObject(ctx, s.cfg.Bucket, key, ttl, params)
	if err != nil {
		return "", s3Err(ctx, err, key)
	}
	return u.String(), nil
}

// ContentDisposition returns an attachment header value for filename,
// with an ASCII fallback and an RFC 5987 UTF-8 form for Chinese names.
func ContentDisposition(filename string) string {
	filename = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, filename)
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); v != "" {
		return v
	}
	return "attachment"
}

// s3Err translates minio-go and network errors to datasets codes.
func s3Err(ctx context.Context, err error, key string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		if ctx.Err() != nil {
			return ctxErr(ctx.Err())
		}
		return ctxErr(err)
	}
	what := "blob store"
	if key != "" {
		what = "blob " + key
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey, "NotFound":
		return datasets.Wrap(err, datasets.ENOTFOUND, "%s not found", what)
	case minio.NoSuchBucket:
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob bucket does not exist")
	case minio.InvalidRange:
		return datasets.Wrap(err, datasets.EINVALID, "range not satisfiable for %s", what)
	case minio.PreconditionFailed:
		return datasets.Wrap(err, datasets.ECONFLICT, "%s changed while it was read", what)
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob store refused our credentials")
	case "EntityTooLarge":
		return datasets.Wrap(err, datasets.ETOOLARGE, "%s is too large", what)
	case "SlowDown", "ServiceUnavailable", "XMinioServerNotInitialized", "XMinioStorageFull", "RequestTimeout":
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob store is not available")
	}
	if resp.StatusCode == http.StatusNotFound && resp.Code == "" {
		return datasets.Wrap(err, datasets.ENOTFOUND, "%s not found", what)
	}
	if resp.StatusCode >= 500 {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob store is not available")
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "blob store cannot be reached")
	}
	return datasets.Wrap(err, datasets.EINTERNAL, "blob store failed: %s", fmt.Sprint(resp.Code))
}
