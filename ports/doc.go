// Package ports holds the interfaces the application core needs from the world:
// storage, tokens, hashing, the catalog, payment links, time and ids. Every
// implementation lives under adapters/; the mocks in ports/mocks are generated
// by `make generate` (mockgen) for use-case tests.
package ports
