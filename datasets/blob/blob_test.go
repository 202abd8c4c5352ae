package blob_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/blob"
	"kaifang/datasets/blob/blobtest"
)

func TestContract(t *testing.T) {
	for _, b := range blobtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { blobtest.Run(t, b.Open) })
	}
}

func TestOpenByURL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Run("absolute file URL", func(t *testing.T) {
		s, err := blob.Open(ctx, "file://"+filepath.ToSlash(dir)+"/abs")
		if err != nil {
			t.Fatal(err)
		}
		l, ok := s.(*blob.Local)
		if !ok || l.Root() != filepath.Join(dir, "abs") {
			t.Fatalf("Open gave %T rooted at %v, want *blob.Local at %s", s, l, filepath.Join(dir, "abs"))
		}
		blobtest.MustPut(t, s, "x/y.csv", []byte("a\n"), 2, "text/csv")
		if _, err := os.Stat(filepath.Join(dir, "abs", "x", "y.csv")); err != nil {
			t.Errorf("object is not a file under the root: %v", err)
		}
	})
	t.Run("relative file URL", func(t *testing.T) {
		t.Chdir(dir)
		s, err := blob.Open(ctx, "file://data/blobs")
		if err != nil {
			t.Fatal(err)
		}
		if l := s.(*blob.Local); l.Root() != filepath.Join(dir, "data", "blobs") {
			t.Errorf("root = %s, want %s", l.Root(), filepath.Join(dir, "data", "blobs"))
		}
	})
	t.Run("unknown scheme", func(t *testing.T) {
		_, err := blob.Open(ctx, "ftp://x/y")
		blobtest.MustCode(t, err, datasets.EINVALID)
	})
	t.Run("s3 URL", func(t *testing.T) {
		s, err := blob.Open(ctx, blobtest.S3URL(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(*blob.S3); !ok {
			t.Fatalf("Open gave %T, want *blob.S3", s)
		}
	})
}

func TestLocalKeepsChecksumAndType(t *testing.T) {
	l := blobtest.MustOpenLocal(t)
	data := blobtest.FixtureCSV(t)
	info := blobtest.MustPut(t, l, "dgpa.csv", data, -1, "text/csv")
	st, err := l.Stat(context.Background(), "dgpa.csv")
	if err != nil {
		t.Fatal(err)
	}
	if st.SHA256 == "" {
		t.Skip("the file system under t.TempDir() keeps no user xattrs")
	}
	if st.SHA256 != info.SHA256 || st.ContentType != "text/csv" {
		t.Errorf("Stat = %+v, want sha %s and text/csv", st, info.SHA256)
	}
}

func TestLocalPrefixCollision(t *testing.T) {
	l := blobtest.MustOpenLocal(t)
	ctx := context.Background()
	blobtest.MustPut(t, l, "a/b.csv", []byte("1"), 1, "")
	_, err := l.Put(ctx, "a", strings.NewReader("2"), 1, "")
	blobtest.MustCode(t, err, datasets.ECONFLICT)
	_, err = l.Stat(ctx, "a")
	blobtest.MustCode(t, err, datasets.ENOTFOUND)
	blobtest.MustPut(t, l, "c", []byte("1"), 1, "")
	_, err = l.Put(ctx, "c/d", strings.NewReader("2"), 1, "")
	blobtest.MustCode(t, err, datasets.ECONFLICT)
	_, err = l.Stat(ctx, "c/d")
	blobtest.MustCode(t, err, datasets.ENOTFOUND)
	if got, _ := blobtest.MustGet(t, l, "c", 0, -1); string(got) != "1" {
		t.Errorf("c = %q after a colliding Put, want 1", got)
	}
}

// Crash test: a child process (this test binary) starts a Put whose reader
// hands over a few MiB and then blocks; the parent SIGKILLs it mid-upload
// and checks that nothing new is visible under the key.

const (
	envCrashURL = "KAIFANG_BLOB_CRASH_URL"
	envCrashKey = "KAIFANG_BLOB_CRASH_KEY"
	crashBytes  = 6 << 20 // more than one 5 MiB test part, so S3 has a part stored
)

func TestCrashChild(t *testing.T) {
	u, key := os.Getenv(envCrashURL), os.Getenv(envCrashKey)
	if u == "" {
		t.Skip("runs only as the child process of TestCrashDuringPut")
	}
	s, err := blob.Open(context.Background(), u)
	if err != nil {
		fmt.Println("OPEN FAILED", err)
		os.Exit(3)
	}
	r := &stallingReader{data: blobtest.Generated(crashBytes)}
	_, err = s.Put(context.Background(), key, r, 20<<20, "application/octet-stream")
	fmt.Println("PUT RETURNED", err) // never reached: the parent kills us
	os.Exit(4)
}

// stallingReader serves data, tells the parent, then blocks for ever.
type stallingReader struct{ data []byte }

func (s *stallingReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		fmt.Println("STALLED")
		select {}
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

func TestCrashDuringPut(t *testing.T) {
	if os.Getenv(envCrashURL) != "" {
		t.Skip("already the child")
	}
	stores := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"local", func(t *testing.T) string { return "file://" + filepath.ToSlash(t.TempDir()) }},
		{"s3", func(t *testing.T) string { return blobtest.S3URL(t) }},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			u := st.url(t)
			ctx := context.Background()
			s, err := blob.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			prev := []byte("version 1 must survive\n")
			blobtest.MustPut(t, s, "crash/existing.bin", prev, -1, "")

			for _, key := range []string{"crash/existing.bin", "crash/new.bin"} {
				runAndKillChild(t, u, key)
			}

			got, _ := blobtest.MustGet(t, s, "crash/existing.bin", 0, -1)
			if !bytes.Equal(got, prev) {
				t.Errorf("after a killed Put the existing object is %d bytes, want the previous %d", len(got), len(prev))
			}
			_, err = s.Stat(ctx, "crash/new.bin")
			blobtest.MustCode(t, err, datasets.ENOTFOUND)

			// Show the kill really happened mid-upload: the bytes went somewhere.
			switch s := s.(type) {
			case *blob.Local:
				left, _ := os.ReadDir(filepath.Join(s.Root(), ".tmp"))
				if len(left) != 2 {
					t.Errorf("%d temp files left by the killed uploads, want 2 (the test did not interrupt a write)", len(left))
				}
			case *blob.S3:
				n := 0
				// MinIO lists multipart uploads of one object name at a time.
				for _, key := range []string{"crash/existing.bin", "crash/new.bin"} {
					n += incompleteUploads(t, s, key)
				}
				if n != 2 {
					t.Errorf("%d unfinished multipart uploads, want 2 (the test did not interrupt an upload)", n)
				}
			}
		})
	}
}

func runAndKillChild(t *testing.T, u, key string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashURL+"="+u, envCrashKey+"="+key)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The deadline only keeps a broken child from hanging the suite.
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("child exited before stalling")
			}
			if line != "STALLED" {
				t.Logf("child: %s", line)
				continue
			}
			if err := cmd.Process.Signal(os.Kill); err != nil {
				t.Fatal(err)
			}
			go func() {
				for range lines {
				}
			}()
			return
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatal("child never reached the stall")
		}
	}
}

func TestS3UnreachableAtOpen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	port := closedPort(t)
	start := time.Now()
	_, err := blob.OpenS3(ctx, "s3://minioadmin:minioadmin@"+port+"/kaifang-test?secure=false")
	blobtest.MustCode(t, err, datasets.EUNAVAILABLE)
	t.Logf("OpenS3 on a closed port failed after %v", time.Since(start))
}

// TestS3PingFollowsTheServer puts a TCP relay between the store and MinIO,
// so the test can take "MinIO" away and bring it back without touching the
// shared server.
func TestS3PingFollowsTheServer(t *testing.T) {
	raw := blobtest.S3URL(t)
	u, _ := url.Parse(raw)
	target := u.Host
	relay := startRelay(t, "127.0.0.1:0", target)
	addr := relay.addr
	u.Host = addr
	ctx := context.Background()
	s, err := blob.OpenS3(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	blobtest.MustPut(t, s, "ready/x.csv", []byte("a,b\n"), 4, "text/csv")
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping with the server up: %v", err)
	}

	relay.stop()
	start := time.Now()
	err = s.Ping(ctx)
	blobtest.MustCode(t, err, datasets.EUNAVAILABLE)
	t.Logf("Ping with the server down failed after %v", time.Since(start))
	_, err = s.Stat(ctx, "ready/x.csv")
	blobtest.MustCode(t, err, datasets.EUNAVAILABLE)

	startRelay(t, addr, target)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after the server came back: %v", err)
	}
	if got, _ := blobtest.MustGet(t, s, "ready/x.csv", 0, -1); string(got) != "a,b\n" {
		t.Errorf("Get after recovery = %q", got)
	}
}

func TestS3PresignGet(t *testing.T) {
	raw := blobtest.S3URL(t)
	u, _ := url.Parse(raw)
	// A different host name for the same server, as a public name would be.
	public := "http://localhost:" + u.Port()
	q := u.Query()
	q.Set("public_endpoint", public)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	s, err := blob.OpenS3(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	data := blobtest.FixtureCSV(t)
	blobtest.MustPut(t, s, "presign/calendar.csv", data, int64(len(data)), "text/csv")

	link, err := s.PresignGet(ctx, "presign/calendar.csv", 5*time.Minute, "2026年辦公日曆表.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, public+"/") {
		t.Errorf("presigned URL %s is not on the public endpoint %s", link, public)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET presigned URL: %s, %d bytes; want 200 and the object", resp.Status, len(body))
	}
	cd := resp.Header.Get("Content-Disposition")
	if !strings.Contains(cd, "attachment") || !strings.Contains(cd, "%E8%BE%A6%E5%85%AC") {
		t.Errorf("Content-Disposition = %q, want an attachment named 2026年辦公日曆表.csv", cd)
	}

	t.Run("bad lifetime", func(t *testing.T) {
		_, err := s.PresignGet(ctx, "presign/calendar.csv", 8*24*time.Hour, "")
		blobtest.MustCode(t, err, datasets.EINVALID)
	})
	t.Run("bad key", func(t *testing.T) {
		_, err := s.PresignGet(ctx, "../x", time.Minute, "")
		blobtest.MustCode(t, err, datasets.EINVALID)
	})
}

func TestS3NoObjectWhileMultipartInFlight(t *testing.T) {
	s := blobtest.MustOpenS3(t)
	ctx := context.Background()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, "inflight/big.bin", pr, -1, "")
		done <- err
	}()
	// Two parts' worth handed over: at least one part is stored.
	if _, err := pw.Write(blobtest.Generated(11 << 20)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Stat(ctx, "inflight/big.bin")
	blobtest.MustCode(t, err, datasets.ENOTFOUND)
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("Put: %v", err)
	}
	if st, err := s.Stat(ctx, "inflight/big.bin"); err != nil || st.Size != 11<<20 {
		t.Fatalf("after completion Stat = %+v, %v", st, err)
	}
	if n := incompleteUploads(t, s, "inflight/big.bin"); n != 0 {
		t.Errorf("%d multipart uploads left open after a completed Put", n)
	}
}

func incompleteUploads(t *testing.T, s *blob.S3, key string) int {
	t.Helper()
	n := 0
	for up := range s.Client().ListIncompleteUploads(context.Background(), s.Bucket(), key, false) {
		if up.Err != nil {
			t.Fatalf("listing uploads of %s: %v", key, up.Err)
		}
		n++
	}
	return n
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type relay struct {
	addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startRelay(t *testing.T, listen, target string) *relay {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port of a relay just stopped may linger briefly
		if ln, err = net.Listen("tcp", listen); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: ln.Addr().String(), ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, up)
			r.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *relay) stop() {
	r.ln.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// A local read hands its section to the writer (sendfile on a socket): it
// must still be exactly the asked range, on a real TCP connection too.
func TestLocalGetWritesItsSection(t *testing.T) {
	l := blobtest.MustOpenLocal(t)
	data := blobtest.FixtureCSV(t)
	blobtest.MustPut(t, l, "dgpa.csv", data, -1, "text/csv")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, r := range []struct{ off, n int64 }{{0, -1}, {7, 100}, {int64(len(data)) - 5, 5}} {
		rc, _, err := l.Get(context.Background(), "dgpa.csv", r.off, r.n)
		if err != nil {
			t.Fatal(err)
		}
		want := data[r.off:]
		if r.n >= 0 {
			want = want[:r.n]
		}
		got := make(chan []byte)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				got <- nil
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			got <- b
		}()
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		wt, ok := rc.(io.WriterTo)
		if !ok {
			t.Fatal("a local read does not offer WriteTo")
		}
		n, err := wt.WriteTo(conn)
		conn.Close()
		rc.Close()
		if err != nil || n != int64(len(want)) {
			t.Fatalf("range %+v: wrote %d, %v; want %d bytes", r, n, err, len(want))
		}
		if b := <-got; !bytes.Equal(b, want) {
			t.Fatalf("range %+v: the peer received %d bytes that differ from the section", r, len(b))
		}
	}
}
