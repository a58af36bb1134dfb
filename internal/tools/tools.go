//go:build tools
package tools
import (
_ "github.com/hashicorp/hcl/v2"
_ "github.com/zclconf/go-cty/cty"
_ "golang.org/x/sync/errgroup"
_ "golang.org/x/time/rate"
_ "modernc.org/sqlite"
_ "github.com/rogpeppe/go-internal/testscript"
_ "github.com/google/renameio/v2"
_ "github.com/gofrs/flock"
_ "github.com/google/go-cmp/cmp"
_ "golang.org/x/term"
_ "github.com/schollz/progressbar/v3"
)
