# Run from searchtest/testdata. Produces judgements.json from hand-written concept rules below:
# grade 2 = the title names the concept; grade 1 = description, agency or tags do.
import json, bz2
t2s={}
for line in bz2.open('/usr/share/unicode/Unihan_Variants.txt.bz2','rt'):
    if line.startswith('#') or '\tkSimplifiedVariant\t' not in line: continue
    a,_,b=line.rstrip('\n').split('\t')
    f=int(a[2:],16); tos=[int(x.split('<')[0][2:],16) for x in b.split()]
    if f in tos: continue
    t2s[f]=tos[0]
t2s.update({ord(a):ord(b) for a,b in zip('遊裏週佈擡樑綵','游里周布抬梁彩')})  # same overrides as gent2s
def fold(s): return ''.join(chr(t2s.get(ord(c),ord(c))) for c in s).lower()
C=json.load(open('./catalogue.json'))
# (queries, grade-2 title patterns, extra grade-1 patterns)
R=[
 (['交通'], ['交通'], ['公交','地铁','道路']),
 (['医疗','醫療'], ['医疗'], ['医保','医院']),
 (['教育'], ['教育'], ['学校']),
 (['环境','環境'], ['环境'], ['空气','生态']),
 (['气象','氣象'], ['气象'], ['台风','天气预报']),
 (['信用'], ['信用'], []),
 (['公交'], ['公交','公共交通'], []),
 (['社保'], ['社保','社会保险','社会保障'], ['养老保险','失业保险']),
 (['医保','醫保'], ['医保','医疗保险','医疗保障'], []),
 (['公积金','公積金'], ['公积金'], []),
 (['企业信用','企業信用'], ['企业信用'], []),
 (['学校','學校'], ['学校'], ['中小学','幼儿园']),
 (['医院','醫院'], ['医院'], ['医疗机构']),
 (['停车','停車'], ['停车'], ['泊位']),
 (['港口'], ['港口'], []),
 (['船舶'], ['船舶'], []),
 (['道路'], ['道路'], []),
 (['旅游','旅遊'], ['旅游'], ['文旅','景区']),
 (['体育','體育'], ['体育'], []),
 (['养老','養老'], ['养老'], []),
 (['地铁','地鐵'], ['地铁'], ['轨道交通']),
 (['幼儿园','幼兒園'], ['幼儿园'], []),
 (['招聘'], ['招聘'], ['就业岗位']),
 (['就业','就業'], ['就业'], ['招聘']),
 (['预报','預報'], ['预报'], []),
 (['空气质量','空氣質量'], ['空气质量'], ['空气']),
 (['台风','颱風'], ['台风'], []),
 (['低保'], ['低保','最低生活保障'], []),
 (['许可','許可'], ['许可'], []),
 (['行政处罚','行政處罰'], ['行政处罚'], []),
 (['婚姻登记','婚姻登記'], ['婚姻登记'], []),
 (['景区','景區'], ['景区'], []),
 (['图书馆','圖書館'], ['图书馆'], []),
 (['人口'], ['人口'], []),
 (['地震'], ['地震'], []),
 (['bus'], ['公交','公共交通'], []),
 (['parking'], ['停车'], []),
 (['hospital'], ['医院','医疗机构'], []),
 (['weather'], ['气象','天气'], ['台风']),
 (['credit'], ['信用'], []),
 (['厦门市交通运输局','廈門市交通運輸局'], [], ['厦门市交通运输局']),
 (['厦门市卫生健康委员会'], [], ['厦门市卫生健康委员会']),
 (['厦门市生态环境局'], [], ['厦门市生态环境局']),
 (['厦门市民政局'], [], ['厦门市民政局']),
 (['省信息中心'], [], ['省信息中心']),
 (['水'], ['水'], []),
 (['船'], ['船'], []),
 (['药','藥'], ['药'], []),
 (['林'], ['林'], []),
]
def grade(c, g2, g1):
    t=fold(c['title']); rest=fold(c['description']+' '+c['agency']+' '+' '.join(c['tags']))
    if any(p in t for p in g2): return 2
    if any(p in t or p in rest for p in g1) or any(p in rest for p in g2): return 1
    return 0
out=[]
for qs,g2,g1 in R:
    rel={}
    for c in C:
        g=grade(c,g2,g1)
        if g: rel[c['slug']]=g
    # agency-name queries: every entry of that agency is fully relevant
    if not g2: rel={k:2 for k in rel}
    for q in qs:
        out.append({'query':q,'relevant':dict(sorted(rel.items()))})
print(len(out)); 
for o in out: print(o['query'], len(o['relevant']), sum(v==2 for v in o['relevant'].values()))
json.dump(out, open('./judgements.json','w'), ensure_ascii=False, indent=1)
