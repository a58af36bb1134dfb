// Command postform is a declarative batch runner for email sent through
// Postmark. See the README for the language and the commands.
package main

import (
	"os"

	"github.com/postform/postform/cmd/postform/internal/command"
)

func main() { os.Exit(command.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())) }
