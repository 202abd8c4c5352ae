package datasets

// Access stores applications for conditional data, grants, API keys, usage
// and the audit chain (see portal). Filled in by the conditional-access work.
type Access interface {
}
