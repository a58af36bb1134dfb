# Attachments, postmark templates by id, sensitive variables, pfvars files,
# locals spread over several blocks, and a batch without for_each.
postmark {
  message_stream = "outbound"
}

runner {
  parallelism = 2
  batch_size  = 50
}

variable "coupon" {
  type      = string
  sensitive = true
  default   = "SAVE10"
}

variable "customers" {
  type = map(object({ email = string, amount = number }))
}

locals {
  sender = "Billing <billing@acme.example>"
}

locals {
  subject_prefix = upper(substr(local.sender, 0, 7))
}

template "invoice" {
  subject = "${prefix}: your invoice"
  text    = "Amount due: ${amount}. Coupon: ${coupon}."
  html    = <<-EOT
    <p>Amount due: <b>${amount}</b></p>
    ${raw(file("files/footer.html"))}
  EOT
}

batch "invoices" {
  for_each = var.customers
  from     = local.sender
  to       = each.value.email
  template = template.invoice
  data     = { amount = each.value.amount, coupon = var.coupon, prefix = local.subject_prefix }
  attachments = [
    { path = "files/invoice-${each.key}.pdf" },
  ]
}

batch "receipts" {
  for_each = var.customers
  from     = local.sender
  to       = each.value.email
  postmark_template {
    id    = 4242
    model = { amount = each.value.amount }
  }
}

batch "announcement" {
  from    = local.sender
  to      = "team@acme.example"
  subject = "Invoices are out"
  text    = "Sent ${length(var.customers)} invoices."
}

report {
  path = "reports/billing.json"
}
