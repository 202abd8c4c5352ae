package datasets

// Accounts stores users, roles and personal access tokens (see portal).
// Filled in by the accounts work; kept here so that the portal can be wired.
type Accounts interface {
}
