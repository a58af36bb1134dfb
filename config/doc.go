// Package config loads, evaluates and expands postform configurations.
//
// TODO: full package documentation.
package config
