package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustRun(t *testing.T, vars map[string]string, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{getenv: envOf(vars), stdout: &out, stderr: &errb}
	if err := run(context.Background(), e, args); err != nil {
		t.Fatalf("kaifang %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImportThenServeThenAccounts(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"KAIFANG_DATA": filepath.Join(dir, "data"), "KAIFANG_LOG_LEVEL": "warn"}
	// An open list with traditional Chinese headings and values, one row
	// carrying a file, as agencies export them.
	writeFile(t, filepath.Join(dir, "bus.csv"), "線路,起點站,終點站,票價\n1路,火車站,廈門大學,1\n2路,輪渡,高崎機場,2\n")
	writeFile(t, filepath.Join(dir, "list.csv"),
		"標識,數據名稱,數據摘要,數據領域,開放類型,更新頻率,數據格式,提供單位,文件\n"+
			"cli-bus-routes,公交線路表,全市公交線路,交通运输,無條件開放,每月,csv,測試交通局,bus.csv\n"+
			"cli-school-list,學校名錄,全市學校,教育科技,无条件开放,每年,csv,測試交通局,\n")

	// A list with a bad row is refused whole, naming the row.
	writeFile(t, filepath.Join(dir, "bad.csv"),
		"數據名稱,數據領域,開放類型,更新頻率,提供單位\n好的條目,交通运输,無條件開放,每月,測試交通局\n,交通运输,有條件開放,每月,測試交通局\n")
	var out, errb bytes.Buffer
	err := run(context.Background(), &env{getenv: envOf(vars), stdout: &out, stderr: &errb}, []string{"import", "--publish", "--review-note", "checked", filepath.Join(dir, "bad.csv")})
	if err == nil {
		t.Fatal("a list with a bad row was imported")
	}
	if !strings.Contains(errb.String(), "row 2") {
		t.Errorf("the refusal does not name row 2:\n%s", errb.String())
	}

	stdout, _ := mustRun(t, vars, "import", "--publish", "--review-note", "合法性、保密、隱私已核查", filepath.Join(dir, "list.csv"))
	if !strings.Contains(stdout, "2 created") || !strings.Contains(stdout, "2 published") || !strings.Contains(stdout, "1 file versions") {
		t.Errorf("import reported %q", stdout)
	}
	stdout, _ = mustRun(t, vars, "import", "--publish", "--review-note", "合法性、保密、隱私已核查", filepath.Join(dir, "list.csv"))
	if !strings.Contains(stdout, "2 unchanged") {
		t.Errorf("re-import reported %q, want 2 unchanged", stdout)
	}

	stdout, _ = mustRun(t, vars, "users", "add", "--role", "developer", "--email", "dev@example.cn", "--password", "correct-horse-battery")
	if !strings.Contains(stdout, "dev@example.cn") {
		t.Errorf("users add printed %q", stdout)
	}
	token, _ := mustRun(t, vars, "tokens", "create", "--email", "dev@example.cn")
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, "kf_") {
		t.Fatalf("tokens create printed %q, want a kf_ token", token)
	}
	audit, _ := mustRun(t, vars, "audit", "verify")
	if !strings.Contains(audit, `"intact"`) {
		t.Errorf("audit verify on a fresh chain printed %q", audit)
	}

	s := MustStart(t, vars, "serve")
	var bus struct {
		Title          string `json:"title"`
		Category       string `json:"category"`
		Frequency      string `json:"frequency"`
		CurrentVersion *struct {
			Rows int64 `json:"rows"`
		} `json:"current_version"`
	}
	if code := getJSON(t, s.base+"/api/v1/datasets/cli-bus-routes", &bus); code != 200 {
		t.Fatalf("imported entry = %d", code)
	}
	if bus.Category != "transport" || bus.Frequency != "monthly" || bus.CurrentVersion == nil || bus.CurrentVersion.Rows != 2 {
		t.Errorf("imported entry = %+v, want transport, monthly, 2 rows", bus)
	}
	req, _ := http.NewRequest("GET", s.base+"/api/v1/me/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "cli") {
		t.Errorf("GET /api/v1/me/tokens with the CLI token = %d %s", resp.StatusCode, body)
	}
}
