# Weekly digest, sent by cron every Monday morning:
#
#   postform apply -auto-approve -wait=30m -var week=2026-W48 \
#     -var not_after=$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)
#
# A second firing, an overlap or a retry sends nobody the same week twice:
# the week is part of every message's address and the state remembers who
# got it. A late run (a host that was down all day) is refused by the send window.

postmark {
  # server_token defaults to the POSTMARK_SERVER_TOKEN environment variable.
  message_stream = "broadcast"
}

runner {
  parallelism = 4
  rate_limit  = 20
  batch_size  = 500
  max_errors  = 50
  send_window = { not_after = var.not_after }
}

variable "week" {
  type        = string
  description = "ISO week of the digest, e.g. 2026-W48; part of the tag so reports group by week."
  default     = "2026-W48"

  validation {
    condition     = can(regex("^[0-9]{4}-W[0-9]{2}$", var.week))
    error_message = "The week must look like 2026-W48."
  }
}

variable "not_after" {
  type        = string
  description = "Refuse to start sending after this time (RFC 3339). Cron passes a few hours from now."
  default     = "2099-12-31T23:59:59Z"
}

locals {
  headline = "Five things we shipped this week"
  stories = [
    { title = "Faster search", url = "https://acme.example/blog/search" },
    { title = "Dark mode", url = "https://acme.example/blog/dark-mode" },
    { title = "CSV export", url = "https://acme.example/blog/csv" },
  ]
}

template "digest" {
  subject   = "${headline}, ${first_name}"
  html_file = "templates/digest.html"
  text_file = "templates/digest.txt"
}

batch "digest" {
  # csvfile streams the list row by row: a million subscribers never sit in
  # memory at once. The key is each message's identity across runs, so it
  # names the week: next week's digest is a new message, while a second
  # firing this week finds everyone already sent.
  for_each = { for s in csvfile("subscribers.csv") : "${var.week}/${lower(s.email)}" => s if s.opted_in == "yes" }

  from     = "Acme News <news@acme.example>"
  to       = each.value.email
  reply_to = "editors@acme.example"
  template = template.digest
  data = {
    first_name = each.value.first_name
    headline   = local.headline
    stories    = local.stories
    week       = var.week
  }
  tag         = "digest-${var.week}"
  metadata    = { customer_id = each.value.id, week = var.week }
  track_opens = true
  track_links = "HtmlAndText"
}

report {
  path   = "reports/digest-${var.week}.csv"
  format = "csv"
}

report {
  path   = "reports/digest-${var.week}.html"
  format = "html"
}
