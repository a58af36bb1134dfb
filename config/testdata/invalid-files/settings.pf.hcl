postmark {
  base_url       = "http://api.postmarkapp.com" # ERROR: Invalid base_url
  message_stream = "Broadcast" # ERROR: Invalid message stream
}

runner {
  parallelism = 0 # ERROR: Invalid parallelism
  rate_limit  = -1 # ERROR: Invalid rate_limit
  batch_size  = 501 # ERROR: Invalid batch_size
  max_errors  = "many" # ERROR: Unsuitable value type
  send_window = { not_before = "tomorrow" } # ERROR: Invalid send_window
}

report {
  path   = "reports/run.csv"
  format = "xlsx" # ERROR: Invalid report format
}

report {
  path = "../outside.json" # ERROR: Invalid report path
}

report { # ERROR: Missing report format
  path = "reports/run.dat"
}

batch "b" {
  from = "news@acme.example"
  to   = "ann@example.com"
  text = "Hello"
}
