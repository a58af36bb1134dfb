variable "region" {
  type = number # ERROR at <value for PF_VAR_region>:1: Invalid value for input variable
}

variable "required" { # ERROR: No value for required variable
  type = string
}

variable "size" {
  type    = number
  default = 3 # ERROR: Invalid value for variable
  validation {
    condition     = var.size > 5
    error_message = "The size must be greater than 5."
  }
}

batch "b" {
  from = "news@acme.example"
  to   = "ann@example.com"
  text = "Hello"
}
