# The example configuration of SPEC §4, with its data files beside it in
# spec_example/.
postmark {
  server_token   = env("POSTMARK_SERVER_TOKEN") # the default when omitted; never printed
  base_url       = "https://api.postmarkapp.com"
  message_stream = "broadcast"
}

runner {
  parallelism = 4
  rate_limit  = 20
  batch_size  = 500
  send_window = { not_before = "2026-11-02T08:00:00Z", not_after = "2026-11-02T20:00:00Z" }
  max_errors  = 100
}

variable "campaign" {
  type    = string
  default = "2026-11-digest"
}

locals {
  subscribers = csvdecode(file("subscribers.csv"))
  receipts = {
    "r-1001" = { email = "ann@example.com", amount = "12.50" }
    "r-1002" = { email = "bob@example.com", amount = "7.00" }
  }
}

template "digest" {
  subject   = "Your ${month} digest, ${first_name}"
  html_file = "templates/digest.html"
  text_file = "templates/digest.txt"
}

batch "digest" {
  for_each = { for s in local.subscribers : s.email => s if s.opted_in == "yes" }

  from        = "Acme News <news@acme.example>"
  to          = each.value.email
  template    = template.digest
  data        = { first_name = each.value.first_name, month = "November" }
  tag         = var.campaign
  metadata    = { customer_id = each.value.id }
  track_opens = true
  track_links = "HtmlAndText"
}

batch "receipts" {
  for_each = local.receipts
  from     = "billing@acme.example"
  to       = each.value.email
  postmark_template {
    alias = "receipt"
    model = { amount = each.value.amount }
  }
}

report {
  path   = "reports/${var.campaign}.csv"
  format = "csv"
}
