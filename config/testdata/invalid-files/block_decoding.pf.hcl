variable "count" {
  type    = number
  default = "many" # ERROR: Invalid default value for variable
}

variable "kind" {
  type = strang # ERROR: Invalid type specification
}

variable "limit" {
  type    = number
  default = 10
  validation {
    condition     = var.limit > var.count # ERROR: Invalid reference in variable validation
    error_message = "Too small."
  }
}

variable "1bad" {} # ERROR: Invalid variable name

template "both" {
  text      = "Hello"
  text_file = "hello.txt" # ERROR: Conflicting template attributes
}

template "empty" { # ERROR: Missing template body
  subject = "Hi"
}

batch "missing_to" { # ERROR: Missing required argument
  from = "news@acme.example"
  text = "Hello"
}

batch "no_body" { # ERROR: Missing message body
  from = "news@acme.example"
  to   = "ann@example.com"
}

batch "two_contents" {
  from     = "news@acme.example"
  to       = "ann@example.com"
  template = template.both
  subject  = "Hi" # ERROR: Conflicting message content
}

batch "bad_ref" {
  from     = "news@acme.example"
  to       = "ann@example.com"
  template = "both" # ERROR: Invalid template reference
}

batch "server_both" {
  from = "news@acme.example"
  to   = "ann@example.com"
  postmark_template {
    alias = "welcome"
    id    = 12 # ERROR: Conflicting template identifiers
  }
}

batch "server_none" {
  from = "news@acme.example"
  to   = "ann@example.com"
  postmark_template { # ERROR: Missing template identifier
    model = {}
  }
}

batch "server_and_template" {
  from     = "news@acme.example"
  to       = "ann@example.com"
  template = template.both
  postmark_template { # ERROR: Conflicting message content
    alias = "welcome"
  }
}
