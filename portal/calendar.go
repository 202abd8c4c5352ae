package portal

// Calendar knows which days are working days (filled in by the
// conditional-access work: holidays and 調休 from a yearly file).
type Calendar struct{}
