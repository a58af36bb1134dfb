# WARNING at postform.pfvars:2: Value for undeclared variable
locals {
  secret  = file("../etc/passwd") # ERROR: Invalid function argument
  absent  = env("NOT_SET") # ERROR: Invalid function argument
  missing = file("nothing.txt") # ERROR: Invalid function argument
}

variable "greeting" {
  default = "hi"
}

batch "b" {
  from = env("SENDER")
  to   = "ann@example.com"
  text = "${var.greeting} ${env("NOT_SET", "there")}"
}
