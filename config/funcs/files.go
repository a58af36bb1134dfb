package funcs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// FileReader reads a file through the configuration filesystem. The config
// package supplies one that caches and records every read for plan snapshots;
// [ReadFS] adapts a plain [fs.FS].
type FileReader func(name string) ([]byte, error)

// ReadFS returns a FileReader that reads from fsys after checking the path
// with [CleanPath].
func ReadFS(fsys fs.FS) FileReader {
	return func(name string) ([]byte, error) {
		clean, err := CleanPath(name)
		if err != nil {
			return nil, err
		}
		return fs.ReadFile(fsys, clean)
	}
}

// CleanPath turns a user-written path into a slash-separated path relative
// to the configuration directory. It returns an error for empty and absolute
// paths and for paths that would leave the directory through "..".
func CleanPath(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("the path is empty")
	}
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || (len(name) > 1 && name[1] == ':') {
		return "", fmt.Errorf("path %q must be relative to the configuration directory", name)
	}
	clean := path.Clean(name)
	if !fs.ValidPath(clean) || clean == "." {
		return "", fmt.Errorf("path %q escapes the configuration directory", name)
	}
	return clean, nil
}

// readError describes a failed read of name without repeating Go's
// "open name:" prefix.
func readError(name string, err error) error {
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the file %q does not exist in the configuration directory", name)
	case errors.As(err, &pathErr):
		return fmt.Errorf("the file %q could not be read: %v", name, pathErr.Err)
	}
	return err
}
