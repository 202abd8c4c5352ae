// Validates a Turtle file against the DCAT-AP 3.0.0 SHACL shapes kept next
// to this script and prints the report as JSON on stdout:
//   node gateway/testdata/shacl-validate.mjs DATA.ttl
// The Go test TestDCATTurtleConformsToSHACL runs it; exit status 0 means the
// report was produced (whether or not the data conforms), 2 a usage or parse error.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from 'n3';
import datasetFactory from '@rdfjs/dataset';
import SHACLValidator from 'rdf-validate-shacl';

function load(path) {
  const ds = datasetFactory.dataset();
  const quads = new Parser({ baseIRI: 'file://' + path }).parse(readFileSync(path, 'utf8'));
  for (const q of quads) ds.add(q);
  return ds;
}

const dataPath = process.argv[2];
if (!dataPath) {
  console.error('usage: node shacl-validate.mjs DATA.ttl');
  process.exit(2);
}
try {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'dcat-ap-shacl');
  const shapes = datasetFactory.dataset();
  const files = readdirSync(dir).filter((f) => f.endsWith('.ttl')).sort();
  for (const f of files) for (const q of load(join(dir, f))) shapes.add(q);
  const data = load(dataPath);
  // Every shapes file of the release is loaded above; owl:imports (the EU
  // vocabularies, for the online ISA validator) are not fetched: no network.
  const validator = new SHACLValidator(shapes, { importGraph: () => datasetFactory.dataset() });
  const report = await validator.validate(data);
  const term = (t) => (t ? t.value : null);
  const results = report.results.map((r) => ({
    severity: term(r.severity).replace('http://www.w3.org/ns/shacl#', ''),
    focusNode: term(r.focusNode),
    path: term(r.path),
    value: term(r.value),
    message: r.message.map((m) => m.value),
    constraint: term(r.sourceConstraintComponent),
    shape: term(r.sourceShape),
  }));
  console.log(JSON.stringify({ conforms: report.conforms, shapeFiles: files, triples: data.size, results }, null, 2));
} catch (e) {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(2);
}
