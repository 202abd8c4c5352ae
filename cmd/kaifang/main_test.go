package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// server is one in-process kaifang run.
type server struct {
	base   string
	stop   func() error
	stdout *syncBuffer
	stderr *syncBuffer
}

// MustStart runs `kaifang ARGS` in-process on 127.0.0.1:0 and waits until it listens.
func MustStart(t *testing.T, vars map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	addrc := make(chan string, 1)
	e := &env{getenv: envOf(vars), stdout: s.stdout, stderr: s.stderr, onListen: func(a string) { addrc <- a }}
	done := make(chan error, 1)
	go func() { done <- run(ctx, e, append(args, "--addr", "127.0.0.1:0")) }()
	select {
	case a := <-addrc:
		s.base = "http://" + a
	case err := <-done:
		cancel()
		t.Fatalf("kaifang %v exited before listening: %v\nstderr:\n%s", args, err, s.stderr.String())
	case <-time.After(5 * time.Minute):
		cancel()
		t.Fatalf("kaifang %v did not listen in time\nstderr:\n%s", args, s.stderr.String())
	}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	return s
}

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if into != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: not JSON: %v: %.200s", url, err, body)
		}
	}
	return resp.StatusCode
}

type listAnswer struct {
	Items []struct {
		ID        string `json:"id"`
		Slug      string `json:"slug"`
		Title     string `json:"title"`
		OpenClass string `json:"open_class"`
		Category  string `json:"category"`
		Agency    struct {
			Name string `json:"name"`
		} `json:"agency"`
		CurrentVersion *struct {
			Number int    `json:"number"`
			SHA256 string `json:"sha256"`
			Rows   int64  `json:"rows"`
		} `json:"current_version"`
	} `json:"items"`
	Total int `json:"total"`
}

func TestDemoServesCatalogueAndLoadsOnce(t *testing.T) {
	data := t.TempDir()
	vars := map[string]string{"KAIFANG_DATA": data, "KAIFANG_LOG_LEVEL": "warn"}
	s := MustStart(t, vars, "demo")

	if code := getJSON(t, s.base+"/healthz", nil); code != 200 {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code := getJSON(t, s.base+"/readyz", nil); code != 200 {
		t.Errorf("/readyz = %d, want 200", code)
	}
	var list listAnswer
	if code := getJSON(t, s.base+"/api/v1/datasets?per_page=100", &list); code != 200 {
		t.Fatalf("list = %d", code)
	}
	if list.Total < 30 || len(list.Items) < 30 {
		t.Errorf("demo lists %d entries (%d items), want at least 30", list.Total, len(list.Items))
	}
	agencies, cats, classes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	versions := map[string]string{}
	for _, it := range list.Items {
		if it.OpenClass == "closed" {
			t.Errorf("closed entry %s is listed", it.Slug)
		}
		agencies[it.Agency.Name], cats[it.Category], classes[it.OpenClass] = true, true, true
		if it.CurrentVersion != nil {
			versions[it.Slug] = it.CurrentVersion.SHA256
		}
	}
	if len(agencies) < 6 {
		t.Errorf("entries come from %d agencies, want at least 6", len(agencies))
	}
	for _, c := range []string{"credit", "transport", "healthcare", "employment", "social_security", "education", "environment", "weather", "enterprise", "other"} {
		if !cats[c] {
			t.Errorf("no public entry in category %s", c)
		}
	}
	if !classes["open"] || !classes["conditional"] {
		t.Errorf("open classes listed: %v, want open and conditional", classes)
	}
	for _, slug := range []string{"household-registration-details", "emergency-reserve-locations", "noise-monitoring"} {
		if code := getJSON(t, s.base+"/api/v1/datasets/"+slug, nil); code != 404 {
			t.Errorf("GET non-public %s = %d, want 404", slug, code)
		}
	}
	var aqi struct {
		CurrentVersion *struct {
			Rows int64 `json:"rows"`
		} `json:"current_version"`
		Fields []struct{ Name, Type string } `json:"fields"`
	}
	if code := getJSON(t, s.base+"/api/v1/datasets/aqi-hourly", &aqi); code != 200 {
		t.Fatalf("aqi-hourly = %d", code)
	}
	if aqi.CurrentVersion == nil || aqi.CurrentVersion.Rows != 84 {
		t.Errorf("aqi-hourly current version = %+v, want 84 rows from the real file", aqi.CurrentVersion)
	}
	// The real CDC workbook (14,907 rows) keeps its medical institution codes
	// as text, leading zeros and all; the GBK population table is decoded.
	var cdc struct {
		CurrentVersion *struct {
			Rows int64 `json:"rows"`
		} `json:"current_version"`
		Fields []struct{ Name, Type string } `json:"fields"`
	}
	getJSON(t, s.base+"/api/v1/datasets/covid19-vaccine-clinics", &cdc)
	if cdc.CurrentVersion == nil || cdc.CurrentVersion.Rows != 14907 {
		t.Errorf("covid19-vaccine-clinics version = %+v, want 14907 rows", cdc.CurrentVersion)
	}
	for _, f := range cdc.Fields {
		if f.Name == "醫事機構代碼" && f.Type != "text" {
			t.Errorf("醫事機構代碼 typed %s, want text", f.Type)
		}
	}
	var pop struct {
		Records []map[string]any `json:"records"`
	}
	getJSON(t, s.base+"/api/v1/datasets/province-population-annual/records?limit=40", &pop)
	if len(pop.Records) != 31 || pop.Records[0]["地区"] != "北京市" {
		t.Errorf("GBK population table: %d records, first %v; want 31 starting with 北京市", len(pop.Records), pop.Records)
	}
	if len(versions) < 15 {
		t.Errorf("%d entries have a file version, want at least 15", len(versions))
	}
	if err := s.stop(); err != nil {
		t.Fatalf("demo stopped with %v", err)
	}

	// A second run on the same data loads nothing twice.
	s2 := MustStart(t, vars, "demo")
	var again listAnswer
	getJSON(t, s2.base+"/api/v1/datasets?per_page=100", &again)
	if again.Total != list.Total {
		t.Errorf("second demo run lists %d entries, first %d", again.Total, list.Total)
	}
	for _, it := range again.Items {
		if it.CurrentVersion != nil && it.CurrentVersion.Number != 1 {
			t.Errorf("%s has version %d after a second demo run, want 1", it.Slug, it.CurrentVersion.Number)
		}
		if want, ok := versions[it.Slug]; ok && it.CurrentVersion != nil && it.CurrentVersion.SHA256 != want {
			t.Errorf("%s changed checksum between runs", it.Slug)
		}
	}
}

func TestConfigRejectsEachWrongOption(t *testing.T) {
	var stderr bytes.Buffer
	e := &env{getenv: envOf(map[string]string{"KAIFANG_BLOB": "ftp://x", "KAIFANG_LOG_FORMAT": "xml"}), stdout: io.Discard, stderr: &stderr}
	err := run(context.Background(), e, []string{"serve", "--addr", "nonsense", "--db", "mysql://x", "--max-upload", "lots"})
	if err == nil {
		t.Fatal("serve accepted a wrong configuration")
	}
	for _, want := range []string{"KAIFANG_ADDR", "KAIFANG_DB", "KAIFANG_BLOB", "KAIFANG_LOG_FORMAT", "KAIFANG_MAX_UPLOAD"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestConfigLogMasksSecrets(t *testing.T) {
	cfg := &Config{}
	err := cfg.resolve(envOf(map[string]string{
		"KAIFANG_DB":     "postgres://kaifang:hunter2pw@db:5432/k",
		"KAIFANG_BLOB":   "s3://AKIA:s3cretKey@minio:9000/b?secure=false",
		"KAIFANG_SEARCH": "meilisearch://meili:7700?key=masterKey123",
		"KAIFANG_SECRET": strings.Repeat("z", 40),
	}), "", "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	newLogger(cfg, &out).Info("configuration", "config", cfg)
	for _, secret := range []string{"hunter2pw", "s3cretKey", "masterKey123", strings.Repeat("z", 40)} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("log shows secret %q: %s", secret, out.String())
		}
	}
	if !strings.Contains(out.String(), "db:5432") {
		t.Errorf("log hides the database host too: %s", out.String())
	}
}

func TestHelpForEachCommand(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			e := &env{getenv: envOf(nil), stdout: io.Discard, stderr: &stderr}
			_ = run(context.Background(), e, []string{name, "--help"})
			if !strings.Contains(stderr.String(), "kaifang "+name) {
				t.Errorf("kaifang %s --help printed:\n%s", name, stderr.String())
			}
		})
	}
}

func TestVersionAndMigrate(t *testing.T) {
	var out bytes.Buffer
	e := &env{getenv: envOf(map[string]string{"KAIFANG_DATA": t.TempDir()}), stdout: &out, stderr: io.Discard}
	if err := run(context.Background(), e, []string{"version"}); err != nil || !strings.HasPrefix(out.String(), "kaifang ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), e, []string{"migrate"}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !strings.Contains(out.String(), "0001") {
		t.Errorf("migrate lists no migration 0001:\n%s", out.String())
	}
}

// minioBinary finds the MinIO server the test script builds.
func minioBinary(t *testing.T) string {
	if p, err := exec.LookPath("minio"); err == nil {
		return p
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "minio")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no minio binary: set KAIFANG_TEST_S3 and run deploy/scripts/minio.sh start to build it")
	}
	return p
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startMinio(t *testing.T, bin, dir string, port int) *exec.Cmd {
	cmd := exec.Command(bin, "server", "--quiet", "--address", fmt.Sprintf("127.0.0.1:%d", port), "--console-address", fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=minioadmin", "MINIO_ROOT_PASSWORD=minioadmin", "MINIO_BROWSER=off")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/minio/health/live", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	t.Fatal("minio did not start")
	return nil
}

// readyStatus polls /readyz until it answers want (or gives up) and returns the last answer.
func readyStatus(t *testing.T, base string, want int) (int, string) {
	var code int
	var body []byte
	for i := 0; i < 60; i++ {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		code = resp.StatusCode
		if code == want {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	return code, string(body)
}

func TestReadyzFollowsMinIOWithoutRestart(t *testing.T) {
	if os.Getenv("KAIFANG_TEST_S3") == "" {
		t.Skip("set KAIFANG_TEST_S3 (deploy/scripts/minio.sh) to run against MinIO")
	}
	bin := minioBinary(t)
	dir, port := t.TempDir(), freePort(t)
	m := startMinio(t, bin, dir, port)
	t.Cleanup(func() { _ = m.Process.Kill(); _ = m.Wait() })
	vars := map[string]string{
		"KAIFANG_DATA":      t.TempDir(),
		"KAIFANG_BLOB":      fmt.Sprintf("s3://minioadmin:minioadmin@127.0.0.1:%d/kaifang?secure=false", port),
		"KAIFANG_LOG_LEVEL": "error",
	}
	s := MustStart(t, vars, "serve")
	if code, body := readyStatus(t, s.base, 200); code != 200 {
		t.Fatalf("/readyz with MinIO up = %d %s", code, body)
	}
	_ = m.Process.Kill()
	_ = m.Wait()
	code, body := readyStatus(t, s.base, 503)
	if code != 503 || !strings.Contains(body, "blobs") {
		t.Fatalf("/readyz with MinIO down = %d %s, want 503 naming blobs", code, body)
	}
	m2 := startMinio(t, bin, dir, port)
	t.Cleanup(func() { _ = m2.Process.Kill(); _ = m2.Wait() })
	if code, body := readyStatus(t, s.base, 200); code != 200 {
		t.Fatalf("/readyz after MinIO returned = %d %s, want 200 without restarting kaifang", code, body)
	}
}
