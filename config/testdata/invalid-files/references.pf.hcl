variable "campaign" {
  default = "nov"
}

locals {
  a      = local.b # ERROR: Cycle in local values
  b      = local.a
  tag    = var.campain # ERROR: Reference to undeclared input variable
  other  = local.tga # ERROR: Reference to undeclared local value
  stream = each.key # ERROR: Reference to "each" without for_each
}

template "t" {
  text = "Hello ${name}"
}

batch "single" {
  from     = "news@acme.example"
  to       = each.value # ERROR: Reference to "each" without for_each
  template = template.t
  data     = { name = "Ann" }
}

batch "typo_root" {
  for_each = { a = "ann@example.com" }
  from     = "news@acme.example"
  to       = eech.value # ERROR: Unknown variable
  template = template.tt # ERROR: Reference to undeclared template
}

batch "template_value" {
  from = "news@acme.example"
  to   = "ann@example.com"
  text = template.t # ERROR: Invalid reference to template
}
