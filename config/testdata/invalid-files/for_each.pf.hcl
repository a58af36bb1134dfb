locals {
  people = [{ email = "ann@example.com" }]
  ids    = toset([1, 2])
}

batch "list" {
  for_each = local.people # ERROR: Invalid for_each argument
  from     = "news@acme.example"
  to       = each.value.email
  text     = "Hello"
}

batch "number_set" {
  for_each = local.ids # ERROR: Invalid for_each argument
  from     = "news@acme.example"
  to       = "ann@example.com"
  text     = "Hello"
}

batch "csv_list" {
  for_each = csvfile("people.csv") # ERROR: Invalid for_each argument
  from     = "news@acme.example"
  to       = each.value.email
  text     = "Hello"
}

batch "string" {
  for_each = "ann@example.com" # ERROR: Invalid for_each argument
  from     = "news@acme.example"
  to       = each.value
  text     = "Hello"
}

# ERROR at people.csv:4: Duplicate for_each key
batch "dupes" {
  for_each = { for p in csvfile("people.csv") : p.email => p }
  from     = "news@acme.example"
  to       = each.value.email
  text     = "Hello ${each.value.name}"
}

batch "missing_file" {
  for_each = { for p in csvfile("nobody.csv") : p.email => p } # ERROR: Unreadable data file
  from     = "news@acme.example"
  to       = each.value.email
  text     = "Hello"
}
