package tabular_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/tabular"
)

func TestRealFiles(t *testing.T) {
	t.Run("NBS GBK csv with preamble and notes", func(t *testing.T) {
		p := fixture("cn_nbs_province_population_annual_gbk.csv")
		info := MustSniff(t, p, tabular.Options{})
		if info.Format != tabular.CSV || info.Encoding != tabular.EncGB18030 || info.Delimiter != ',' {
			t.Fatalf("format/encoding/delimiter = %s/%s/%q, want csv/GB18030/','", info.Format, info.Encoding, info.Delimiter)
		}
		if info.HeaderLine != 4 {
			t.Errorf("header on line %d, want 4 (past the 3 preamble lines)", info.HeaderLine)
		}
		if info.Columns[0].Name != "地区" || info.Columns[1].Name != "2024年" || len(info.Columns) != 11 {
			t.Errorf("columns %v, want 地区, 2024年 … 2015年", info.Columns)
		}
		wantType(t, info, "地区", datasets.TypeText)
		for _, y := range []string{"2024年", "2020年", "2015年"} {
			wantType(t, info, y, datasets.TypeInteger)
		}
		if info.Rows < 31 {
			t.Errorf("%d rows, want the 31 provinces", info.Rows)
		}
		notes := strings.Join(info.Notes, "\n")
		for _, want := range []string{"数据库：分省年度数据", "指标：年末常住人口(万人)", "注：常住人口包括", "数据来源：国家统计局"} {
			if !strings.Contains(notes, want) {
				t.Errorf("notes %q lack %q", info.Notes, want)
			}
		}
		if len(info.Problems) != 0 {
			t.Errorf("problems %v; the footer notes are not ragged rows", info.Problems)
		}
		rows := MustReadAll(t, p, info)
		if int64(len(rows)) != info.Rows {
			t.Errorf("read %d rows, Sniff counted %d", len(rows), info.Rows)
		}
		if rows[0][0] != "北京市" || rows[0][1] != int64(2183) || rows[len(rows)-1][0] != "新疆维吾尔自治区" {
			t.Errorf("first row %v, last %v", rows[0], rows[len(rows)-1])
		}
	})

	t.Run("TRA UTF-8 BOM CRLF 86k rows", func(t *testing.T) {
		p := fixture("tw_tra_station_daily_in_out_2022.csv")
		info := MustSniff(t, p, tabular.Options{})
		if info.Encoding != tabular.EncUTF8BOM || info.Rows != 86552 {
			t.Fatalf("encoding %s rows %d, want UTF-8-BOM and 86552", info.Encoding, info.Rows)
		}
		if info.Columns[0].Name != "trnOpDate" {
			t.Errorf("first column %q: the BOM must not stick to the name", info.Columns[0].Name)
		}
		// yyyymmdd stays an integer unless the schema declares a date.
		wantType(t, info, "trnOpDate", datasets.TypeInteger)
		wantType(t, info, "gateInComingCnt", datasets.TypeInteger)
		rows := MustReadAll(t, p, info)
		if len(rows) != 86552 || rows[0][0] != int64(20220101) || rows[0][2] != int64(8645) {
			t.Errorf("%d rows, first %v", len(rows), rows[0])
		}

		declared := MustSniff(t, p, tabular.Options{Declared: []datasets.Field{{Name: "trnOpDate", Type: datasets.TypeDate}}})
		wantType(t, declared, "trnOpDate", datasets.TypeDate)
		r, err := tabular.Open(p, declared)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		row, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got := row[0]; got != time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC) {
			t.Errorf("declared date read as %v, want 2022-01-01", got)
		}
		if r.Line() != 2 {
			t.Errorf("Line() = %d, want 2", r.Line())
		}
	})

	t.Run("food factory register quoted fields and tax IDs", func(t *testing.T) {
		p := fixture("tw_ntpc_food_factory_register.csv")
		info := MustSniff(t, p, tabular.Options{})
		if info.Rows != 1232 {
			t.Errorf("%d rows, want 1232", info.Rows)
		}
		wantType(t, info, "tax_ID_number", datasets.TypeText)
		wantType(t, info, "No", datasets.TypeText) // holds 01000070
		wantType(t, info, "wgs84aX", datasets.TypeDecimal)
		rows := MustReadAll(t, p, info)
		tax := colIndex(t, info, "tax_ID_number")
		found := false
		for _, r := range rows {
			if r[tax] == "03561504" {
				found = true
			}
		}
		if !found {
			t.Error("tax ID 03561504 lost its leading zero")
		}
		if rows[0][0] != "鴻輝食品廠" || rows[0][colIndex(t, info, "wgs84aY")] != 25.0327031220478 {
			t.Errorf("first row %v", rows[0])
		}
	})

	t.Run("AQI empty numeric cells and PM2.5 name", func(t *testing.T) {
		p := fixture("tw_moenv_aqi_hourly_aqx_p_432.csv")
		info := MustSniff(t, p, tabular.Options{})
		wantType(t, info, "PM2.5", datasets.TypeInteger)
		wantType(t, info, "PublishTime", datasets.TypeDatetime)
		wantType(t, info, "WindSpeed", datasets.TypeDecimal)
		wantType(t, info, "WindDirec", datasets.TypeInteger)
		rows := MustReadAll(t, p, info)
		if len(rows) != 84 {
			t.Fatalf("%d rows, want 84", len(rows))
		}
		if got := rows[0][colIndex(t, info, "PublishTime")]; got != time.Date(2021, 8, 22, 13, 0, 0, 0, time.UTC) {
			t.Errorf("PublishTime %v, want 2021-08-22 13:00", got)
		}
		taoyuan := rows[16] // line 18
		if taoyuan[0] != "桃園" || taoyuan[colIndex(t, info, "WindSpeed")] != nil || taoyuan[colIndex(t, info, "WindDirec")] != nil {
			t.Errorf("桃園 row %v: empty wind cells must be null", taoyuan)
		}
		if rows[2][colIndex(t, info, "Pollutant")] != nil {
			t.Errorf("萬里 Pollutant %v, want null", rows[2][colIndex(t, info, "Pollutant")])
		}
	})

	t.Run("CDC xlsx codes keep leading zeros", func(t *testing.T) {
		if raceEnabled {
			t.Skip("the 14907-row XLSX takes over a minute under -race; run go test without -race for it")
		}
		p := fixture("tw_cdc_covid19_vaccine_contract_clinics.xlsx")
		info := MustSniff(t, p, tabular.Options{})
		if info.Format != tabular.XLSX || info.Sheet != "工作表1" || info.Rows != 14907 {
			t.Fatalf("format %s sheet %q rows %d, want xlsx 工作表1 14907", info.Format, info.Sheet, info.Rows)
		}
		wantType(t, info, "醫事機構代碼", datasets.TypeText)
		// Ten rows carry a second phone number in column H, which has no heading.
		wantType(t, info, "col_8", datasets.TypeText)
		rows := MustReadAll(t, p, info)
		if len(rows) != 14907 {
			t.Fatalf("read %d rows", len(rows))
		}
		code, zeros := colIndex(t, info, "醫事機構代碼"), 0
		for _, r := range rows {
			if s, _ := r[code].(string); strings.HasPrefix(s, "0") && len(s) == 10 {
				zeros++
			}
		}
		if zeros == 0 {
			t.Error("no 醫事機構代碼 starts with 0: leading zeros were lost")
		}
	})

	t.Run("CWA nested JSON is not tabular", func(t *testing.T) {
		info, err := tabular.Sniff(fixture("tw_cwa_F-C0032-001_36h_forecast.json"), tabular.Options{})
		if !errors.Is(err, tabular.ErrNotTabular) {
			t.Fatalf("err = %v, want ErrNotTabular", err)
		}
		de := wantCode(t, err, datasets.EINVALID)
		if !strings.Contains(de.Message, "cwaopendata.dataset.location") {
			t.Errorf("message %q does not say where the nested records are", de.Message)
		}
		if info.Format != tabular.None {
			t.Errorf("format %q, want None", info.Format)
		}
	})

	t.Run("SZ API page takes the data array", func(t *testing.T) {
		p := fixture("cn_sz_opendata_szt_card_records_api_page1x100.json")
		info := MustSniff(t, p, tabular.Options{})
		if info.Format != tabular.JSON || info.JSONKey != "data" || info.Rows != 100 {
			t.Fatalf("format %s key %q rows %d, want json data 100", info.Format, info.JSONKey, info.Rows)
		}
		wantType(t, info, "deal_date", datasets.TypeDatetime)
		wantType(t, info, "card_no", datasets.TypeText)
		wantType(t, info, "deal_money", datasets.TypeInteger)
		rows := MustReadAll(t, p, info)
		if len(rows) != 100 || rows[0][colIndex(t, info, "card_no")] != "CBEHFCFCG" ||
			rows[0][0] != time.Date(2018, 8, 31, 22, 14, 50, 0, time.UTC) {
			t.Errorf("%d rows, first %v", len(rows), rows[0])
		}
	})
}
