// Package blob owns the bytes of every version of every distribution: the
// local-directory store that the single binary uses by default, and the
// MinIO/S3 store for when gateways scale out.
//
// Both stores keep one promise that publishing relies on: an object appears
// under its key only when all of its bytes are stored, so a crash, a failed
// reader or a cancelled request never exposes half a file and never damages
// the version that was there before. Local gets that from write-to-temp,
// fsync and rename; S3 from multipart upload, which makes the object visible
// only at completion and is aborted on error.
//
// Two differences callers may notice. Local keeps the SHA-256 and content
// type in extended attributes (atomic with the bytes, no extra file); S3
// returns the SHA-256 from Put but does not store it, since S3 takes
// metadata before an upload starts and adding it afterwards costs a copy —
// the catalogue's Version row is the record of a checksum. And a file
// system cannot hold both "a" and "a/b": Local answers ECONFLICT where S3
// would store both.
//
// Driver errors (os, minio-go, network) are translated to datasets.Error
// codes here, at the edge, so callers only ever see ENOTFOUND, EINVALID,
// ECONFLICT, EUNAVAILABLE or EINTERNAL.
package blob
