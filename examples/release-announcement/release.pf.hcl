# A release announcement sent from CI when a tag is pushed. The pipeline
# validates on every commit, plans on the release job, applies, waits for
# delivery and publishes a JUnit report (see ../ci/github-actions.yml):
#
#   postform validate
#   postform plan -detailed-exitcode -json -var version=$TAG > plan.jsonl
#   postform apply -auto-approve -wait=10m -var version=$TAG
#   postform report -format=junit -o postform-junit.xml

variable "version" {
  type        = string
  description = "The version being released, e.g. v2.4.0 (the CI tag)."
  default     = "v2.4.0"

  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+$", var.version))
    error_message = "The version must be a tag like v2.4.0."
  }
}

variable "notes_url" {
  type    = string
  default = "https://github.com/acme/widget/releases"
}

variable "team" {
  type        = map(object({ name = string, role = string }))
  description = "Who hears about releases before the public changelog."
  default = {
    "ops@acme.example"     = { name = "Ops", role = "operator" }
    "support@acme.example" = { name = "Support", role = "support" }
    "sales@acme.example"   = { name = "Sales", role = "customer-facing" }
  }
}

template "release" {
  subject = "Widget ${version} is out"
  html    = <<-HTML
    <p>Hi ${name},</p>
    <p>Widget <strong>${version}</strong> has been released.</p>
    %{ if role == "support" ~}
    <p>Support playbook changes are listed in the notes.</p>
    %{ endif ~}
    <p><a href="${notes_url}/tag/${version}">Release notes</a></p>
  HTML
  text    = <<-TEXT
    Hi ${name},

    Widget ${version} has been released.
    Release notes: ${notes_url}/tag/${version}
  TEXT
}

batch "release" {
  # One message per person and version: the next release is a new message.
  for_each = { for email, who in var.team : "${var.version}/${email}" => merge(who, { email = email }) }

  from     = "Widget Releases <releases@acme.example>"
  to       = each.value.email
  template = template.release
  data = {
    name      = each.value.name
    role      = each.value.role
    version   = var.version
    notes_url = var.notes_url
  }
  tag      = "release-${var.version}"
  metadata = { version = var.version }
}

report {
  path   = "reports/release-${var.version}.xml"
  format = "junit"
}
