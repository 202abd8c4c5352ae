package portal

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"

	"kaifang/datasets"
)

// argonParams are the cost parameters of new password hashes. They are
// written into each hash (PHC string form), so raising them later does not
// lock anybody out. The defaults follow RFC 9106 §4's second recommended
// option (64 MiB, 3 passes).
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	keyLen  uint32
}

var passwordParams = argonParams{memory: 64 * 1024, time: 3, threads: 2, keyLen: 32}

// Bounds on parameters read back from a stored hash: a corrupted or
// hostile row must not make one sign-in allocate gigabytes.
const (
	maxArgonMemory = 1024 * 1024 // 1 GiB
	maxArgonTime   = 20
)

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of pw in PHC string form:
// $argon2id$v=19$m=65536,t=3,p=2$<salt>$<key>.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", datasets.Wrap(err, datasets.EINTERNAL, "no randomness")
	}
	p := passwordParams
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, p.keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches a hash made by HashPassword. A
// malformed hash matches nothing.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var p argonParams
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil || n != 3 {
		return false
	}
	if p.memory == 0 || p.memory > maxArgonMemory || p.time == 0 || p.time > maxArgonTime || p.threads == 0 {
		return false
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the email is unknown, so a sign-in
// costs the same whether or not the account exists.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("kaifang-no-such-user")
	if err != nil {
		return ""
	}
	return h
})
