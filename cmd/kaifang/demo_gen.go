package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"time"
)

// Generated demo files: deterministic (fixed seeds), so that loading the
// demo twice produces byte-identical files and therefore no new versions.

var xmDistricts = []string{"思明區", "湖里區", "集美區", "海滄區", "同安區", "翔安區"}

func genCSV(header []string, n int, seed uint64, row func(r *rand.Rand, i int) []string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(header)
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	for i := 0; i < n; i++ {
		_ = w.Write(row(r, i))
	}
	w.Flush()
	return buf.Bytes()
}

func day(base string, i int) string {
	t, _ := time.Parse("2006-01-02", base)
	return t.AddDate(0, 0, i).Format("2006-01-02")
}

func month(i int) string { return fmt.Sprintf("%04d-%02d", 2021+i/12, i%12+1) }

var surnames = []rune("王李張劉陳楊黃趙吳周徐孫馬朱胡郭何林羅高")
var givens = []string{"偉", "芳", "娜", "秀英", "敏", "靜", "麗", "強", "磊", "軍", "洋", "勇", "艷", "傑", "娟", "濤", "明", "超", "秀蘭", "霞"}

func person(r *rand.Rand) string {
	return string(surnames[r.IntN(len(surnames))]) + givens[r.IntN(len(givens))]
}

// idCard makes a syntactically valid 18-digit resident ID number with its check digit.
func idCard(r *rand.Rand) string {
	b := fmt.Sprintf("3502%02d%04d%02d%02d%03d", r.IntN(6)+3, 1950+r.IntN(50), r.IntN(12)+1, r.IntN(28)+1, r.IntN(1000))
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range b {
		sum += int(c-'0') * weights[i]
	}
	return b + string("10X98765432"[sum%11])
}

func creditCode(r *rand.Rand) string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	b := []byte("91350200")
	for len(b) < 18 {
		b = append(b, chars[r.IntN(len(chars))])
	}
	return string(b)
}

var demoGenerators = map[string]func() (name string, body []byte){
	"social-insurance": func() (string, []byte) {
		return "social_insurance_enrollment.csv", genCSV([]string{"月份", "區", "養老保險參保人數", "醫療保險參保人數", "失業保險參保人數", "工傷保險參保人數"}, 60*6, 11, func(r *rand.Rand, i int) []string {
			base := 150000 + (i%6)*40000 + (i/6)*900
			return []string{month(i / 6), xmDistricts[i%6], fmt.Sprint(base + r.IntN(3000)), fmt.Sprint(base*11/10 + r.IntN(3000)), fmt.Sprint(base*8/10 + r.IntN(2000)), fmt.Sprint(base*9/10 + r.IntN(2000))}
		})
	},
	"provident-fund": func() (string, []byte) {
		return "housing_provident_fund.csv", genCSV([]string{"月份", "繳存人數", "繳存額(萬元)", "提取額(萬元)", "個人住房貸款發放額(萬元)"}, 60, 12, func(r *rand.Rand, i int) []string {
			return []string{month(i), fmt.Sprint(1200000 + i*5000 + r.IntN(4000)), fmt.Sprintf("%.2f", 280000+float64(i)*1500+r.Float64()*5000), fmt.Sprintf("%.2f", 190000+r.Float64()*40000), fmt.Sprintf("%.2f", 120000+r.Float64()*60000)}
		})
	},
	"sipay": func() (string, []byte) {
		return "personal_social_insurance_payments.csv", genCSV([]string{"身份證號", "姓名", "手機號", "繳費月份", "險種", "繳費基數", "個人繳費額", "單位名稱"}, 2000, 13, func(r *rand.Rand, i int) []string {
			kinds := []string{"企業職工基本養老保險", "職工基本醫療保險", "失業保險"}
			basePay := 4000 + r.IntN(20000)
			return []string{idCard(r), person(r), fmt.Sprintf("1%d%09d", 3+r.IntN(6), r.IntN(1e9)), month(36 + i%24), kinds[i%3], fmt.Sprint(basePay), fmt.Sprintf("%.2f", float64(basePay)*0.08), fmt.Sprintf("厦门示範%s有限公司", []string{"科技", "貿易", "物流", "建設", "食品"}[r.IntN(5)])}
		})
	},
	"jobs": func() (string, []byte) {
		titles := []string{"軟件工程師", "會計", "電工", "護士", "教師", "銷售代表", "倉庫管理員", "廚師", "網約車司機", "數據分析師", "保安", "機械操作工"}
		edu := []string{"不限", "高中", "大專", "本科", "碩士"}
		return "job_vacancies.csv", genCSV([]string{"發布日期", "崗位名稱", "招聘單位", "招聘人數", "最低月薪", "最高月薪", "學歷要求", "工作地點"}, 1500, 14, func(r *rand.Rand, i int) []string {
			lo := 3000 + r.IntN(12)*500
			return []string{day("2026-01-01", i/5), titles[r.IntN(len(titles))], fmt.Sprintf("厦门%s有限公司", []string{"海灣", "鷺島", "嘉庚", "五緣", "集美"}[r.IntN(5)]), fmt.Sprint(1 + r.IntN(20)), fmt.Sprint(lo), fmt.Sprint(lo + 1000 + r.IntN(8)*500), edu[r.IntN(len(edu))], xmDistricts[r.IntN(6)]}
		})
	},
	"penalties": func() (string, []byte) {
		reasons := []string{"未按規定公示年度報告", "銷售過期食品", "超標排放污水", "無證經營", "虛假宣傳", "未落實安全生產責任"}
		orgs := []string{"厦门市市场监督管理局", "厦门市生态环境局", "厦门市应急管理局", "厦门市交通运输局"}
		return "administrative_penalties.csv", genCSV([]string{"行政相對人名稱", "統一社會信用代碼", "處罰事由", "處罰類別", "罰款金額(元)", "處罰決定日期", "處罰機關"}, 800, 15, func(r *rand.Rand, i int) []string {
			return []string{fmt.Sprintf("厦门%s商貿有限公司", string([]rune("金銀海山林湖鷺鳳")[r.IntN(8)])+string([]rune("興達盛豐源泰")[r.IntN(6)])), creditCode(r), reasons[r.IntN(len(reasons))], []string{"警告", "罰款", "沒收違法所得"}[r.IntN(3)], fmt.Sprint((1 + r.IntN(50)) * 1000), day("2025-01-01", i/2), orgs[r.IntN(len(orgs))]}
		})
	},
	"credit-ratings": func() (string, []byte) {
		return "enterprise_credit_ratings.csv", genCSV([]string{"統一社會信用代碼", "企業名稱", "評價等級", "評價日期"}, 1000, 16, func(r *rand.Rand, i int) []string {
			return []string{creditCode(r), fmt.Sprintf("厦门示範企業%04d有限公司", i+1), []string{"A", "A", "B", "B", "B", "C", "D"}[r.IntN(7)], day("2026-01-01", (i%4)*91)}
		})
	},
	"enterprises": func() (string, []byte) {
		kinds := []string{"有限責任公司", "股份有限公司", "個人獨資企業", "合夥企業"}
		return "enterprise_registrations.csv", genCSV([]string{"企業名稱", "統一社會信用代碼", "企業類型", "註冊資本(萬元)", "成立日期", "登記機關", "所在區"}, 3000, 17, func(r *rand.Rand, i int) []string {
			d := xmDistricts[r.IntN(6)]
			return []string{fmt.Sprintf("厦门%s%s有限公司", string([]rune("新創華遠宏鼎博雅")[r.IntN(8)])+string([]rune("科信達通智匯")[r.IntN(6)]), []string{"科技", "貿易", "餐飲", "諮詢", "物流"}[r.IntN(5)]), creditCode(r), kinds[r.IntN(len(kinds))], fmt.Sprint((1 + r.IntN(500)) * 10), day("2024-01-01", i/3), "厦门市市场监督管理局" + d + "分局", d}
		})
	},
	"schools": func() (string, []byte) {
		return "schools_directory.csv", genCSV([]string{"學校名稱", "辦學類型", "所在區", "地址", "在校生人數", "是否寄宿"}, 240, 18, func(r *rand.Rand, i int) []string {
			kind := []string{"小學", "初級中學", "完全中學", "九年一貫制學校"}[r.IntN(4)]
			d := xmDistricts[i%6]
			return []string{fmt.Sprintf("厦门市%s第%d%s", d, i/6+1, kind), kind, d, fmt.Sprintf("%s%s路%d號", d, string([]rune("湖濱嘉禾仙岳蓮花海灣")[r.IntN(10)]), r.IntN(300)+1), fmt.Sprint(300 + r.IntN(3000)), []string{"true", "false", "false"}[r.IntN(3)]}
		})
	},
	"hospitals": func() (string, []byte) {
		return "medical_institutions.csv", genCSV([]string{"機構名稱", "機構類別", "等級", "床位數", "所在區", "地址", "醫保定點"}, 180, 19, func(r *rand.Rand, i int) []string {
			kind := []string{"綜合醫院", "中醫醫院", "專科醫院", "社區衛生服務中心", "鄉鎮衛生院"}[r.IntN(5)]
			d := xmDistricts[i%6]
			return []string{fmt.Sprintf("厦门市%s%s%d", d, kind, i/6+1), kind, []string{"三級甲等", "三級乙等", "二級甲等", "一級", "未定級"}[r.IntN(5)], fmt.Sprint(r.IntN(1500)), d, fmt.Sprintf("%s健康路%d號", d, r.IntN(200)+1), []string{"是", "是", "否"}[r.IntN(3)]}
		})
	},
	"bus": func() (string, []byte) {
		stops := []string{"火車站", "輪渡", "廈門大學", "集美學村", "高崎機場", "SM廣場", "五緣灣", "同安城區", "翔安隧道口", "海滄灣公園", "軟件園二期", "BRT第一碼頭"}
		return "bus_routes.csv", genCSV([]string{"線路", "起點站", "終點站", "首班時間", "末班時間", "票價(元)", "線路長度(公里)"}, 320, 20, func(r *rand.Rand, i int) []string {
			a := r.IntN(len(stops))
			b := (a + 1 + r.IntN(len(stops)-1)) % len(stops)
			return []string{fmt.Sprintf("%d路", i+1), stops[a], stops[b], fmt.Sprintf("%02d:%02d", 5+r.IntN(2), r.IntN(4)*15), fmt.Sprintf("%02d:%02d", 21+r.IntN(3), r.IntN(4)*15), fmt.Sprint(1 + r.IntN(2)), fmt.Sprintf("%.1f", 5+r.Float64()*30)}
		})
	},
	"water": func() (string, []byte) {
		sites := []string{"九龍江北溪取水口", "汀溪水庫", "石兜水庫", "坂頭水庫", "杏林灣", "筼筜湖"}
		return "water_quality.csv", genCSV([]string{"監測日期", "站點", "pH", "溶解氧(mg/L)", "高錳酸鹽指數(mg/L)", "氨氮(mg/L)", "水質類別"}, 365*6, 21, func(r *rand.Rand, i int) []string {
			return []string{day("2025-01-01", i/6), sites[i%6], fmt.Sprintf("%.2f", 6.8+r.Float64()), fmt.Sprintf("%.2f", 5+r.Float64()*4), fmt.Sprintf("%.2f", 1.5+r.Float64()*3), fmt.Sprintf("%.3f", r.Float64()*0.8), []string{"Ⅱ類", "Ⅱ類", "Ⅲ類", "Ⅳ類"}[r.IntN(4)]}
		})
	},
	"weather": func() (string, []byte) {
		stations := []string{"厦门站", "同安站", "翔安站"}
		return "weather_station_daily.csv", genCSV([]string{"日期", "站名", "平均氣溫(℃)", "最高氣溫(℃)", "最低氣溫(℃)", "降水量(mm)", "平均風速(m/s)"}, 365*3, 22, func(r *rand.Rand, i int) []string {
			doy := i / 3
			base := 21 + 7*sinApprox(float64(doy-110)/365)
			rain := 0.0
			if r.IntN(3) == 0 {
				rain = r.Float64() * 40
			}
			return []string{day("2025-01-01", doy), stations[i%3], fmt.Sprintf("%.1f", base), fmt.Sprintf("%.1f", base+3+r.Float64()*3), fmt.Sprintf("%.1f", base-3-r.Float64()*3), fmt.Sprintf("%.1f", rain), fmt.Sprintf("%.1f", 1+r.Float64()*5)}
		})
	},
}

// sinApprox is a smooth yearly cycle in [-1,1] for x in years.
func sinApprox(x float64) float64 {
	x -= float64(int(x))
	if x < 0 {
		x++
	}
	// triangle smoothed to a parabola per half period
	if x < 0.5 {
		return 16 * x * (0.5 - x) * 1
	}
	x -= 0.5
	return -16 * x * (0.5 - x)
}
