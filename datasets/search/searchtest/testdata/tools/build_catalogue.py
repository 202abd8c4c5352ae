# Run from searchtest/testdata. Selects the test catalogue from the shared crawls and maps it to Kaifang's types.
import json, uuid, collections, random
X=json.load(open('/work/shared/data/files/cn_xiamen_open_data_catalogue_crawl.json'))
J=json.load(open('/work/shared/data/files/cn_jiangxi_open_data_catalogue_crawl.json'))
CAT={'交通运输':'transport','道路交通':'transport','医疗保障':'healthcare','卫生健康':'healthcare','社保就业':'social_security','社会救助':'social_security','教育科技':'education','生态环境':'environment','资源环境':'environment','气象服务':'weather','信用服务':'credit','市场监管':'enterprise'}
FREQ={'不定期':'irregular','每年':'yearly','每日':'daily','每月':'monthly','实时':'realtime','每周':'weekly','每 3 月':'quarterly','每半年':'yearly','每 2 日':'daily'}
OC={'普遍开放':'open','依申请开放':'conditional','安全开放':'conditional','无条件开放':'open','有条件开放':'conditional'}
def cat(s):
    if not s: return 'other'
    for p in s.split(','):
        if p in CAT: return CAT[p]
    return 'other'
def fmts(s):
    return [f.strip().lower() for f in s.strip('[]').split(',') if f.strip()]
FORCE='社保 医保 公积金 公交 停车 学校 医院 招聘 旅游 景区 婚姻 幼儿园 养老 气象 预报 空气'.split()
FORCEJ='空气 地铁 公交 水质 信用'.split()
ns=uuid.UUID('6f1c1a52-4e8e-4c5e-9c2a-6b1f0a0d5e11')
out=[]; seen=set()
per=collections.Counter()
random.seed(7)
xs=list(enumerate(X)); 
for i,x in xs:
    t=x['目录名称']
    if t in seen: continue
    k=(x['主题领域'] or '无').split(',')[0]
    lim = 20 if k in ('交通运输',) else 9
    forced = any(w in t for w in FORCE)
    if per[k]>=lim and not forced: continue
    per[k]+=1; seen.add(t)
    tags=[s for s in (x['标签'] or '').split(',') if s]
    out.append(dict(source='xiamen', source_index=i, id=str(uuid.uuid5(ns,x['url'])), slug='xm-%04d'%i, title=t,
      description=x['简介'] or '', agency=x['数据来源'], category=cat(x['主题领域']),
      open_class=OC[x['开放类型']], frequency=FREQ.get(x['更新频率'],'irregular'), formats=fmts(x['数据格式']),
      tags=sorted(set(tags)), updated=(x['更新时间'] or x['发布时间'] or '2022-01-01')+'T00:00:00Z'))
perj=collections.Counter()
for i,x in enumerate(J):
    t=x['标题']
    if t in seen: continue
    k=x['数据领域']
    forced = any(w in t for w in FORCEJ)
    if perj[k]>=5 and not forced: continue
    perj[k]+=1; seen.add(t)
    out.append(dict(source='jiangxi', source_index=i, id=str(uuid.uuid5(ns,x['url'])), slug='jx-%04d'%i, title=t,
      description='', agency=x['数源单位'], category=cat(x['数据领域']),
      open_class=OC[x['开放类型']], frequency='irregular', formats=fmts(x['数据格式']),
      tags=[x['数据领域']], updated=(x['数据更新时间'] or x['发布时间'])[:10]+'T00:00:00Z'))
out += json.load(open('tools/extra_entries.json'))
print(len(out), collections.Counter(o['category'] for o in out))
json.dump(out, open('./catalogue.json','w'), ensure_ascii=False, indent=1)
