package portal_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

func mustWrite(tb testing.TB, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// jiangxi returns the real Jiangxi catalogue, with fix applied to each record.
func jiangxi(tb testing.TB, fix func(i int, r map[string]string)) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/cn_jiangxi_open_data_catalogue_crawl.json")
	if err != nil {
		tb.Fatal(err)
	}
	if fix == nil {
		return mustWrite(tb, "jiangxi.json", b)
	}
	var rs []map[string]string
	if err := json.Unmarshal(b, &rs); err != nil {
		tb.Fatal(err)
	}
	for i := range rs {
		fix(i, rs[i])
	}
	out, _ := json.Marshal(rs)
	return mustWrite(tb, "jiangxi.json", out)
}

func TestImportJiangxi(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()

		// As crawled, the 36 conditional entries name no reason or legal basis.
		_, err := e.svc.ImportList(ctx, e.admin, "", jiangxi(t, nil), portal.ImportOptions{})
		wantCode(t, err, datasets.EINVALID)
		ps := datasets.ErrorProblems(err)
		rows := map[int]bool{}
		for _, p := range ps {
			rows[p.Row] = true
			if p.Field != "reason" && p.Field != "legal_basis" {
				t.Errorf("unexpected problem %v", p)
			}
		}
		if len(ps) != 72 || len(rows) != 36 {
			t.Errorf("%d problems in %d rows, want 72 in 36", len(ps), len(rows))
		}
		if as, _ := e.store.Agencies(ctx); len(as) != 2 {
			t.Fatalf("a failed import created agencies: %d", len(as))
		}

		fixed := func(i int, r map[string]string) {
			if r["开放类型"] == "有条件开放" {
				r["法律依据"], r["理由"] = "《江西省公共数据管理办法》", "涉及个人信息"
			}
		}
		var calls int
		rep, err := e.svc.ImportList(ctx, e.admin, "", jiangxi(t, fixed), portal.ImportOptions{Progress: func(d, n int) { calls++ }})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if rep.Rows != 279 || rep.Created != 279 || len(rep.Agencies) == 0 || calls != 279 {
			t.Fatalf("report rows=%d created=%d agencies=%d progress=%d", rep.Rows, rep.Created, len(rep.Agencies), calls)
		}
		_, total, _ := e.store.Datasets(ctx, datasets.DatasetFilter{})
		if total != 279 {
			t.Errorf("%d entries stored, want 279", total)
		}
		cond, _, _ := e.store.Datasets(ctx, datasets.DatasetFilter{OpenClasses: []datasets.OpenClass{datasets.Conditional}, PerPage: 100})
		env, _, _ := e.store.Datasets(ctx, datasets.DatasetFilter{Category: datasets.Environment, PerPage: 100})
		if len(cond) != 36 || len(env) != 41 {
			t.Errorf("%d conditional (want 36), %d environment (资源环境, want 41)", len(cond), len(env))
		}
		d, _ := e.store.Dataset(ctx, rep.Entries[0].ID)
		if d.Title != "2021年省级测绘地理信息项目备案情况" || strings.Join(d.Formats, ",") != "xls" || d.Agency.Name != "省自然资源厅" || d.State != datasets.Draft {
			t.Errorf("first entry %+v", d)
		}

		again, err := e.svc.ImportList(ctx, e.admin, "", jiangxi(t, fixed), portal.ImportOptions{})
		if err != nil || again.Unchanged != 279 || again.Created+again.Updated != 0 || len(again.Agencies) != 0 {
			t.Fatalf("re-import: %+v %v; want everything unchanged", again, err)
		}
		h, _ := e.store.History(ctx, d.ID)
		if len(h) != 1 {
			t.Errorf("re-import recorded %d changes on an unchanged entry", len(h)-1)
		}

		changed := func(i int, r map[string]string) {
			fixed(i, r)
			if i == 0 {
				r["数据格式"] = "[xls,csv]"
			}
		}
		third, err := e.svc.ImportList(ctx, e.admin, "", jiangxi(t, changed), portal.ImportOptions{})
		if err != nil || third.Updated != 1 || third.Unchanged != 278 {
			t.Fatalf("changed import: updated=%d unchanged=%d %v", third.Updated, third.Unchanged, err)
		}
		d, _ = e.store.Dataset(ctx, d.ID)
		if strings.Join(d.Formats, ",") != "xls,csv" {
			t.Errorf("formats after update %v", d.Formats)
		}
	})
}

func TestImportFormatsAndRights(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()

		t.Run("xlsx with traditional headings", func(t *testing.T) {
			f := excelize.NewFile()
			rows := [][]any{
				{"數據名稱", "數據摘要", "數據領域", "開放類型", "更新頻率", "數據格式", "數據項", "法律依據", "理由", "標籤"},
				{"公車站位", "全市公車站位", "交通运输", "無條件開放", "每月", "csv、json", "站名:文本:站點名稱;經度:数值", "", "", "公車,交通"},
				{"病床數", "", "卫生健康", "有條件開放", "每季度", "[xls]", "", "《數據安全法》", "涉及機構", ""},
			}
			for i, r := range rows {
				cell, _ := excelize.CoordinatesToCellName(1, i+1)
				if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
					t.Fatal(err)
				}
			}
			p := filepath.Join(t.TempDir(), "list.xlsx")
			if err := f.SaveAs(p); err != nil {
				t.Fatal(err)
			}
			rep, err := e.svc.ImportList(ctx, e.pubA, e.agA.Slug, p, portal.ImportOptions{})
			if err != nil || rep.Created != 2 {
				t.Fatalf("import: %+v %v", rep, err)
			}
			d, _ := e.store.Dataset(ctx, rep.Entries[0].ID)
			if d.Category != datasets.Transport || d.Frequency != datasets.Monthly || strings.Join(d.Formats, ",") != "csv,json" ||
				len(d.Fields) != 2 || d.Fields[1].Type != datasets.TypeDecimal || d.Fields[0].Description != "站點名稱" || len(d.Tags) != 2 {
				t.Errorf("entry %+v", d)
			}
			d2, _ := e.store.Dataset(ctx, rep.Entries[1].ID)
			if d2.OpenClass != datasets.Conditional || d2.Category != datasets.Healthcare || d2.Frequency != datasets.Quarterly {
				t.Errorf("entry %+v", d2)
			}
		})
		t.Run("gbk csv", func(t *testing.T) {
			csv := "数据名称,开放类型,更新频率,数据领域,提供单位\n空气质量日报,普遍开放,每日,生态环境,health-bureau\n"
			gbk, err := simplifiedchinese.GBK.NewEncoder().String(csv)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := e.svc.ImportList(ctx, e.pubB, "", mustWrite(t, "list.csv", []byte(gbk)), portal.ImportOptions{})
			if err != nil || rep.Created != 1 {
				t.Fatalf("import: %+v %v", rep, err)
			}
			d, _ := e.store.Dataset(ctx, rep.Entries[0].ID)
			if d.Title != "空气质量日报" || d.Agency.ID != e.agB.ID || d.Category != datasets.Environment || d.Frequency != datasets.Daily {
				t.Errorf("entry %+v", d)
			}
		})
		t.Run("publisher into another agency", func(t *testing.T) {
			p := mustWrite(t, "l.csv", []byte("title,agency\nx,transport-bureau\n"))
			_, err := e.svc.ImportList(ctx, e.pubB, "", p, portal.ImportOptions{})
			wantCode(t, err, datasets.EFORBIDDEN)
			_, err = e.svc.ImportList(ctx, e.pubB, e.agA.Slug, p, portal.ImportOptions{})
			wantCode(t, err, datasets.EFORBIDDEN)
			_, err = e.svc.ImportList(ctx, e.pubA, e.agA.Slug, mustWrite(t, "n.csv", []byte("title,agency\nx,新单位\n")), portal.ImportOptions{})
			wantCode(t, err, datasets.EINVALID) // only admins create agencies
			_, err = e.svc.ImportList(ctx, e.pubA, e.agA.Slug, p, portal.ImportOptions{Publish: true, ReviewNote: "ok"})
			wantCode(t, err, datasets.EFORBIDDEN)
		})
		t.Run("publish at import", func(t *testing.T) {
			p := mustWrite(t, "p.csv", []byte("slug,title,open_class,reason,legal_basis\nbus-stops,Bus stops,open,,\nsecret-one,Secret,closed,商业秘密,《反不正当竞争法》\n"))
			rep, err := e.svc.ImportList(ctx, e.admin, e.agA.Slug, p, portal.ImportOptions{Publish: true, ReviewNote: "数据管理机构审查"})
			if err != nil || rep.Published != 1 || rep.Created != 2 {
				t.Fatalf("import: %+v %v", rep, err)
			}
			l, _ := e.svc.PublicOpenList(ctx, e.agA.Slug)
			if l.Total != 1 || l.Items[0].Slug != "bus-stops" {
				t.Errorf("public list %+v", l.Items)
			}
			h, _ := e.svc.History(ctx, e.admin, "bus-stops")
			if len(h.Reviews) != 1 || h.Reviews[0].Legality.Note != "数据管理机构审查" {
				t.Errorf("no review recorded for the published row: %+v", h.Reviews)
			}
		})
	})
}

func TestImportBadRows(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()
		head := "slug,title,open_class,frequency,fields,access_modes,legal_basis,reason,file\n"
		cases := []struct {
			name, row, field string
		}{
			{"missing title", "ok-slug,,open,daily,,,,,", "title"},
			{"bad slug", "Bad Slug!,标题,open,daily,,,,,", "slug"},
			{"unknown open class", ",标题,半开放,daily,,,,,", "open_class"},
			{"unknown frequency", ",标题,open,每世纪,,,,,", "frequency"},
			{"conditional without reason", ",标题,有条件开放,daily,,,依据,,", "reason"},
			{"closed without legal basis", ",标题,非开放,daily,,,,理由,", "legal_basis"},
			{"unknown field type", `,标题,open,daily,"a:blob",,,,`, "fields"},
			{"field named twice", `,标题,open,daily,"a:text;a:integer",,,,`, "fields"},
			{"unknown access mode", ",标题,open,daily,,teleport,,,", "access_modes"},
			{"file outside the list", ",标题,open,daily,,,,,../etc/passwd", "file"},
			{"missing file", ",标题,open,daily,,,,,nope.csv", "file"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// A good row first, so the bad one is row 2 and the good one is not written either.
				body := head + "good-row,好,open,daily,,,,,\n" + c.row + "\n"
				_, err := e.svc.ImportList(ctx, e.admin, e.agA.Slug, mustWrite(t, "l.csv", []byte(body)), portal.ImportOptions{})
				wantCode(t, err, datasets.EINVALID)
				found := false
				for _, p := range datasets.ErrorProblems(err) {
					if p.Row == 2 && p.Field == c.field && p.Column > 0 {
						found = true
					}
					if p.Row != 2 {
						t.Errorf("problem on the good row: %v", p)
					}
				}
				if !found {
					t.Errorf("problems %v; want row 2 field %s with its column", datasets.ErrorProblems(err), c.field)
				}
				if _, err := e.store.Dataset(ctx, "good-row"); !datasets.IsCode(err, datasets.ENOTFOUND) {
					t.Fatalf("the good row was written by a failed import")
				}
			})
		}
		t.Run("every bad row is reported", func(t *testing.T) {
			body := head + ",,open,daily,,,,,\n,x,bad,daily,,,,,\n,y,open,bad,,,,,\n"
			_, err := e.svc.ImportList(ctx, e.admin, e.agA.Slug, mustWrite(t, "l.csv", []byte(body)), portal.ImportOptions{})
			rows := map[int]bool{}
			for _, p := range datasets.ErrorProblems(err) {
				rows[p.Row] = true
			}
			if len(rows) != 3 {
				t.Errorf("rows reported %v, want 1, 2 and 3", rows)
			}
		})
		t.Run("same slug twice", func(t *testing.T) {
			body := head + "dup,a,open,daily,,,,,\ndup,b,open,daily,,,,,\n"
			_, err := e.svc.ImportList(ctx, e.admin, e.agA.Slug, mustWrite(t, "l.csv", []byte(body)), portal.ImportOptions{})
			ps := datasets.ErrorProblems(err)
			if len(ps) != 1 || ps[0].Row != 2 || ps[0].Field != "slug" {
				t.Errorf("problems %v, want row 2 slug", ps)
			}
		})
		t.Run("no title column", func(t *testing.T) {
			_, err := e.svc.ImportList(ctx, e.admin, e.agA.Slug, mustWrite(t, "l.csv", []byte("foo,bar\n1,2\n")), portal.ImportOptions{})
			wantCode(t, err, datasets.EINVALID)
		})
	})
}

func FuzzParseOpenList(f *testing.F) {
	f.Add([]byte("title,open_class,frequency,formats\n公交,open,每日,[csv,json]\n"), ".csv")
	f.Add([]byte("数据名称,开放类型,数据项\n病床,有条件开放,\"a:int;b:日期:说明\"\n"), ".csv")
	f.Add([]byte(`[{"标题":"异地占补平衡","开放类型":"无条件开放","数据格式":"[xls]"}]`), ".json")
	f.Add([]byte("slug,title\n,\n"), ".csv")
	f.Fuzz(func(t *testing.T, data []byte, ext string) {
		if ext != ".csv" && ext != ".json" {
			ext = ".csv"
		}
		p := filepath.Join(t.TempDir(), "list"+ext)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		pl, err := portal.ParseOpenList(p)
		if err != nil {
			if datasets.ErrorCode(err) == datasets.EINTERNAL {
				t.Fatalf("parse error without a code: %v", err)
			}
			return
		}
		for i, r := range pl.Rows {
			if r.Row < 1 || (i > 0 && r.Row <= pl.Rows[i-1].Row) {
				t.Fatalf("row numbers not increasing: %v", pl.Rows)
			}
			_, ps := portal.EntryFromRow(pl, r)
			for _, p := range ps {
				if p.Row != r.Row || p.Field == "" || p.Message == "" {
					t.Fatalf("problem %+v does not locate row %d", p, r.Row)
				}
			}
		}
	})
}
