# A batch streamed row by row from a CSV file, with an index variable, a
# filter, and an HTML template file using %{ for } and %{ if }.
variable "month" {
  type    = string
  default = "November"
}

variable "region" {
  type = string
}

template "digest" {
  subject   = "Your ${month} digest, ${first_name}"
  html_file = "templates/digest.html"
  text_file = "templates/digest.txt"
}

batch "digest" {
  for_each = { for i, s in csvfile("subscribers.csv") : lower(s.email) => merge(s, { position = i }) if s.opted_in == "yes" }

  from     = "Acme News <news@acme.example>"
  to       = each.value.email
  template = template.digest
  data = {
    first_name = each.value.first_name
    month      = var.month
    topics     = split(";", each.value.topics)
    position   = each.value.position
  }
  tag         = "digest-${var.region}"
  metadata    = { customer_id = each.value.id, region = var.region }
  headers     = [{ name = "X-Digest", value = var.month }]
  track_opens = true
  track_links = "HtmlAndText"
}
