batchh "digest" { # ERROR: Unsupported block type
}

batch "welcome" {
  from = "news@acme.example"
  to   = "ann@example.com"
  text = "Hello"
  form = "news@acme.example" # ERROR: Unsupported argument
}

runner {
  paralelism = 2 # ERROR: Unsupported argument
}

variable "x" {
  defualt = 1 # ERROR: Unsupported argument
}
