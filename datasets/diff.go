package datasets

import "encoding/json"

// editable is what an update may change of an entry, in the shape of a
// Change's diff. Empty and nil lists compare equal.
func editable(d *Dataset) map[string]any {
	return map[string]any{
		"slug": d.Slug, "title": d.Title, "description": d.Description, "category": d.Category,
		"open_class": d.OpenClass, "frequency": d.Frequency, "formats": d.Formats, "tags": d.Tags,
		"fields": d.Fields, "access_modes": d.AccessModes, "legal_basis": d.LegalBasis,
		"reason": d.Reason, "state": d.State, "license": d.License,
	}
}

// Diff returns the JSON object field -> [old, new] of the editable fields
// that differ between two versions of an entry, or "" when none does. It is
// what Change.Diff holds and how "nothing changed" is decided everywhere.
func Diff(old, new *Dataset) string {
	o, n := editable(old), editable(new)
	out := map[string][2]json.RawMessage{}
	for k := range o {
		a, _ := json.Marshal(o[k])
		b, _ := json.Marshal(n[k])
		if string(a) == "null" {
			a = []byte("[]")
		}
		if string(b) == "null" {
			b = []byte("[]")
		}
		if string(a) != string(b) {
			out[k] = [2]json.RawMessage{a, b}
		}
	}
	if len(out) == 0 {
		return ""
	}
	b, _ := json.Marshal(out)
	return string(b)
}
