# Per-message validation. Problems in data rows point at the data file.
# ERROR at subscribers.csv:3: Invalid recipient address
# ERROR at subscribers.csv:4: Missing recipient
# ERROR at templates/welcome.html:2: Unknown variable

template "welcome" {
  subject   = "Welcome ${first_name}"
  html_file = "templates/welcome.html"
}

batch "csv" {
  for_each = { for s in csvfile("subscribers.csv") : s.id => s }
  from     = "Acme <news@acme.example>"
  to       = each.value.email
  template = template.welcome
  data     = { first_name = each.value.first_name }
}

batch "sender" {
  from = "news at acme" # ERROR: Invalid sender address
  to   = "ann@example.com"
  text = "Hello"
}

batch "crowd" {
  from = "news@acme.example"
  to   = join(",", [for i in range(51) : "user${i}@example.com"]) # ERROR: Too many recipients
  text = "Hello"
}

batch "long" {
  from        = "news@acme.example"
  to          = "ann@example.com"
  cc          = "bob@" # ERROR: Invalid recipient address
  reply_to    = "not an address" # ERROR: Invalid reply-to address
  subject     = format("%2001s", "x") # ERROR: Subject too long
  tag         = format("%1001s", "t") # ERROR: Tag too long
  text        = "Hello"
  track_links = "htmlandtext" # ERROR: Invalid track_links value
}

batch "metadata" {
  for_each = { a = "x" }
  from     = "news@acme.example"
  to       = "ann@example.com"
  text     = "Hello"
  metadata = { # ERROR: Too many metadata keys
    k1 = "1", k2 = "2", k3 = "3", k4 = "4", k5 = "5", k6 = "6", k7 = "7", k8 = "8",
    pf_id                       = each.key, # ERROR: Reserved metadata key
    a_key_longer_than_twenty    = "v", # ERROR: Metadata key too long
  }
}

batch "metadata_values" {
  from     = "news@acme.example"
  to       = "ann@example.com"
  text     = "Hello"
  metadata = {
    Customer = "1", customer = "2", # ERROR: Duplicate metadata key
    note     = format("%81s", "n"), # ERROR: Metadata value too long
  }
}

batch "empty_body" {
  for_each = { a = "" }
  from     = "news@acme.example"
  to       = "ann@example.com"
  text     = each.value # ERROR: Missing message body
}

batch "stream" {
  for_each       = { a = "Not_A_Stream" }
  from           = "news@acme.example"
  to             = "ann@example.com"
  text           = "Hello"
  message_stream = each.value # ERROR: Invalid message stream
}

batch "attachments" {
  from = "news@acme.example"
  to   = "ann@example.com"
  text = "Hello"
  attachments = [ # ERROR: Forbidden attachment type
    { name = "setup.exe", content = "MZ" },
    { name = "notes.txt", path = "missing.txt" },
  ]
  # Both problems point at the list:
  # ERROR at messages.pf.hcl:83: Unreadable attachment
}

batch "big" {
  from        = "news@acme.example"
  to          = "ann@example.com"
  text        = "Hello"
  attachments = [{ name = "big.txt", content = join("", [for i in range(8) : local.mb]) }] # ERROR: Message too large
}

locals {
  mb = format("%1048576s", "x")
}

batch "reserved_data" {
  from = "news@acme.example"
  to   = "ann@example.com"
  data = { var = "x" } # ERROR: Reserved data attribute
  text = "Hello"
}
