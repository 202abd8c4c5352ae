// Command kaifang runs the Kaifang open-data platform: one binary with the
// catalogue, the public API gateway and the web portal. It is the only place
// that knows which adapters are in use: it reads flags and KAIFANG_*
// environment variables, opens the stores they name and wires the layers.
package main
