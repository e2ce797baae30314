package i18n

import "io/fs"

// LoadFS loads catalogues from dir of fsys, so tests can feed broken ones.
func LoadFS(fsys fs.FS, dir string) (*Bundle, error) { return load(fsys, dir) }
