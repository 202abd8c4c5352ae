# Run from searchtest/testdata. Turns the hand-made grades (grades.tsv) and the
# query list (queries.tsv) into judgements.json, which the quality suite embeds.
# It only reformats: every grade comes from grades.tsv as an assessor wrote it.
import json, sys

def rows(path):
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if line.strip() and not line.startswith('#'):
            yield n, line.split('\t')

slugs = {e['slug'] for e in json.load(open('catalogue.json', encoding='utf-8'))}
queries, classes = [], {}
for n, f in rows('queries.tsv'):
    if len(f) != 2 or not f[0] or not f[1]:
        sys.exit(f'queries.tsv:{n}: want query<TAB>classes')
    if f[0] in classes:
        sys.exit(f'queries.tsv:{n}: {f[0]} listed twice')
    queries.append(f[0])
    classes[f[0]] = f[1]

grades = {q: {} for q in queries}
for n, f in rows('grades.tsv'):
    if len(f) not in (3, 4):
        sys.exit(f'grades.tsv:{n}: want queries<TAB>slug<TAB>grade[<TAB>note]')
    qs, slug, g = f[0].split('|'), f[1], f[2]
    if slug not in slugs:
        sys.exit(f'grades.tsv:{n}: {slug} is not in catalogue.json')
    if g not in ('0', '1', '2', '3'):
        sys.exit(f'grades.tsv:{n}: grade {g!r} is not 0-3')
    for q in qs:
        if q not in grades:
            sys.exit(f'grades.tsv:{n}: {q} is not in queries.tsv')
        if slug in grades[q]:
            sys.exit(f'grades.tsv:{n}: {q} / {slug} judged twice')
        grades[q][slug] = int(g)

out = []
for q in queries:
    rel = {s: g for s, g in sorted(grades[q].items()) if g > 0}
    if not any(g >= 2 for g in rel.values()):
        sys.exit(f'{q}: no entry graded 2 or 3; recall@10 would mean nothing')
    out.append({'query': q, 'class': classes[q], 'relevant': rel})
with open('judgements.json', 'w', encoding='utf-8') as w:
    json.dump(out, w, ensure_ascii=False, indent=1)
    w.write('\n')
judged = sum(len(g) for g in grades.values())
dist = [sum(1 for g in grades.values() for v in g.values() if v == k) for k in range(4)]
print(f'{len(out)} queries, {judged} judgements (grade 0..3: {dist})')
