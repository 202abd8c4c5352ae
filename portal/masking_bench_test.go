package portal

import (
	"testing"

	"kaifang/datasets"
)

// benchPage is a realistic page of a conditionally-open entry: ten rows of
// Chinese names, 11-digit mobiles, 18-character ID numbers, addresses and an
// amount, every personal column masked by the grant (the hash rule included,
// as a join key).
func benchPage() (*datasets.Grant, []datasets.Column, [][]any) {
	g := &datasets.Grant{ApplicationID: "app-0001", Masks: map[string]datasets.MaskRule{
		"name":    datasets.MaskName,
		"mobile":  datasets.MaskMobile,
		"id_card": datasets.MaskIDCard,
		"address": datasets.MaskAddress,
		"holder":  datasets.MaskHash,
	}}
	cols := []datasets.Column{
		{Name: "name", Type: datasets.TypeText},
		{Name: "mobile", Type: datasets.TypeText},
		{Name: "id_card", Type: datasets.TypeText},
		{Name: "address", Type: datasets.TypeText},
		{Name: "holder", Type: datasets.TypeText},
		{Name: "amount", Type: datasets.TypeInteger},
	}
	names := []string{"張三", "李四", "王小明", "歐陽娜娜", "趙六", "錢七", "孫悟空", "周八", "吳九", "司馬相如"}
	rows := make([][]any, len(names))
	for i, n := range names {
		rows[i] = []any{
			n,
			"1381234567" + string(rune('0'+i)),
			"11010519491231002" + string(rune('0'+i)),
			"上海市浦東新區世紀大道" + string(rune('1'+i)) + "00號",
			"11010519491231002" + string(rune('0'+i)),
			int64(1000 * i),
		}
	}
	return g, cols, rows
}

func BenchmarkMaskRows(b *testing.B) {
	s := &Service{Secret: []byte("a server secret of 32 bytes.....")}
	g, cols, page := benchPage()
	rows := make([][]any, len(page))
	for i := range rows {
		rows[i] = make([]any, len(page[i]))
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range rows {
			copy(rows[i], page[i])
		}
		s.MaskRows(g, cols, rows)
	}
}

func BenchmarkMaskValue(b *testing.B) {
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		rule datasets.MaskRule
		v    string
	}{
		{datasets.MaskIDCard, "11010519491231002X"},
		{datasets.MaskMobile, "13812345678"},
		{datasets.MaskName, "歐陽娜娜"},
		{datasets.MaskAddress, "上海市浦東新區世紀大道100號"},
		{datasets.MaskHash, "11010519491231002X"},
	} {
		b.Run(string(tc.rule), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MaskValue(tc.rule, tc.v, key)
			}
		})
	}
}

func BenchmarkMaskKey(b *testing.B) {
	s := &Service{Secret: []byte("a server secret of 32 bytes.....")}
	b.ReportAllocs()
	for b.Loop() {
		s.MaskKey("app-0001")
	}
}

func BenchmarkPresentKey(b *testing.B) {
	s := &Service{Secret: []byte("a server secret of 32 bytes.....")}
	secret, err := newKeySecret()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if s.PresentKey(secret).hash == nil {
				b.Fatal("not presented")
			}
		}
	})
}
