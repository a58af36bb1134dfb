# Monthly invoices through a template stored on the Postmark server
# (alias "receipt"). postform renders nothing here: Postmark fills the
# template from each message's model, via /email/batchWithTemplates.
#
#   postform plan -out=receipts.plan -var period=2026-11
#   postform apply receipts.plan        # sends exactly what was reviewed

postmark {
  message_stream = "outbound"
}

runner {
  parallelism = 2
  batch_size  = 250
  max_errors  = 10
}

variable "period" {
  type    = string
  default = "2026-11"
}

locals {
  # orders.json is exported by the billing system; one invoice per order.
  orders = jsondecode(file("orders.json"))
}

batch "receipt" {
  for_each = { for o in local.orders : o.invoice => o if o.total > 0 }

  from = "Acme Billing <billing@acme.example>"
  to   = "${each.value.name} <${each.value.email}>"
  bcc  = each.value.accounts_payable
  tag  = "invoice-${var.period}"

  metadata = {
    invoice  = each.key
    customer = each.value.customer_id
  }

  postmark_template {
    alias = "receipt"
    model = {
      name        = each.value.name
      invoice_id  = each.key
      period      = var.period
      total       = format("%.2f", each.value.total)
      currency    = upper(each.value.currency)
      line_items  = each.value.items
      support_url = "https://acme.example/support"
    }
  }
}

report {
  path   = "reports/receipts-${var.period}.json"
  format = "json"
}
