package portal_test

import (
	"context"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/sqltest"
)

// Statistical bureaus publish headings like the one below (27 characters,
// 81 bytes): past PostgreSQL's 63-byte identifiers. The version must load,
// keep the full heading in its schema and answer filters on it.
func TestAddVersionWithLongChineseHeadings(t *testing.T) {
	heading := "年末常住人口（按户籍所在地与现居住地交叉分类统计，单位：万人）"
	other := "年末常住人口（按户籍所在地与现居住地交叉分类统计，单位：万户）"
	csv := "地区," + heading + "," + other + "\n北京市,2183,901\n上海市,2480,1002\n"
	for _, dbName := range sqltest.Names {
		t.Run(dbName, func(t *testing.T) {
			ctx := context.Background()
			svc, st, d := versionFixture(t, sqltest.URL(t, dbName), "file://"+t.TempDir())
			v, err := svc.AddVersion(ctx, d.ID, upload([]byte(csv), "人口.csv"))
			if err != nil {
				t.Fatalf("AddVersion: %v", err)
			}
			if len(v.Columns) != 3 || v.Columns[1].Name != heading || v.Columns[2].Name != other {
				t.Fatalf("schema %+v, want the full headings", v.Columns)
			}
			page, err := st.QueryRows(ctx, v.RowTable, datasets.RowQuery{Columns: columnsOf(v), Select: []string{"地区", other},
				Filters: []datasets.RowFilter{{Field: heading, Op: datasets.OpGt, Values: []any{int64(2200)}}}, Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Rows) != 1 || page.Rows[0][0] != "上海市" || page.Rows[0][1] != int64(1002) {
				t.Fatalf("rows %v, want 上海市 1002", page.Rows)
			}
		})
	}
}
