//go:build tools

package ports

// Keeps mockgen in go.mod so `go generate` runs the pinned version.
import _ "github.com/golang/mock/mockgen"
