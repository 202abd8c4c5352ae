// Package blobtest is the contract every datasets.Blobs implementation must
// meet, written once and run against each store, so that the local directory
// and MinIO cannot drift apart in what callers can rely on. It also hands
// other packages' tests ready-made stores (Backends), including a fresh
// MinIO bucket per test when KAIFANG_TEST_S3 is set.
package blobtest
