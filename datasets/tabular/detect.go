package tabular

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"kaifang/datasets"
)

type detection struct {
	format   Format
	encoding string
	delim    rune
	why      string // for None: what the file is instead
}

var magics = []struct {
	prefix, what string
}{
	{"%PDF", "a PDF document"},
	{"\x89PNG", "a PNG image"},
	{"\xFF\xD8\xFF", "a JPEG image"},
	{"GIF8", "a GIF image"},
	{"\x1F\x8B", "a gzip archive"},
	{"Rar!", "a RAR archive"},
	{"7z\xBC\xAF", "a 7-Zip archive"},
	{"\xD0\xCF\x11\xE0", "a legacy binary Office file (.xls/.doc); save it as .xlsx to load its rows"},
}

// detect decides the format (from content first, extension second), the
// text encoding and the CSV delimiter. f is left at an unspecified offset.
func detect(f *os.File, path, forceEnc string) (detection, error) {
	head := make([]byte, 8<<10)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return detection{}, datasets.Wrap(err, datasets.EINTERNAL, "tabular: cannot read the file")
	}
	head = head[:n]
	if n == 0 {
		return detection{}, datasets.Errorf(datasets.EINVALID, "the file is empty")
	}
	ext := strings.ToLower(filepath.Ext(path))
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")) {
		zr, err := zip.OpenReader(path)
		if err != nil {
			if ext == ".xlsx" || ext == ".xlsm" {
				return detection{}, datasets.Wrap(err, datasets.EINVALID, "the XLSX file is damaged")
			}
			return detection{why: "a damaged ZIP archive"}, nil
		}
		defer zr.Close()
		for _, zf := range zr.File {
			if zf.Name == "xl/workbook.xml" {
				return detection{format: XLSX}, nil
			}
		}
		return detection{why: "a ZIP archive"}, nil
	}
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return detection{why: m.what}, nil
		}
	}
	if ext == ".xlsx" || ext == ".xlsm" {
		return detection{}, datasets.Errorf(datasets.EINVALID, "the file is named %s but is not an XLSX workbook", ext)
	}
	enc := forceEnc
	if enc == "" {
		if enc, err = detectEncoding(f, head); err != nil {
			return detection{}, err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return detection{}, datasets.Wrap(err, datasets.EINTERNAL, "tabular: cannot read the file")
	}
	dr, err := decodeReader(f, enc)
	if err != nil {
		return detection{}, err
	}
	buf := make([]byte, 64<<10)
	n, _ = io.ReadFull(dr, buf)
	sample := string(buf[:n])
	if strings.IndexByte(sample, 0) >= 0 {
		return detection{why: "binary content"}, nil
	}
	d := detection{encoding: enc}
	trimmed := strings.TrimLeft(sample, " \t\r\n\ufeff")
	if trimmed == "" {
		return detection{}, datasets.Errorf(datasets.EINVALID, "the file holds only blank space")
	}
	isJSONExt := ext == ".json" || ext == ".ndjson" || ext == ".jsonl" || ext == ".geojson"
	switch {
	case trimmed[0] == '[':
		d.format = JSON
		return d, nil
	case trimmed[0] == '{':
		d.format = JSON
		if ext == ".ndjson" || ext == ".jsonl" || looksNDJSON(trimmed) {
			d.format = NDJSON
		}
		return d, nil
	case isJSONExt: // a scalar document, or not JSON at all: the decoder tells which
		d.format = JSON
		return d, nil
	case trimmed[0] == '<':
		return detection{why: "markup (XML or HTML)"}, nil
	}
	d.delim = sniffDelimiter(sample, ext == ".tsv" || ext == ".tab")
	if d.delim == 0 {
		if ext != ".csv" && ext != ".tsv" && ext != ".tab" && ext != ".txt" {
			return detection{why: "plain text without columns"}, nil
		}
		d.delim = ','
		if ext == ".tsv" || ext == ".tab" {
			d.delim = '\t'
		}
	}
	d.format = CSV
	if d.delim == '\t' {
		d.format = TSV
	}
	return d, nil
}

// looksNDJSON reports whether the text starts with one complete JSON object
// on its own line followed by another line that opens an object.
func looksNDJSON(s string) bool {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return false
	}
	if !json.Valid([]byte(strings.TrimSpace(s[:i]))) {
		return false
	}
	rest := strings.TrimLeft(s[i+1:], " \t\r\n")
	return rest != "" && rest[0] == '{'
}

// sniffDelimiter picks, among , \t ; |, the delimiter that splits the most
// sample lines into the same number of cells. Preamble and note lines have
// no delimiter and so do not vote.
func sniffDelimiter(sample string, preferTab bool) rune {
	lines := make([]string, 0, 50)
	for len(sample) > 0 && len(lines) < 50 {
		i := strings.IndexByte(sample, '\n')
		var line string
		if i < 0 {
			line, sample = sample, ""
		} else {
			line, sample = sample[:i], sample[i+1:]
		}
		if strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	best, bestScore, bestWidth := rune(0), 0, 0
	for _, d := range []rune{',', '\t', ';', '|'} {
		freq := map[int]int{}
		for _, l := range lines {
			c, inQ := 0, false
			for _, r := range l {
				switch {
				case r == '"':
					inQ = !inQ
				case r == d && !inQ:
					c++
				}
			}
			if c > 0 {
				freq[c]++
			}
		}
		score, width := 0, 0
		for c, n := range freq {
			if n > score || (n == score && c > width) {
				score, width = n, c
			}
		}
		if preferTab && d == '\t' && score > 0 {
			return '\t'
		}
		if score > bestScore || (score == bestScore && score > 0 && width > bestWidth) {
			best, bestScore, bestWidth = d, score, width
		}
	}
	return best
}

// detectEncoding reads the whole file: a file is UTF-8 only if every byte
// of it is (agencies' exports are ASCII for pages and then hit a name).
// Otherwise GB18030 and Big5 both decode the first MiB and the one that
// yields more common Chinese characters wins.
func detectEncoding(f *os.File, head []byte) (string, error) {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return EncUTF8BOM, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return EncUTF16LE, nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return EncUTF16BE, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", datasets.Wrap(err, datasets.EINTERNAL, "tabular: cannot read the file")
	}
	br := bufio.NewReaderSize(f, 256<<10)
	buf := make([]byte, 256<<10)
	var sample []byte
	carry := 0
	valid := true
	for {
		n, err := io.ReadFull(br, buf[carry:])
		chunk := buf[:carry+n]
		if len(sample) < 1<<20 {
			sample = append(sample, chunk[carry:]...)
		}
		end := len(chunk)
		if err == nil { // more to come: keep an incomplete trailing sequence for the next round
			for k := 1; k <= 3 && k <= end; k++ {
				if b := chunk[end-k]; b&0xC0 != 0x80 {
					if b >= 0xC0 && !utf8.FullRune(chunk[end-k:]) {
						end -= k
					}
					break
				}
			}
		}
		if !utf8.Valid(chunk[:end]) {
			valid = false
			break
		}
		carry = copy(buf, chunk[end:])
		if err != nil {
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				return "", datasets.Wrap(err, datasets.EINTERNAL, "tabular: cannot read the file")
			}
			break
		}
	}
	if valid {
		return EncUTF8, nil
	}
	if len(sample) < 1<<20 { // the invalid chunk may not be in the sample yet
		rest, _ := io.ReadAll(io.LimitReader(br, int64(1<<20-len(sample))))
		sample = append(sample, rest...)
	}
	gb, _, _ := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), sample)
	b5, _, _ := transform.Bytes(traditionalchinese.Big5.NewDecoder(), sample)
	if cjkScore(b5) > cjkScore(gb) {
		return EncBig5, nil
	}
	return EncGB18030, nil
}

// common holds frequent characters of Chinese text and of government data
// in both simplified and traditional forms; a wrong decoding produces rare
// characters, replacement characters and private-use code points instead.
const common = "的一是不了人我在有他这這中大来來上国國个個到说說们們为為子和你地出道也时時年得就那要下以生会會自着去之过過家学學对對可她里裡后後小么心多天而能好都然没沒日于於起还還发發成事只作当當想看文无無开開手十用主行方又如前所本见見经經头頭面公同三已老从從动動两兩长長知民样樣现現分将將外但身些与與回高意进進把法此实實其种種声聲全工己话話儿兒者向情部正名定女问問力机機给給等几幾很业業最间間新什打便位因重被走电電四第门門相次东東政海口使教西再平真听聽世气氣信北少关關并內内加化由却卻代军軍产產入先山五太水万萬市眼体體别別处處总總才场場师師书書比住员員九笑性通目华華报報立马馬命张張活难難神数數件安表原车車白应應路期叫死常提感金何更反合放做系计計或司利受光王果亲親界及今京务務制解各任至清物台象记記边邊共风風战戰干接它许許八特觉覺望直服毛林题題建南度统統色字请請交爱愛让讓认認算论論百吃义義科怎元社术術结結六功指思非流每青管夫连連远遠资資队隊跟带帶花快条條院变變联聯言权權往展该該领領传傳近留红紅治决決周保达達办辦运運武半候七必城父强強步完革深区區即求品士转轉量空甚众眾技轻輕程告江语語英基派满滿式李息写寫呢识識极極令黄黃德收脸臉钱錢党黨倒未持取设設始版双雙历歷越史商千片容研像找友孩站广廣改议議形委早房音火际際则則首单單据據导導影失拿网網香似斯专專石若兵弟谁誰校读讀志飞飛观觀争爭究包组組造落视視济濟喜离離虽雖坏壞省县縣镇鎮乡鄉街号號村区區域站点點人口户戶籍数數据據资資料统統计計局处處厅廳署所院校医醫疗療卫衛健康环環境空气氣质質量监監测測企业業工商登记記注註册冊税稅务務交通铁鐵路公交车車站运運输輸旅客货貨物教育学學生就业業社会會保障险險养養老气氣象温溫度降雨雨量风風向天预預报報警日期时時间間名称稱地址电電话話编編码碼类類型别別备備合计計总總额額万元金额額价價格单單位面积積年月季度本期同比增长長率占比平均最高低合格办辦理申请請审審批核准许許可证證书書机構构構联聯系方式网網站中华華人民共和国國台湾灣北京上海广廣东東深圳浙江江苏蘇四川湖南北河山西陕陝安徽福建云雲贵貴州新疆西藏内內蒙古黑龙龍吉林辽遼宁寧天津重庆慶海南甘肃肅青宁寧夏香港澳门門臺高雄桃园園基隆宜兰蘭竹苗栗彰化投嘉义義屏东東花莲蓮澎湖金马馬祖，。、：；（）《》「」"

var commonSet = func() map[rune]bool {
	m := make(map[rune]bool, 1200)
	for _, r := range common {
		m[r] = true
	}
	return m
}()

func cjkScore(b []byte) int {
	score := 0
	for _, r := range string(b) {
		switch {
		case commonSet[r]:
			score += 2
		case r == utf8.RuneError, r >= 0xE000 && r <= 0xF8FF:
			score -= 8
		case r >= 0x4E00 && r <= 0x9FFF:
			// a CJK character outside the common list: neutral-ish
		case r >= 0x3400 && r <= 0x4DBF, r >= 0x20000:
			score -= 2
		}
	}
	return score
}

// decodeReader returns r decoded from enc into UTF-8, without a BOM.
func decodeReader(r io.Reader, enc string) (io.Reader, error) {
	switch enc {
	case EncUTF8, EncUTF8BOM:
		br := bufio.NewReaderSize(r, 64<<10)
		if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
			br.Discard(3)
		}
		return br, nil
	case EncUTF16LE:
		return transform.NewReader(r, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()), nil
	case EncUTF16BE:
		return transform.NewReader(r, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()), nil
	case EncGB18030, "GBK", "GB2312":
		return transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder()), nil
	case EncBig5:
		return transform.NewReader(r, traditionalchinese.Big5.NewDecoder()), nil
	}
	return nil, datasets.Errorf(datasets.EINVALID, "unknown text encoding %q (use UTF-8, UTF-8-BOM, UTF-16LE, UTF-16BE, GB18030 or Big5)", enc)
}
