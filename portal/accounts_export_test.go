package portal

// Tests hash many passwords; the production cost (64 MiB, 3 passes) would
// make them slow without testing anything more. Hashes carry their own
// parameters, so CheckPassword is exercised the same way.
func init() { passwordParams = argonParams{memory: 1024, time: 1, threads: 1, keyLen: 32} }

// EntryFromRow exposes the row judge to the fuzz test.
var EntryFromRow = entryFromRow
