//go:build !(linux && (amd64 || arm64))

package report

import "errors"

func makeImmutable(string) (func(), error) {
	return nil, errors.New("immutable directories are not supported on this platform")
}
