postmark {}
postmark {} # ERROR: Duplicate postmark block

runner {}
runner {} # ERROR: Duplicate runner block

variable "campaign" {}
variable "campaign" {} # ERROR: Duplicate variable

locals {
  a = 1
}
locals {
  a = 2 # ERROR: Duplicate local value
}

template "t" {
  text = "x"
}
template "t" { # ERROR: Duplicate template
  text = "y"
}

batch "b" {
  from = "news@acme.example"
  to   = "ann@example.com"
  text = "Hello"
}
batch "b" { # ERROR: Duplicate batch
  from = "news@acme.example"
  to   = "ann@example.com"
  text = "Hello"
}
