// Package funcs holds postform's own configuration functions: the ones that
// read files (file, templatefile, csvfile), the environment (env), and the
// raw marker that lets a value into an HTML body without escaping.
//
// Every file function is closed over an [fs.FS] rooted at the configuration
// directory and refuses paths that would leave it (absolute paths or ".."
// elements). No function here reads the clock or the network, so a
// configuration evaluates the same way every time it is given the same files
// and environment.
//
// The package also defines the cty marks postform attaches to values:
// [Sensitive] for values derived from sensitive variables and [Raw] for
// values that must not be HTML-escaped.
package funcs
