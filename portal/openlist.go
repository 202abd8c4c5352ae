package portal

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"kaifang/datasets"
	"kaifang/datasets/search/fold"
	"kaifang/datasets/tabular"
)

// Open-list columns, by their English names.
const (
	colSlug        = "slug"
	colTitle       = "title"
	colDescription = "description"
	colCategory    = "category"
	colOpenClass   = "open_class"
	colFrequency   = "frequency"
	colFormats     = "formats"
	colTags        = "tags"
	colFields      = "fields"
	colAccessModes = "access_modes"
	colLegalBasis  = "legal_basis"
	colReason      = "reason"
	colAgency      = "agency"
	colFile        = "file"
	colLicense     = "license"
)

// headerAliases maps a folded heading (simplified, half-width, lower case,
// no spaces — see fold) to its column. Agencies title the same column in
// many ways; traditional headings fold onto the simplified ones listed here.
var headerAliases = func() map[string]string {
	m := map[string]string{}
	add := func(col string, names ...string) {
		m[col] = col
		for _, n := range names {
			m[foldKey(n)] = col
		}
	}
	add(colSlug, "标识", "数据标识", "英文名称", "id")
	add(colTitle, "name", "数据名称", "目录名称", "标题", "资源名称", "数据集名称", "资料集名称", "数据目录名称", "名称")
	add(colDescription, "数据摘要", "简介", "摘要", "描述", "数据描述", "资料集描述", "数据简介")
	add(colCategory, "数据领域", "主题领域", "领域", "服务分类", "主题分类", "行业分类")
	add(colOpenClass, "开放类型", "开放属性", "开放条件", "资料提供属性", "openclass")
	add(colFrequency, "更新频率", "更新周期")
	add(colFormats, "format", "数据格式", "文件格式", "档案格式", "资源格式")
	add(colTags, "tag", "标签", "标籤", "关键字", "关键词")
	add(colFields, "数据项", "字段", "栏位", "数据项信息")
	add(colAccessModes, "开放方式", "获取方式", "accessmodes")
	add(colLegalBasis, "法律依据", "依据", "开放依据", "legalbasis")
	add(colReason, "理由", "原因", "开放理由", "不予开放理由", "有条件开放理由")
	add(colAgency, "提供单位", "数源单位", "数据来源", "数据提供方", "提供部门", "数据提供单位", "来源部门")
	add(colFile, "文件", "档案", "文件路径")
	add(colLicense, "许可", "授权")
	return m
}()

func foldKey(s string) string {
	s = fold.String(strings.TrimSpace(strings.TrimPrefix(s, "\uFEFF")))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\u3000' {
			return -1
		}
		return r
	}, s)
}

// ListRow is one data row of an open-list file, by column name.
type ListRow struct {
	Row   int               // 1-based data row, header excluded
	Line  int               // line (CSV), sheet row (XLSX) or record (JSON)
	Cells map[string]string // column -> trimmed text
}

// ParsedList is an open-list file read into rows of text.
type ParsedList struct {
	Columns map[string]int // column -> 1-based position in the file
	Ignored []string       // headings that name no known column
	Rows    []ListRow
}

// maxListRows bounds one import; a list is a catalogue, not a dataset.
const maxListRows = 50_000

// ParseOpenList reads a CSV, XLSX or JSON open list through tabular (so
// that encodings, BOMs and XLSX quirks are handled in one place), every
// column as text. It fails only when the file cannot be read as a table or
// names no title column; rows are judged later, all of them, by entryFromRow.
func ParseOpenList(path string) (*ParsedList, error) {
	info, err := tabular.Sniff(path, tabular.Options{MaxRows: maxListRows})
	if err != nil {
		if errors.Is(err, tabular.ErrNotTabular) {
			return nil, datasets.Wrap(err, datasets.EINVALID, "the open list is not a table (CSV, XLSX or JSON array)")
		}
		return nil, err
	}
	pl := &ParsedList{Columns: map[string]int{}}
	cols := make([]string, len(info.Columns))
	for i, k := range info.Keys {
		col, ok := headerAliases[foldKey(k)]
		if !ok {
			pl.Ignored = append(pl.Ignored, k)
			continue
		}
		if _, dup := pl.Columns[col]; dup {
			return nil, &datasets.Error{Code: datasets.EINVALID, Message: fmt.Sprintf("two columns mean %s: %q and another", col, k),
				Problems: []datasets.Problem{{Column: i + 1, Field: k, Message: "a second column for " + col}}}
		}
		pl.Columns[col] = i + 1
		cols[i] = col
		// Every value is text: the importer decides what a cell means.
		info.Columns[i].Type = datasets.TypeText
	}
	for i := range info.Columns {
		info.Columns[i].Type = datasets.TypeText
	}
	if _, ok := pl.Columns[colTitle]; !ok {
		return nil, &datasets.Error{Code: datasets.EINVALID,
			Message:  "the open list has no title column (title, 数据名称, 數據名稱, 目录名称, 标题)",
			Problems: []datasets.Problem{{Field: colTitle, Message: "column missing"}}}
	}
	r, err := tabular.Open(path, info)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for n := 1; ; n++ {
		vals, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		row := ListRow{Row: n, Line: r.Line(), Cells: map[string]string{}}
		empty := true
		for i, v := range vals {
			if cols[i] == "" || v == nil {
				continue
			}
			s := strings.TrimSpace(fmt.Sprint(v))
			if s != "" {
				empty = false
				row.Cells[cols[i]] = s
			}
		}
		if !empty {
			pl.Rows = append(pl.Rows, row)
		}
	}
	return pl, nil
}

// ListEntry is one row turned into an entry, before agencies are resolved.
type ListEntry struct {
	Row     int
	Dataset datasets.Dataset // Agency unset
	Agency  string           // the row's agency cell ("" : the import's agency)
	File    string           // path relative to the list file
}

// Value vocabularies, folded (simplified, lower case).
var (
	openClassWords = map[string]datasets.OpenClass{
		"open": datasets.Open, "无条件开放": datasets.Open, "普遍开放": datasets.Open, "开放": datasets.Open,
		"公开": datasets.Open, "无条件": datasets.Open,
		"conditional": datasets.Conditional, "有条件开放": datasets.Conditional, "依申请开放": datasets.Conditional,
		"有条件": datasets.Conditional, "受限开放": datasets.Conditional,
		"closed": datasets.Closed, "非开放": datasets.Closed, "不予开放": datasets.Closed, "不开放": datasets.Closed,
	}
	frequencyWords = map[string]datasets.Frequency{
		"realtime": datasets.Realtime, "实时": datasets.Realtime, "即时": datasets.Realtime, "每小时": datasets.Realtime,
		"daily": datasets.Daily, "每日": datasets.Daily, "每天": datasets.Daily, "日": datasets.Daily, "日更新": datasets.Daily,
		"weekly": datasets.Weekly, "每周": datasets.Weekly, "周": datasets.Weekly, "每星期": datasets.Weekly,
		"monthly": datasets.Monthly, "每月": datasets.Monthly, "月": datasets.Monthly, "月度": datasets.Monthly,
		"quarterly": datasets.Quarterly, "每季度": datasets.Quarterly, "每季": datasets.Quarterly, "季度": datasets.Quarterly,
		"yearly": datasets.Yearly, "annually": datasets.Yearly, "每年": datasets.Yearly, "年": datasets.Yearly,
		"年度": datasets.Yearly, "每半年": datasets.Quarterly,
		"irregular": datasets.Irregular, "不定期": datasets.Irregular, "不定时": datasets.Irregular,
		"静态": datasets.Irregular, "一次性": datasets.Irregular, "按需": datasets.Irregular,
	}
	// categoryWords maps the domain names Chinese portals use onto the
	// high-value categories; anything unknown is "other", never an error.
	categoryWords = map[string]datasets.Category{
		"交通运输": datasets.Transport, "道路交通": datasets.Transport, "交通": datasets.Transport, "交通出行": datasets.Transport,
		"医疗保障": datasets.Healthcare, "卫生健康": datasets.Healthcare, "医疗卫生": datasets.Healthcare, "医疗": datasets.Healthcare,
		"信用服务": datasets.Credit, "信用": datasets.Credit, "信用体系": datasets.Credit,
		"生态环境": datasets.Environment, "资源环境": datasets.Environment, "环境": datasets.Environment, "环境保护": datasets.Environment,
		"气象服务": datasets.Weather, "气象": datasets.Weather,
		"教育科技": datasets.Education, "教育": datasets.Education, "教育文化": datasets.Education,
		"社保就业": datasets.SocialSecurity, "社会保障": datasets.SocialSecurity, "社保": datasets.SocialSecurity,
		"就业": datasets.Employment, "劳动就业": datasets.Employment, "就业创业": datasets.Employment,
		"市场监管": datasets.Enterprise, "企业服务": datasets.Enterprise, "企业登记监管": datasets.Enterprise, "工商": datasets.Enterprise,
	}
	accessModeWords = map[string]datasets.AccessMode{
		"verify": datasets.Verify, "比对验证": datasets.Verify, "核验": datasets.Verify,
		"query": datasets.Query, "查询引用": datasets.Query, "接口": datasets.Query, "api": datasets.Query, "接口调用": datasets.Query,
		"bulk": datasets.Bulk, "批量复制": datasets.Bulk, "下载": datasets.Bulk, "文件下载": datasets.Bulk,
	}
	fieldTypeWords = map[string]datasets.FieldType{
		"integer": datasets.TypeInteger, "int": datasets.TypeInteger, "整数": datasets.TypeInteger, "整型": datasets.TypeInteger,
		"decimal": datasets.TypeDecimal, "number": datasets.TypeDecimal, "float": datasets.TypeDecimal, "数值": datasets.TypeDecimal,
		"小数": datasets.TypeDecimal, "数字": datasets.TypeDecimal,
		"boolean": datasets.TypeBoolean, "bool": datasets.TypeBoolean, "布尔": datasets.TypeBoolean,
		"date": datasets.TypeDate, "日期": datasets.TypeDate,
		"datetime": datasets.TypeDatetime, "timestamp": datasets.TypeDatetime, "时间": datasets.TypeDatetime, "日期时间": datasets.TypeDatetime,
		"text": datasets.TypeText, "string": datasets.TypeText, "varchar": datasets.TypeText, "字符": datasets.TypeText,
		"字符串": datasets.TypeText, "文本": datasets.TypeText, "字符型": datasets.TypeText,
	}
)

var (
	listSep  = regexp.MustCompile(`[;,、|\n，；]+`)
	fieldSep = regexp.MustCompile(`[;；\n]+`)
)

// splitList splits a cell like "[xml,xls,csv]" or "交通;出行、公交".
func splitList(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "[［【")
	s = strings.TrimRight(s, "]］】")
	out := []string{}
	for _, p := range listSep.Split(s, -1) {
		p = strings.Trim(strings.TrimSpace(p), `"'`)
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// entryFromRow turns one row into an entry and lists every fault of the
// row, each naming its row, column and field.
func entryFromRow(pl *ParsedList, r ListRow) (ListEntry, []datasets.Problem) {
	e := ListEntry{Row: r.Row}
	d := &e.Dataset
	var ps []datasets.Problem
	bad := func(col, msg string) {
		ps = append(ps, datasets.Problem{Row: r.Row, Line: r.Line, Column: pl.Columns[col], Field: col, Message: msg})
	}
	get := func(col string) string { return r.Cells[col] }

	d.Title = get(colTitle)
	if d.Title == "" {
		bad(colTitle, "is required")
	} else if len([]rune(d.Title)) > 500 {
		bad(colTitle, "is longer than 500 characters")
	}
	d.Slug = strings.ToLower(get(colSlug))
	if d.Slug != "" && !datasets.ValidSlug(d.Slug) {
		bad(colSlug, fmt.Sprintf("%q is not a slug (2–100 of a-z, 0-9 and inner hyphens)", clipText(d.Slug)))
	}
	d.Description = get(colDescription)
	d.LegalBasis = get(colLegalBasis)
	d.Reason = get(colReason)
	d.License = get(colLicense)
	e.Agency = get(colAgency)
	e.File = get(colFile)
	if e.File != "" && (filepath.IsAbs(e.File) || strings.HasPrefix(filepath.ToSlash(filepath.Clean(e.File)), "../") || filepath.Clean(e.File) == "..") {
		bad(colFile, "must be a path inside the list's directory")
	}

	d.Category = datasets.Other
	if v := get(colCategory); v != "" {
		k := foldKey(v)
		if c, ok := categoryWords[k]; ok {
			d.Category = c
		} else if slices.Contains(datasets.Categories, datasets.Category(k)) {
			d.Category = datasets.Category(k)
		}
	}
	d.OpenClass = datasets.Open
	if v := get(colOpenClass); v != "" {
		c, ok := openClassWords[foldKey(v)]
		if !ok {
			bad(colOpenClass, fmt.Sprintf("%q is not an open class (无条件开放/open, 有条件开放/conditional, 非开放/closed)", clipText(v)))
		}
		d.OpenClass = c
	}
	d.Frequency = datasets.Irregular
	if v := get(colFrequency); v != "" {
		f, ok := frequencyWords[foldKey(v)]
		if !ok {
			bad(colFrequency, fmt.Sprintf("%q is not an update frequency (每日, 每周, 每月, 每季度, 每年, 实时, 不定期)", clipText(v)))
		}
		d.Frequency = f
	}
	d.Formats = []string{}
	for _, f := range splitList(get(colFormats)) {
		f = strings.ToLower(strings.TrimPrefix(f, "."))
		if len(f) > 20 {
			bad(colFormats, fmt.Sprintf("%q is not a file format", clipText(f)))
			continue
		}
		d.Formats = append(d.Formats, f)
	}
	d.Tags = splitList(get(colTags))
	d.AccessModes = []datasets.AccessMode{}
	for _, m := range splitList(get(colAccessModes)) {
		am, ok := accessModeWords[foldKey(m)]
		if !ok {
			bad(colAccessModes, fmt.Sprintf("%q is not an access mode (verify/比对验证, query/查询引用, bulk/批量复制)", clipText(m)))
			continue
		}
		if !slices.Contains(d.AccessModes, am) {
			d.AccessModes = append(d.AccessModes, am)
		}
	}
	d.Fields = []datasets.Field{}
	if v := get(colFields); v != "" {
		for _, spec := range fieldSep.Split(v, -1) {
			spec = strings.TrimSpace(spec)
			if spec == "" {
				continue
			}
			parts := strings.SplitN(strings.ReplaceAll(spec, "：", ":"), ":", 3)
			f := datasets.Field{Name: strings.TrimSpace(parts[0]), Type: datasets.TypeText}
			if len(parts) > 1 && strings.TrimSpace(parts[1]) != "" {
				t, ok := fieldTypeWords[foldKey(parts[1])]
				if !ok {
					bad(colFields, fmt.Sprintf("field %q has unknown type %q", clipText(f.Name), clipText(parts[1])))
				}
				f.Type = t
			}
			if len(parts) > 2 {
				f.Description = strings.TrimSpace(parts[2])
			}
			if f.Name == "" {
				bad(colFields, "a field has no name (write name:type:description)")
				continue
			}
			if slices.ContainsFunc(d.Fields, func(o datasets.Field) bool { return o.Name == f.Name }) {
				bad(colFields, fmt.Sprintf("field %q is named twice", clipText(f.Name)))
				continue
			}
			d.Fields = append(d.Fields, f)
		}
	}
	if d.OpenClass == datasets.Conditional || d.OpenClass == datasets.Closed {
		if d.Reason == "" {
			bad(colReason, "is required for conditional and closed entries")
		}
		if d.LegalBasis == "" {
			bad(colLegalBasis, "is required for conditional and closed entries")
		}
	}
	d.State = datasets.Draft
	return e, ps
}

func clipText(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
